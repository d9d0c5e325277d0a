// SAM's mask decoder: two-way transformer, upscaling, hypernetwork MLPs and the IoU head.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "models/runtime/attention_projections.h"
#include "models/runtime/layers.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

struct DecodedMasks {
    at::Tensor low_res_logits;   // 1 x M x 4G x 4G
    at::Tensor iou_predictions;  // 1 x M
};

// The three projections of the first two-way block that read only the image (keys = image
// embedding + the no-mask dense embedding), 1 x HW x internal each: ~0.8 of the ~3.5 GFLOP of a
// click and the same for every prompt without a mask input, so the CPU computes them once per
// image (~7 ms for MobileSAM/ViT-B on the 2-core machine, 6 MB in fp32).
struct ImageProjections {
    at::Tensor token_to_image_k, token_to_image_v, image_to_token_q;
    bool defined() const { return token_to_image_k.defined(); }
    long long bytes() const;
};

// Attention with projections to an internal width (embedding_dim / downsample_rate).
struct DecoderAttention : runtime::AttentionProjections {
    static DecoderAttention load(const runtime::Weights& w, const std::string& prefix, int64_t dim,
                                 int64_t internal_dim, int64_t heads);
    at::Tensor operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;
    // The rest of operator() for inputs already through q_proj, k_proj and v_proj.
    at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;
};

struct TwoWayBlock {
    DecoderAttention self_attn, token_to_image, image_to_token;
    runtime::LayerNorm norm1, norm2, norm3, norm4;
    runtime::Linear lin1, lin2;
    bool skip_first_layer_pe = false;
    // queries: 1 x T x C, keys: 1 x HW x C. Updates both in place of the arguments. `image`,
    // for the first block only, replaces the projections of keys it holds.
    void operator()(at::Tensor& queries, at::Tensor& keys, const at::Tensor& query_pe,
                    const at::Tensor& key_pe, const ImageProjections* image = nullptr) const;
};

class MaskDecoder {
  public:
    MaskDecoder(const runtime::Weights& w, const SamConfig& config);
    // `image`: project_image() of this embedding; right only while `dense` is the no-mask one.
    DecodedMasks forward(const at::Tensor& image_embedding, const at::Tensor& image_pe,
                         const at::Tensor& sparse, const at::Tensor& dense, bool multimask,
                         const ImageProjections* image = nullptr) const;
    // The same ops forward() runs on these inputs, so the results are bit-identical.
    ImageProjections project_image(const at::Tensor& image_embedding, const at::Tensor& image_pe,
                                   const at::Tensor& no_mask_dense) const;

  private:
    at::Tensor hypernetworks(const at::Tensor& mask_tokens_out) const;

    at::Tensor iou_token_, mask_tokens_;
    std::vector<TwoWayBlock> layers_;
    DecoderAttention final_attn_;
    runtime::LayerNorm norm_final_;
    runtime::ConvTranspose2d upscale1_, upscale2_;
    runtime::LayerNorm2d upscale_norm_;
    std::vector<runtime::Mlp> hypernetworks_;
    std::vector<at::Tensor> hyper_weights_, hyper_biases_;  // the same stacked per layer (CUDA)
    runtime::Mlp iou_head_;
    int64_t num_mask_tokens_;
};

}  // namespace ps::sam
