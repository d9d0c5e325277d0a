// Attention computed over parts of its keys, merged into the attention over all of them: the
// parts' outputs weighted by the softmax of their log-sum-exps, in one pass on the GPU. SAM 2's
// split memory attention merged its 7 memory frames and the pointer tokens through seven ATen
// kernels a layer (a widening copy, two concatenations, the softmax, the product, the sum and the
// narrowing copy). Plain C++ interface (no ATen) so that nvcc compiles only this .cu file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct AttentionMergeArgs {
    // parts x tokens x dim of the element type, dim contiguous; strides in elements (multiples of
    // 8), and their log-sum-exps, parts x tokens float32, contiguous.
    const void* parts = nullptr;
    int64_t stride_part = 0, stride_token = 0;
    const float* lse = nullptr;
    // Optional: one more part in float32, tokens x dim and tokens, contiguous (or null).
    const float* extra = nullptr;
    const float* extra_lse = nullptr;
    // tokens x dim of the element type, contiguous.
    void* out = nullptr;
    int64_t count = 0, tokens = 0, dim = 0;
};

// Half precision (F16, BF16), dim a multiple of 8, 1 to 32 parts.
bool attention_merge_supported(int64_t count, int64_t dim, ElementType type);

// out = sum_p exp(lse_p - m) part_p / sum_p exp(lse_p - m), m the largest lse, in float32.
cudaError_t attention_merge(const AttentionMergeArgs& args, ElementType type, cudaStream_t stream);

}  // namespace ps::runtime::cuda
