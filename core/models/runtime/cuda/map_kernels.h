// Channels-last feature-map kernels for the decoders of ISNet and BiRefNet: bilinear resizing
// written straight into a channel slice of a concatenation (or added to another map), and the
// 2 x 2 ceil-mode max pool. ATen runs each resize, concatenation and add as its own pass over
// memory, and its NHWC resize and pool kernels work one channel per thread, which for the 16..64
// channels of these decoders leaves most of each memory transaction unused. Plain C++ interface
// (no ATen) so that nvcc compiles only this .cu file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

// One input of resize_concat: batch x height x width x channels, contiguous (a channels-last
// map), resized bilinearly to the output's size as F.interpolate(mode='bilinear') does, or copied
// where it already has that size.
struct MapPart {
    const void* data = nullptr;
    int64_t height = 0, width = 0, channels = 0;
    bool align_corners = false;
};

constexpr int kMaxMapParts = 8;

// out: batch x height x width x (sum of the parts' channels), contiguous; the parts' channels
// follow one another in order, as torch.cat(dim=1) puts them. Interpolation in float32, each
// value rounded once to the element type (ATen's upsample_bilinear2d_nhwc_out_frame).
cudaError_t resize_concat(const MapPart* parts, int count, int64_t batch, int64_t height,
                          int64_t width, void* out, ElementType type, cudaStream_t stream);

// out = resize(part) + addend, with the resize rounded to the element type before the add in
// float32 (what F.interpolate followed by + computes). addend and out: batch x height x width x
// part.channels, contiguous.
cudaError_t resize_add(const MapPart& part, const void* addend, int64_t batch, int64_t height,
                       int64_t width, void* out, ElementType type, cudaStream_t stream);

// F.max_pool2d(kernel 2, stride 2, ceil_mode=True) of batch x height x width x channels,
// contiguous, into batch x ceil(height/2) x ceil(width/2) x channels; NaN propagates as in ATen.
cudaError_t max_pool_2x2_ceil(const void* in, void* out, int64_t batch, int64_t height,
                              int64_t width, int64_t channels, ElementType type,
                              cudaStream_t stream);

}  // namespace ps::runtime::cuda
