// SAM's mask decoder: two-way transformer, upscaling, hypernetwork MLPs and the IoU head.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "models/sam/layers.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

struct DecodedMasks {
    at::Tensor low_res_logits;  // 1 x M x 4G x 4G
    at::Tensor iou_predictions;  // 1 x M
};

// Attention with projections to an internal width (embedding_dim / downsample_rate).
struct DecoderAttention {
    Linear q_proj, k_proj, v_proj, out_proj;
    int64_t num_heads = 8;
    static DecoderAttention load(const Weights& w, const std::string& prefix, int64_t dim,
                                 int64_t internal_dim, int64_t heads);
    at::Tensor operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;
};

struct TwoWayBlock {
    DecoderAttention self_attn, token_to_image, image_to_token;
    LayerNorm norm1, norm2, norm3, norm4;
    Linear lin1, lin2;
    bool skip_first_layer_pe = false;
    // queries: 1 x T x C, keys: 1 x HW x C. Updates both in place of the arguments.
    void operator()(at::Tensor& queries, at::Tensor& keys, const at::Tensor& query_pe,
                    const at::Tensor& key_pe) const;
};

class MaskDecoder {
public:
    MaskDecoder(const Weights& w, const SamConfig& config);
    DecodedMasks forward(const at::Tensor& image_embedding, const at::Tensor& image_pe,
                         const at::Tensor& sparse, const at::Tensor& dense,
                         bool multimask) const;

private:
    at::Tensor iou_token_, mask_tokens_;
    std::vector<TwoWayBlock> layers_;
    DecoderAttention final_attn_;
    LayerNorm norm_final_;
    ConvTranspose2d upscale1_, upscale2_;
    LayerNorm2d upscale_norm_;
    std::vector<Mlp> hypernetworks_;
    Mlp iou_head_;
    int64_t num_mask_tokens_;
};

}  // namespace ps::sam
