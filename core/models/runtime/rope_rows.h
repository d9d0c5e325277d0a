// Rotary position encoding (SAM 2's axial RoPE) through our one-pass kernel (cuda/rope_kernel.h)
// on the GPU in half precision.
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// x: B x H x T x D (D contiguous); freqs: grid x D/2 complex64 on x's device. A contiguous
// B x H x T x D whose first `rotated` tokens are x * freqs[t % grid] per complex pair (float32,
// rounded once) and whose others are x's; undefined where the kernel does not apply (CPU, float32,
// other layouts, a build without our kernels): then the caller's complex product.
at::Tensor rope_rotate_rows(const at::Tensor& x, const at::Tensor& freqs, int64_t rotated);

}  // namespace ps::runtime
