// Convolutions and the LayerNorm2d after them in one kernel of ours each on the GPU in half
// precision: SAM 2's memory encoder. A narrow 3 x 3 convolution, the norm and GELU
// (cuda/conv_norm_gelu_kernel.h: the mask downsampler's stages up to 64 channels); a depthwise
// convolution and the norm (cuda/depthwise_norm_kernel.h: the fuser's ConvNeXt blocks).
#pragma once

#include <ATen/core/Tensor.h>

#include "models/runtime/layers.h"

namespace ps::runtime {

// gelu(norm.channels_last(conv(x))) for an N x C x H x W map x stored channels last (or of one
// channel), returned channels last (N x H' x W' x C', contiguous); undefined where the kernel does
// not apply (switched off, CPU, float32, other channel counts or kernel sizes, grouped or
// bias-less convolutions, a build without our kernels): then the caller's three operators.
at::Tensor conv_norm_gelu(const at::Tensor& x, const Conv2d& conv, const LayerNorm2d& norm);

// norm.channels_last(conv(x)) for a depthwise convolution (groups = channels, stride 1, padding
// k / 2, k = 3, 5 or 7) of an N x C x H x W map at any strides, returned channels last (N x H x W x
// C, contiguous); undefined where the kernel does not apply (as above; C a multiple of 32 up to
// 256).
at::Tensor depthwise_conv_norm(const at::Tensor& x, const Conv2d& conv, const LayerNorm2d& norm);

// Both kernels, process-wide, off by default until their CUDA rows have run on a GPU; set by the
// engine (GpuSwitches::conv_norm_kernels, PHOTOSYNTH_CONV_NORM_KERNELS=1 turns them on).
void set_conv_norm_kernels(bool enabled);

}  // namespace ps::runtime
