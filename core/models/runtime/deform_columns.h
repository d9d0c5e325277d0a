// The pixel-major deformable im2col on the CPU: the twin of the CUDA kernel
// cuda::deform_im2col_pixels, unit for unit through the same index arithmetic
// (cuda/deform_pixel_indexing.h), so that CPU tests check the GPU's indexing; deform_conv2d runs
// it for channels-last maps on the CPU.
#pragma once

#include "models/runtime/cuda/deform_pixel_indexing.h"

namespace ps::runtime {

// input: height x width x channels; offset, mask (or null: all ones) at the geometry's strides;
// columns: count x (taps x channels). F = float or double, sampled in F.
template <typename F>
void deform_im2col_pixels_cpu(const F* input, const F* offset, const F* mask, F* columns,
                              const cuda::DeformPixelGeometry& geometry);

}  // namespace ps::runtime
