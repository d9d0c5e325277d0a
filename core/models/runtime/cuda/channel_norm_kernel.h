// LayerNorm2d (a LayerNorm over the channels of every pixel) of a half-precision NCHW map on the
// GPU, one thread a pixel, written channels last. ATen's layer norm needs the channels last and
// contiguous first (a copy) and runs a block a pixel: SAM 2's mask downsampler normalises 4
// channels at each of 512 x 512 pixels, 16 at 256 x 256 and so on, and each call took ~60 us on an
// H100 (17 a tracked frame). Plain C++ interface (no ATen) so that nvcc compiles only this file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct ChannelNormArgs {
    // batch x channels x pixels, any strides in elements (NCHW contiguous: channels H x W apart,
    // pixels 1; channels last: 1 and C).
    const void* x = nullptr;
    int64_t stride_b = 0, stride_c = 0, stride_p = 0;
    const void* weight = nullptr;  // channels values of the element type
    const void* bias = nullptr;
    // batch x pixels x channels, contiguous, 16-byte aligned.
    void* y = nullptr;
    int64_t batch = 0, channels = 0, pixels = 0;
    float eps = 1e-6f;
};

// Half precision (F16, BF16), channels a multiple of 4 up to 1024.
bool channel_norm_supported(int64_t channels, ElementType type);

// Mean and variance (the mean squared deviation) of each pixel's channels in float32, the output
// rounded once, as at::layer_norm over the channels.
cudaError_t channel_norm(const ChannelNormArgs& args, ElementType type, cudaStream_t stream);

}  // namespace ps::runtime::cuda
