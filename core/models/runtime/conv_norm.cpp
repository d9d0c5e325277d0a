#include "models/runtime/conv_norm.h"

#include <ATen/ATen.h>

#include <atomic>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/conv_norm_gelu_kernel.h"
#include "models/runtime/cuda/depthwise_norm_kernel.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {
std::atomic<bool> enabled{false};  // GpuSwitches::conv_norm_kernels

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
// Half precision on the GPU, the switch on, the convolution's bias and the norm's parameters
// there: what both kernels need before their own sizes.
bool kernel_applies(const at::Tensor& x, const Conv2d& conv, const LayerNorm2d& norm) {
    const at::ScalarType type = x.scalar_type();
    return enabled.load() && x.is_cuda() && x.dim() == 4 &&
           (type == at::kBFloat16 || type == at::kHalf) && conv.weight.dim() == 4 &&
           conv.weight.scalar_type() == type && conv.bias.defined() && norm.weight.defined() &&
           norm.bias.defined() && conv.bias.numel() == conv.weight.size(0) &&
           norm.weight.numel() == conv.weight.size(0) && norm.bias.numel() == conv.weight.size(0);
}

// The convolution's bias and the norm's parameters in the map's type, as the kernels read them
// (no copies when they already are).
struct KernelParameters {
    at::Tensor bias, norm_weight, norm_bias;
    KernelParameters(const Conv2d& conv, const LayerNorm2d& norm, at::ScalarType type)
        : bias(conv.bias.to(type).contiguous()),
          norm_weight(norm.weight.to(type).contiguous()),
          norm_bias(norm.bias.to(type).contiguous()) {}
};
#endif
}  // namespace

void set_conv_norm_kernels(bool on) {
    enabled = on;
}

at::Tensor conv_norm_gelu(const at::Tensor& x, const Conv2d& conv, const LayerNorm2d& norm) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (!kernel_applies(x, conv, norm) || conv.groups != 1) return at::Tensor();
    const at::ScalarType type = x.scalar_type();
    // As laid out at load (SAM 2 keeps NCHW weights); a copy only if they were not contiguous.
    const at::Tensor w = conv.weight.contiguous();
    const int64_t in = x.size(1), out = w.size(0);
    const cuda::ElementType element = cuda_element_type(type);
    if (!cuda::conv_norm_gelu_supported(in, out, element) || w.size(1) != in || w.size(2) != 3 ||
        w.size(3) != 3)
        return at::Tensor();
    // Channels last and contiguous as such (one channel: any contiguous map).
    const at::Tensor last = x.permute({0, 2, 3, 1});
    if (!last.is_contiguous()) return at::Tensor();
    const int64_t H = x.size(2), W = x.size(3);
    const int64_t Ho = (H + 2 * conv.padding - 3) / conv.stride + 1;
    const int64_t Wo = (W + 2 * conv.padding - 3) / conv.stride + 1;
    const KernelParameters p(conv, norm, type);
    at::Tensor y = at::empty({x.size(0), Ho, Wo, out}, x.options());
    cuda::ConvNormGeluArgs args;
    args.x = last.data_ptr();
    args.weight = w.data_ptr();
    args.bias = p.bias.data_ptr();
    args.norm_weight = p.norm_weight.data_ptr();
    args.norm_bias = p.norm_bias.data_ptr();
    args.y = y.data_ptr();
    args.batch = x.size(0), args.height = H, args.width = W, args.out_height = Ho;
    args.out_width = Wo, args.in_channels = in, args.out_channels = out;
    args.stride = conv.stride, args.padding = conv.padding;
    args.eps = static_cast<float>(norm.eps);
    check_launch(cuda::conv_norm_gelu(args, element, stream_of(x)), "convolution, norm and GELU");
    return y;
#else
    (void)x, (void)conv, (void)norm;
    return at::Tensor();
#endif
}

at::Tensor depthwise_conv_norm(const at::Tensor& x, const Conv2d& conv, const LayerNorm2d& norm) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (!kernel_applies(x, conv, norm)) return at::Tensor();
    const at::ScalarType type = x.scalar_type();
    const at::Tensor w = conv.weight.contiguous();
    const int64_t C = x.size(1), k = w.size(2);
    const cuda::ElementType element = cuda_element_type(type);
    if (!cuda::depthwise_norm_supported(C, k, element) || conv.groups != C || w.size(0) != C ||
        w.size(1) != 1 || w.size(3) != k || conv.stride != 1 || conv.padding != k / 2)
        return at::Tensor();
    const KernelParameters p(conv, norm, type);
    at::Tensor y = at::empty({x.size(0), x.size(2), x.size(3), C}, x.options());
    cuda::DepthwiseNormArgs args;
    args.x = x.data_ptr();
    args.stride_b = x.stride(0), args.stride_c = x.stride(1), args.stride_h = x.stride(2);
    args.stride_w = x.stride(3);
    args.weight = w.data_ptr();
    args.bias = p.bias.data_ptr();
    args.norm_weight = p.norm_weight.data_ptr();
    args.norm_bias = p.norm_bias.data_ptr();
    args.y = y.data_ptr();
    args.batch = x.size(0), args.channels = C, args.height = x.size(2), args.width = x.size(3);
    args.kernel = k;
    args.eps = static_cast<float>(norm.eps);
    check_launch(cuda::depthwise_norm(args, element, stream_of(x)),
                 "depthwise convolution and norm");
    return y;
#else
    (void)x, (void)conv, (void)norm;
    return at::Tensor();
#endif
}

}  // namespace ps::runtime
