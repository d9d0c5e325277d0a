// Swin-V1's window attention in one kernel on the GPU: per (window, head), softmax(q k^T / sqrt(d)
// + bias) v with the relative-position bias (and the shifted windows' mask) added to the scores,
// for half-precision heads of 32 channels. cuDNN's fused attention ran these 144-token windows at
// ~28 TFLOP/s on an H100 (3 ms of a 14.3 ms BiRefNet forward): its tiles are made for long
// sequences. Plain C++ interface (no ATen) so that nvcc compiles only this .cu file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct SwinAttentionArgs {
    // windows x tokens x 3 x heads x head_dim, contiguous: the qkv projection of every window.
    const void* qkv = nullptr;
    // bias_windows x heads x tokens x tokens, contiguous; window w reads bias w % bias_windows
    // (1: the relative positions alone; the shifted blocks' nW: one per window of an image).
    // Null: no bias (Hiera's windows).
    const void* bias = nullptr;
    // windows x tokens x heads x head_dim, contiguous: the heads side by side, as the output
    // projection reads them.
    void* out = nullptr;
    int64_t windows = 0, tokens = 0, heads = 0, head_dim = 0, bias_windows = 1;
};

// Whether the kernel takes these sizes, half precision (F16 or BF16): head_dim 32 up to 144 tokens
// (Swin's 12 x 12 windows; 7 x 7 ones run in a 64-token tile); head_dim 40 to 96, a multiple of 8,
// up to 64 tokens (Hiera's 8 x 8, 4 x 4 and 7 x 7 windows).
bool swin_attention_supported(int64_t tokens, int64_t head_dim, ElementType type);

cudaError_t swin_window_attention(const SwinAttentionArgs& args, ElementType type,
                                  cudaStream_t stream);

}  // namespace ps::runtime::cuda
