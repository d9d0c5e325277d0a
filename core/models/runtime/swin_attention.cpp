#include "models/runtime/swin_attention.h"

#include <ATen/ATen.h>

#include <atomic>
#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/swin_attention_kernel.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {
std::atomic<bool> kernel_enabled{true};  // GpuSwitches::swin_attention
std::atomic<bool> hiera_enabled{true};   // GpuSwitches::hiera_window_attention
}  // namespace

void set_hiera_window_attention(bool enabled) {
    hiera_enabled = enabled;
}

bool hiera_window_attention_enabled() {
    return hiera_enabled.load();
}

void set_swin_attention_kernel(bool enabled) {
    kernel_enabled = enabled;
}

bool swin_attention_kernel_enabled() {
    return kernel_enabled.load();
}

at::Tensor fused_window_attention(const at::Tensor& qkv, const at::Tensor& bias, int64_t heads) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = qkv.scalar_type();
    if (!kernel_enabled.load() || !qkv.is_cuda() || qkv.dim() != 3 || heads <= 0 ||
        qkv.size(2) % (3 * heads) != 0 || (type != at::kBFloat16 && type != at::kHalf))
        return at::Tensor();
    const int64_t windows = qkv.size(0), tokens = qkv.size(1), head_dim = qkv.size(2) / 3 / heads;
    const cuda::ElementType element = cuda_element_type(type);
    if (!cuda::swin_attention_supported(tokens, head_dim, element)) return at::Tensor();
    at::Tensor b;
    if (bias.defined()) {
        b = (bias.dim() == 3 ? bias.unsqueeze(0) : bias).to(type).contiguous();
        if (b.dim() != 4 || b.size(1) != heads || b.size(2) != tokens || b.size(3) != tokens ||
            windows % b.size(0) != 0 || !b.is_cuda())
            return at::Tensor();
    }
    const at::Tensor input = qkv.contiguous();
    at::Tensor out = at::empty({windows, tokens, heads * head_dim}, qkv.options());
    cuda::SwinAttentionArgs args;
    args.qkv = input.data_ptr();
    args.bias = b.defined() ? b.data_ptr() : nullptr;
    args.out = out.data_ptr();
    args.windows = windows;
    args.tokens = tokens;
    args.heads = heads;
    args.head_dim = head_dim;
    args.bias_windows = b.defined() ? b.size(0) : 1;
    check_launch(cuda::swin_window_attention(args, element, stream_of(qkv)), "window attention");
    return out;
#else
    (void)qkv, (void)bias, (void)heads;
    return at::Tensor();
#endif
}

}  // namespace ps::runtime
