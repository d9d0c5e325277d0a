// Rotary position encoding of half-precision rows on the GPU in one pass: SAM 2's memory attention
// rotated each layer's keys (7 memory frames x 4096 tokens x 256 channels an object at 1024²)
// through float32 complex tensors: a widening copy, a contiguous copy, the complex product, the
// narrowing copy and a concatenation with the unrotated pointer tokens, five passes over up to
// 30 MB each. Plain C++ interface (no ATen) so that nvcc compiles only this .cu file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct RopeRowsArgs {
    // B x H x T x D, D contiguous; strides in elements, multiples of 8 (16-byte packs).
    const void* x = nullptr;
    int64_t stride_b = 0, stride_h = 0, stride_t = 0;
    // B x H x T x D, contiguous.
    void* y = nullptr;
    // grid x D/2 complex pairs (cos, sin) as float32, contiguous: row t of a frame takes row
    // t % grid.
    const void* freqs = nullptr;
    int64_t batch = 0, heads = 0, tokens = 0, dim = 0, grid = 0;
    // The first `rotated` tokens are rotated, the rest copied as they are.
    int64_t rotated = 0;
};

// Half precision (F16, BF16), D a multiple of 8.
bool rope_rows_supported(int64_t dim, ElementType type);

// y = x * freqs per complex pair (x[2i] + i x[2i+1]), computed in float32 and rounded once, as
// the reference's view_as_complex product.
cudaError_t rope_rows(const RopeRowsArgs& args, ElementType type, cudaStream_t stream);

}  // namespace ps::runtime::cuda
