// nn.LayerNorm over the last dimension of contiguous rows on the GPU in half precision, one warp a
// row: ATen's kernel runs a block a row, and on Hiera's and Swin's many narrow rows (65,536 rows of
// 96 channels at a 1024² input's first stage) its blocks mostly idle. Plain C++ interface (no
// ATen) so that nvcc compiles only this .cu file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

// Half precision (F16, BF16), channels a multiple of 8 up to 1024.
bool layer_norm_rows_supported(int64_t channels, ElementType type);

// y = (x - mean) / sqrt(var + eps) * weight + bias per row of `channels` values, mean and variance
// (the mean squared deviation) in float32, rounded once. x, y: rows x channels, contiguous;
// weight, bias: `channels` values of the element type. 16-byte aligned pointers.
cudaError_t layer_norm_rows(const void* x, const void* weight, const void* bias, void* y,
                            int64_t rows, int64_t channels, float eps, ElementType type,
                            cudaStream_t stream);

}  // namespace ps::runtime::cuda
