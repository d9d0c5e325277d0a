// GPU fast path for SAM's ViT attention in half precision: the qkv rows are cut into windows and
// extended with the relative positions by one kernel (cuda/vit_window_kernels.cu), attention is
// one fused call with a head dimension of head_dim + span_h + span_w, and a second kernel puts
// the output back on the token grid. Numerically this is the reference's windowed attention with
// the decomposed relative-position bias (see image_encoder_vit.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ps::sam {

struct WindowAttentionRows {
    at::Tensor q, k, v;  // (windows x heads) x (span_h x span_w) x {ext, ext, head_dim}
};

// Whether this build has the kernels (a CUDA toolkit was found and a GPU answers).
bool window_kernels_compiled();

// window_kernels_compiled() and `like` can use them: a CUDA tensor of half precision. (Whether
// they are wanted is SamConfig::window_kernels.)
bool window_kernels_usable(const at::Tensor& like);

// qkv: batch x height x width x (3 x heads x head_dim) from the qkv projection of the unpadded
// grid. Windows of span_h x span_w (the whole grid for global attention); padding tokens take
// the projection of zeros, which is `bias` (may be undefined). rel_h: span_h x R x head_dim as
// gathered by get_rel_pos (R = span_h), or with its rows zero-padded by pad_rel_table once at
// load (otherwise every call pads them), likewise rel_w.
WindowAttentionRows split_qkv_rel_pos(const at::Tensor& qkv, const at::Tensor& bias,
                                      const at::Tensor& rel_h, const at::Tensor& rel_w,
                                      int64_t heads, int64_t span_h, int64_t span_w, double scale);

// A gathered table span x span x head_dim with zero rows appended to a multiple of 16 per
// query position: the tensor-core tiles of the split kernel read whole 16-row tiles.
at::Tensor pad_rel_table(const at::Tensor& table);

// attn: (windows x heads) x tokens x head_dim -> batch x height x width x (heads x head_dim).
at::Tensor merge_window_heads(const at::Tensor& attn, int64_t batch, int64_t height, int64_t width,
                              int64_t heads, int64_t span_h, int64_t span_w);

// The extended row length: head_dim + span_h + span_w rounded up to 8 (fused kernels want it).
inline int64_t extended_head_dim(int64_t head_dim, int64_t span_h, int64_t span_w) {
    return (head_dim + span_h + span_w + 7) / 8 * 8;
}

}  // namespace ps::sam
