#include "models/runtime/row_layer_norm.h"

#include <ATen/ATen.h>

#include <atomic>
#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/channel_norm_kernel.h"
#include "models/runtime/cuda/layer_norm_kernel.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {

std::atomic<bool> enabled{true};  // GpuSwitches::layer_norm_kernel

}  // namespace

void set_layer_norm_kernel(bool on) {
    enabled = on;
}

at::Tensor layer_norm_rows(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           double eps) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = x.scalar_type();
    if (!enabled.load() || !x.is_cuda() || x.dim() < 1 ||
        (type != at::kBFloat16 && type != at::kHalf) || !weight.defined() || !bias.defined())
        return at::Tensor();
    const int64_t channels = x.size(-1);
    const cuda::ElementType element = cuda_element_type(type);
    if (!cuda::layer_norm_rows_supported(channels, element) || weight.numel() != channels ||
        bias.numel() != channels)
        return at::Tensor();
    const at::Tensor input = x.contiguous();
    const at::Tensor w = weight.to(type).contiguous(), b = bias.to(type).contiguous();
    at::Tensor out = at::empty_like(input);
    check_launch(cuda::layer_norm_rows(input.data_ptr(), w.data_ptr(), b.data_ptr(), out.data_ptr(),
                                       input.numel() / channels, channels, static_cast<float>(eps),
                                       element, stream_of(x)),
                 "layer norm");
    return out;
#else
    (void)x, (void)weight, (void)bias, (void)eps;
    return at::Tensor();
#endif
}

at::Tensor layer_norm_channels(const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, double eps) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = x.scalar_type();
    if (!enabled.load() || !x.is_cuda() || x.dim() != 4 ||
        (type != at::kBFloat16 && type != at::kHalf) || !weight.defined() || !bias.defined())
        return at::Tensor();
    const int64_t channels = x.size(1);
    const cuda::ElementType element = cuda_element_type(type);
    if (!cuda::channel_norm_supported(channels, element) || weight.numel() != channels ||
        bias.numel() != channels)
        return at::Tensor();
    const at::Tensor last = x.permute({0, 2, 3, 1});
    if (channels > 64) return layer_norm_rows(last, weight, bias, eps);
    // Pixels must be one stride apart: NCHW with W contiguous rows (H x W as one index), or
    // channels last.
    int64_t pixel_stride = 0;
    if (x.stride(3) == 1 && x.stride(2) == x.size(3))
        pixel_stride = 1;
    else if (x.stride(1) == 1 && x.stride(3) == channels && x.stride(2) == channels * x.size(3))
        pixel_stride = channels;
    else
        return at::Tensor();
    const at::Tensor w = weight.to(type).contiguous(), b = bias.to(type).contiguous();
    at::Tensor out = at::empty(last.sizes(), x.options());
    cuda::ChannelNormArgs args;
    args.x = x.data_ptr();
    args.stride_b = x.stride(0), args.stride_c = x.stride(1), args.stride_p = pixel_stride;
    args.weight = w.data_ptr();
    args.bias = b.data_ptr();
    args.y = out.data_ptr();
    args.batch = x.size(0), args.channels = channels, args.pixels = x.size(2) * x.size(3);
    args.eps = static_cast<float>(eps);
    check_launch(cuda::channel_norm(args, element, stream_of(x)), "channel layer norm");
    return out;
#else
    (void)x, (void)weight, (void)bias, (void)eps;
    return at::Tensor();
#endif
}

}  // namespace ps::runtime
