// The q/k/v/out projections of segment-anything's and sam2's Attention and RoPEAttention modules
// (<prefix>.{q,k,v,out}_proj): their key layout, their loading and the head split around them.
// What happens between the projections (scaling, rotary encoding, chunking) stays with each family.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "models/runtime/layers.h"
#include "models/runtime/tensor_specs.h"

namespace ps::runtime {

struct AttentionProjections {
    Linear q_proj, k_proj, v_proj, out_proj;
    int64_t num_heads = 1;

    // q_proj dim -> internal_dim, k_proj and v_proj kv_in_dim -> internal_dim, out_proj back to
    // dim; fails naming the prefix when `heads` does not divide internal_dim.
    static AttentionProjections load(const Weights& w, const std::string& prefix, int64_t dim,
                                     int64_t internal_dim, int64_t kv_in_dim, int64_t heads);
    // _separate_heads: B x N x internal -> B x heads x N x internal / heads (a view).
    at::Tensor separate_heads(const at::Tensor& x) const;
    // _recombine_heads then out_proj: B x heads x N x d -> B x N x dim.
    at::Tensor recombine_heads(const at::Tensor& x) const;
    // PyTorch 2's fused scaled_dot_product_attention through recombine_heads, for half-precision
    // CUDA tensors only (one kernel instead of five: a click is a few hundred small launches, so
    // their count is its GPU time); undefined elsewhere, where each family keeps the reference's
    // explicit product for its rounding.
    at::Tensor fused_or_undefined(const at::Tensor& q, const at::Tensor& k,
                                  const at::Tensor& v) const;
};

// The four projections' tensors in a checkpoint layout (init-checkpoint, shape checks).
void add_attention_projection_specs(TensorSpecs& specs, const std::string& prefix, int64_t dim,
                                    int64_t internal_dim, int64_t kv_in_dim);

}  // namespace ps::runtime
