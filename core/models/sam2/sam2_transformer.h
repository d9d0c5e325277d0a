// SAM 2's TwoWayTransformer (sam2/modeling/sam/transformer.py): SAM's, with the block MLP under
// mlp.layers.{0,1} and attention through F.scaled_dot_product_attention.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "models/runtime/attention_projections.h"
#include "models/runtime/layers.h"

namespace ps::sam2 {

// Attention with projections to an internal width (embedding_dim / downsample_rate).
struct Sam2Attention : runtime::AttentionProjections {
    static Sam2Attention load(const runtime::Weights& w, const std::string& prefix, int64_t dim,
                              int64_t internal_dim, int64_t heads);
    at::Tensor operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;
};

struct Sam2TwoWayBlock {
    Sam2Attention self_attn, token_to_image, image_to_token;
    runtime::LayerNorm norm1, norm2, norm3, norm4;
    runtime::Mlp mlp;  // ReLU
    bool skip_first_layer_pe = false;
    void operator()(at::Tensor& queries, at::Tensor& keys, const at::Tensor& query_pe,
                    const at::Tensor& key_pe) const;
};

class Sam2TwoWayTransformer {
  public:
    Sam2TwoWayTransformer(const runtime::Weights& w, const std::string& prefix, int64_t dim,
                          int64_t depth, int64_t mlp_dim, int64_t heads, int64_t downsample);
    // image: 1 x C x H x W, image_pe alike, tokens: 1 x T x C. Returns (queries, keys 1 x HW x C).
    std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& image, const at::Tensor& image_pe,
                                              const at::Tensor& tokens) const;

  private:
    std::vector<Sam2TwoWayBlock> layers_;
    Sam2Attention final_attn_;
    runtime::LayerNorm norm_final_;
};

}  // namespace ps::sam2
