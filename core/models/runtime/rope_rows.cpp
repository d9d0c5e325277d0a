#include "models/runtime/rope_rows.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/rope_kernel.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {

at::Tensor rope_rotate_rows(const at::Tensor& x, const at::Tensor& freqs, int64_t rotated) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = x.scalar_type();
    if (!x.is_cuda() || x.dim() != 4 || (type != at::kBFloat16 && type != at::kHalf) ||
        x.stride(3) != 1 || !freqs.is_cuda() || freqs.device() != x.device() ||
        freqs.scalar_type() != at::kComplexFloat || !freqs.is_contiguous() || freqs.dim() != 2 ||
        freqs.size(1) * 2 != x.size(3) || rotated < 0 || rotated > x.size(2) ||
        reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 != 0)
        return at::Tensor();
    const cuda::ElementType element = cuda_element_type(type);
    cuda::RopeRowsArgs args;
    args.stride_b = x.stride(0), args.stride_h = x.stride(1), args.stride_t = x.stride(2);
    if (!cuda::rope_rows_supported(x.size(3), element) || args.stride_b % 8 != 0 ||
        args.stride_h % 8 != 0 || args.stride_t % 8 != 0)
        return at::Tensor();
    at::Tensor out = at::empty(x.sizes(), x.options());
    args.x = x.data_ptr();
    args.y = out.data_ptr();
    args.freqs = freqs.data_ptr();
    args.batch = x.size(0), args.heads = x.size(1), args.tokens = x.size(2), args.dim = x.size(3);
    args.grid = freqs.size(0), args.rotated = rotated;
    check_launch(cuda::rope_rows(args, element, stream_of(x)), "rotary encoding");
    return out;
#else
    (void)x, (void)freqs, (void)rotated;
    return at::Tensor();
#endif
}

}  // namespace ps::runtime
