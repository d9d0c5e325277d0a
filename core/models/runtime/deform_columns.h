// The pixel-major deformable im2col on the CPU: the twin of the CUDA kernel
// cuda::deform_im2col_pixels, unit for unit through the same index arithmetic
// (cuda/deform_pixel_indexing.h), so that CPU tests check the GPU's indexing; deform_conv2d runs
// it for channels-last maps on the CPU.
#pragma once

#include "models/runtime/cuda/deform_pixel_indexing.h"

namespace ps::runtime {

// input: height x width x channels; offset, mask (or null: all ones) at the geometry's strides;
// offset_bias (per offset channel) and mask_bias (per mask channel) added to them, or null;
// columns: count x (taps x channels). F = float or double, sampled in F.
template <typename F>
void deform_im2col_pixels_cpu(const F* input, const F* offset, const F* mask, const F* offset_bias,
                              const F* mask_bias, F* columns,
                              const cuda::DeformPixelGeometry& geometry);

}  // namespace ps::runtime
