#include "models/runtime/row_layer_norm.h"

#include <ATen/ATen.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>

#include "models/runtime/cuda/layer_norm_kernel.h"
#include "models/runtime/cuda_element_type.h"
#endif

namespace ps::runtime {
namespace {

std::atomic<bool>& enabled() {
    static std::atomic<bool> on{[] {
        const char* value = std::getenv("PHOTOSYNTH_LAYER_NORM_KERNEL");
        return value != nullptr && std::strcmp(value, "1") == 0;
    }()};
    return on;
}

}  // namespace

void set_layer_norm_kernel(bool on) {
    enabled() = on;
}

at::Tensor layer_norm_rows(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           double eps) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = x.scalar_type();
    if (!enabled().load() || !x.is_cuda() || x.dim() < 1 ||
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
    const cudaError_t status =
        cuda::layer_norm_rows(input.data_ptr(), w.data_ptr(), b.data_ptr(), out.data_ptr(),
                              input.numel() / channels, channels, static_cast<float>(eps), element,
                              c10::cuda::getCurrentCUDAStream(x.device().index()).stream());
    if (status != cudaSuccess)
        throw std::runtime_error(std::string("layer norm: ") + cudaGetErrorString(status));
    return out;
#else
    (void)x, (void)weight, (void)bias, (void)eps;
    return at::Tensor();
#endif
}

}  // namespace ps::runtime
