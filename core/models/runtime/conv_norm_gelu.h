// A narrow 3 x 3 convolution, LayerNorm2d and GELU in one kernel of ours on the GPU in half
// precision (cuda/conv_norm_gelu_kernel.h): SAM 2's mask downsampler stages up to 64 channels.
#pragma once

#include <ATen/core/Tensor.h>

#include "models/runtime/layers.h"

namespace ps::runtime {

// gelu(norm.channels_last(conv(x))) for an N x C x H x W map x stored channels last (or of one
// channel), returned channels last (N x H' x W' x C', contiguous); undefined where the kernel does
// not apply (switched off, CPU, float32, other channel counts or kernel sizes, grouped or
// bias-less convolutions, a build without our kernels): then the caller's three operators.
at::Tensor conv_norm_gelu(const at::Tensor& x, const Conv2d& conv, const LayerNorm2d& norm);

// Process-wide, on by default; set by the engine (GpuSwitches::conv_norm_gelu,
// PHOTOSYNTH_CONV_NORM_GELU=0 turns it off).
void set_conv_norm_gelu_kernel(bool enabled);

}  // namespace ps::runtime
