#include "models/runtime/attention_merge.h"

#include <ATen/ATen.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/attention_merge_kernel.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {

std::atomic<bool> enabled{true};  // GpuSwitches::attention_merge_kernel

}  // namespace

void set_attention_merge_kernel(bool on) {
    enabled = on;
}

at::Tensor merge_attention_parts(const at::Tensor& parts, const at::Tensor& lse,
                                 const at::Tensor& extra, const at::Tensor& extra_lse) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = parts.scalar_type();
    if (!enabled.load() || !parts.is_cuda() || parts.dim() != 3 || parts.stride(2) != 1 ||
        (type != at::kBFloat16 && type != at::kHalf) ||
        reinterpret_cast<uintptr_t>(parts.data_ptr()) % 16 != 0)
        return at::Tensor();
    const int64_t P = parts.size(0), N = parts.size(1), D = parts.size(2);
    const auto float_on_device = [&](const at::Tensor& t, std::initializer_list<int64_t> sizes) {
        return t.defined() && t.device() == parts.device() && t.scalar_type() == at::kFloat &&
               t.is_contiguous() && t.sizes() == at::IntArrayRef(sizes) &&
               reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
    };
    if (!float_on_device(lse, {P, N}) || extra.defined() != extra_lse.defined() ||
        (extra.defined() && (!float_on_device(extra, {N, D}) || !float_on_device(extra_lse, {N}))))
        return at::Tensor();
    const cuda::ElementType element = cuda_element_type(type);
    if (!cuda::attention_merge_supported(P, D, element) || parts.stride(0) % 8 != 0 ||
        parts.stride(1) % 8 != 0)
        return at::Tensor();
    at::Tensor out = at::empty({N, D}, parts.options());
    cuda::AttentionMergeArgs args;
    args.parts = parts.data_ptr();
    args.stride_part = parts.stride(0), args.stride_token = parts.stride(1);
    args.lse = lse.data_ptr<float>();
    args.extra = extra.defined() ? extra.data_ptr<float>() : nullptr;
    args.extra_lse = extra_lse.defined() ? extra_lse.data_ptr<float>() : nullptr;
    args.out = out.data_ptr();
    args.count = P, args.tokens = N, args.dim = D;
    check_launch(cuda::attention_merge(args, element, stream_of(parts)), "attention merge");
    return out;
#else
    (void)parts, (void)lse, (void)extra, (void)extra_lse;
    return at::Tensor();
#endif
}

}  // namespace ps::runtime
