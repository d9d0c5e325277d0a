// Layout kernels around SAM ViT attention on the GPU. Plain C++ interface (no ATen) so that nvcc
// compiles only this folder's .cu file and nothing of torch.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace ps::sam::cuda {

enum class ElementType { F32, F16, BF16 };

// Cuts the qkv projection of every token into attention rows per (window, head), padding the
// windows with tokens whose q, k, v are the qkv bias (the reference pads the normalised input
// with zeros before the projection), and folds SAM's decomposed relative positions into the
// rows: q' = [scale q, q.rel_h[i, :], q.rel_w[j, :], 0...], k' = [k, onehot(i), onehot(j), 0...]
// for a token at row i, column j of its window, so that q'.k' = scale q.k + rel_h + rel_w.
struct SplitQkvArgs {
    const void* qkv = nullptr;    // batch x height x width x (3 x heads x head_dim), contiguous
    const void* bias = nullptr;   // 3 x heads x head_dim, or null (zeros)
    const void* rel_h = nullptr;  // span_h x table_rows_h x head_dim: rel_h[i][kh], rows >= span
    const void* rel_w = nullptr;  // span_w x table_rows_w x head_dim (rows past the span: zeros)
    int64_t table_rows_h = 0, table_rows_w = 0;
    void* q_ext = nullptr;  // (windows x heads) x (span_h x span_w) x ext_dim
    void* k_ext = nullptr;  // same
    void* v = nullptr;      // (windows x heads) x (span_h x span_w) x head_dim
    int64_t batch = 0, height = 0, width = 0;
    int64_t span_h = 0, span_w = 0;  // window size; the whole grid for global attention
    int64_t heads = 0, head_dim = 0, ext_dim = 0;
    float scale = 1.f;
};
cudaError_t split_qkv_rel_pos(const SplitQkvArgs& args, ElementType type, cudaStream_t stream);

// The inverse for the attention output: rows per (window, head) back to batch x height x width
// x (heads x head_dim), dropping the padding tokens.
struct MergeArgs {
    const void* attn = nullptr;  // (windows x heads) x tokens x head_dim, last dim contiguous
    int64_t stride_row = 0;      // elements between (window, head) rows
    int64_t stride_token = 0;    // elements between tokens
    void* out = nullptr;         // batch x height x width x (heads x head_dim), contiguous
    int64_t batch = 0, height = 0, width = 0, span_h = 0, span_w = 0, heads = 0, head_dim = 0;
};
cudaError_t merge_window_heads(const MergeArgs& args, ElementType type, cudaStream_t stream);

}  // namespace ps::sam::cuda
