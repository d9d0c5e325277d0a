// nn.LayerNorm over the last dimension through our one-warp-a-row kernel
// (cuda/layer_norm_kernel.h) on the GPU in half precision. Opt-in while it has not run on the GPU:
// PHOTOSYNTH_LAYER_NORM_KERNEL=1 (read once; to become an engine GpuSwitch, on by default, once
// test_layers' CUDA rows and a bench have passed on the GPU machine).
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// at::layer_norm(x, {C}, weight, bias, eps) for x ... x C, or undefined where the kernel does not
// apply (switched off, CPU, float32, C not a multiple of 8 up to 1024, a build without our
// kernels): then the caller's at::layer_norm.
at::Tensor layer_norm_rows(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           double eps);

// Overrides the environment (tests).
void set_layer_norm_kernel(bool enabled);

}  // namespace ps::runtime
