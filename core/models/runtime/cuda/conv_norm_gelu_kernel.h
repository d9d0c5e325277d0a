// A narrow 3 x 3 convolution, LayerNorm2d over its output channels and GELU in one kernel on the
// GPU, one thread an output pixel: SAM 2's mask downsampler (1 -> 4 channels at 512 x 512 pixels,
// 4 -> 16 at 256 x 256, 16 -> 64 at 128 x 128 for a 1024² mask). cuDNN ran the first of these in
// its legacy implicit GEMM (~0.13 ms a tracked frame on an H100, a GEMM of 4 columns), and each
// stage wrote and reread its map twice more for the norm and the GELU. Plain C++ interface (no
// ATen) so that nvcc compiles only this file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct ConvNormGeluArgs {
    // batch x height x width x in_channels, contiguous (channels last; one channel: NCHW too).
    const void* x = nullptr;
    // out_channels x in_channels x 3 x 3, out_channels, and the norm's out_channels each:
    // contiguous values of the element type.
    const void* weight = nullptr;
    const void* bias = nullptr;
    const void* norm_weight = nullptr;
    const void* norm_bias = nullptr;
    // batch x out_height x out_width x out_channels, contiguous, 8-byte aligned.
    void* y = nullptr;
    int64_t batch = 0, height = 0, width = 0, out_height = 0, out_width = 0;
    int64_t in_channels = 0, out_channels = 0, stride = 1, padding = 0;
    float eps = 1e-6f;
};

// Half precision (F16, BF16); in -> out channels 1 -> 4, 4 -> 16 or 16 -> 64 (the mask
// downsampler's stages up to 64 channels).
bool conv_norm_gelu_supported(int64_t in_channels, int64_t out_channels, ElementType type);

// The convolution accumulated in float32 and rounded to the element type, the norm over those
// rounded values (float32 mean and variance) rounded again, then GELU (erf) rounded: the roundings
// of cuDNN's convolution, at::layer_norm and at::gelu one after the other.
cudaError_t conv_norm_gelu(const ConvNormGeluArgs& args, ElementType type, cudaStream_t stream);

}  // namespace ps::runtime::cuda
