// Swin-V1's window layout around each block's attention (swin_v1.py's SwinTransformerBlock):
// norm1, padding to whole windows, the cyclic shift and the partition before it; the reverse,
// the shift back, the crop, the residual add and norm2 after it. On CUDA each side is one fused
// kernel (cuda/swin_window_kernels.h); elsewhere ATen's composition, op for op as the reference.
// The kernels' CPU twins (*_twin) run the kernels' own index arithmetic and per-token
// normalisation on the CPU, for tests.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "models/runtime/layers.h"

namespace ps::runtime {

// B x H x W x C (H, W multiples of w) -> (B * nW) x w² x C, windows in row-major order
// (window_partition), and back (window_reverse).
at::Tensor swin_window_partition(const at::Tensor& x, int64_t window);
at::Tensor swin_window_reverse(const at::Tensor& windows, int64_t window, int64_t B, int64_t H,
                               int64_t W);

// norm(x) (x: B x H x W x C, contiguous) padded with zeros at the bottom and right to multiples of
// `window`, rolled by -shift on both axes, partitioned: (B * nW) x w² x C.
at::Tensor swin_norm_partition(const at::Tensor& x, const LayerNorm& norm, int64_t window,
                               int64_t shift);

// sum = x + `windows` ((B * nW) x w² x C) reversed, rolled by +shift and cropped to x's size;
// normed = norm(sum). With `sum_bias` (C values) the returned sum has it added after the norm
// read it: the next product's bias, for Linear::flat_onto.
struct SwinResidual {
    at::Tensor sum, normed;
};
SwinResidual swin_merge_add_norm(const at::Tensor& windows, const at::Tensor& x,
                                 const LayerNorm& norm, int64_t window, int64_t shift,
                                 const at::Tensor& sum_bias = {});

// The CUDA kernels' CPU twins, on CPU tensors of float or double (the norm's too), computed in
// that precision. Throws std::invalid_argument for other tensors.
at::Tensor swin_norm_partition_twin(const at::Tensor& x, const LayerNorm& norm, int64_t window,
                                    int64_t shift);
SwinResidual swin_merge_add_norm_twin(const at::Tensor& windows, const at::Tensor& x,
                                      const LayerNorm& norm, int64_t window, int64_t shift);

}  // namespace ps::runtime
