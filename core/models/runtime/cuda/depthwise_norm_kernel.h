// A depthwise k x k convolution (stride 1, padding k / 2) and LayerNorm2d over its output channels
// in one kernel on the GPU, written channels last: SAM 2's memory fuser (ConvNeXt blocks: a 7 x 7
// depthwise convolution over 256 channels at 64 x 64, then the norm). cuDNN's grouped direct
// kernel took ~57 us a call on an H100 (two a tracked frame and object), and the norm needed the
// map laid out channels last first. Plain C++ interface (no ATen) so that nvcc compiles only this
// file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct DepthwiseNormArgs {
    // batch x channels x height x width at any strides in elements (NCHW: width fastest).
    const void* x = nullptr;
    int64_t stride_b = 0, stride_c = 0, stride_h = 0, stride_w = 0;
    // channels x 1 x kernel x kernel, channels, and the norm's channels each: contiguous values
    // of the element type.
    const void* weight = nullptr;
    const void* bias = nullptr;
    const void* norm_weight = nullptr;
    const void* norm_bias = nullptr;
    // batch x height x width x channels, contiguous, 16-byte aligned.
    void* y = nullptr;
    int64_t batch = 0, channels = 0, height = 0, width = 0, kernel = 0;
    float eps = 1e-6f;
};

// Half precision (F16, BF16), channels a multiple of 32 up to 256, kernel 3, 5 or 7.
bool depthwise_norm_supported(int64_t channels, int64_t kernel, ElementType type);

// The convolution accumulated in float32 and rounded to the element type, then the norm over
// those rounded values (float32 mean and variance), rounded once more: the roundings of cuDNN's
// convolution and at::layer_norm one after the other.
cudaError_t depthwise_norm(const DepthwiseNormArgs& args, ElementType type, cudaStream_t stream);

}  // namespace ps::runtime::cuda
