// LayerNorm through our kernels on the GPU in half precision: nn.LayerNorm over the last dimension
// one warp a row (cuda/layer_norm_kernel.h), LayerNorm2d over a map's channels one thread a pixel
// (cuda/channel_norm_kernel.h). ATen's runs a block a row: Hiera's first stage is 65,536 rows of
// 96 channels (~20 us a call on an H100), SAM 2's mask downsampler 262,144 pixels of 4 channels.
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// at::layer_norm(x, {C}, weight, bias, eps) for x ... x C, or undefined where the kernel does not
// apply (switched off, CPU, float32, C not a multiple of 8 up to 1024, a build without our
// kernels): then the caller's at::layer_norm.
at::Tensor layer_norm_rows(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           double eps);

// LayerNorm2d's normalisation of an N x C x H x W map over its channels, returned channels last
// (N x H x W x C, contiguous) as at::layer_norm(x.permute({0, 2, 3, 1}), ...) gives it; undefined
// where our kernels do not apply (as above; C a multiple of 4 up to 1024). Up to 64 channels one
// thread a pixel reads x where it lies (cuda/channel_norm_kernel.h); wider ones are laid out
// channels last first, then one warp a row.
at::Tensor layer_norm_channels(const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, double eps);

// Process-wide, on by default; set by the engine (GpuSwitches::layer_norm_kernel,
// PHOTOSYNTH_LAYER_NORM_KERNEL=0 turns it off).
void set_layer_norm_kernel(bool enabled);

}  // namespace ps::runtime
