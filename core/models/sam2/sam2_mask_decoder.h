// SAM 2's mask decoder (sam2/modeling/sam/mask_decoder.py): the two-way transformer over the
// object-score, IoU and mask tokens, upscaling fused with the high-resolution features
// (conv_s0 / conv_s1), the sigmoid IoU head, the object-score head and the dynamic choice of a
// single mask by stability.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "models/runtime/layers.h"
#include "models/sam2/sam2_config.h"
#include "models/sam2/sam2_transformer.h"

namespace ps::sam2 {

struct Sam2DecodedMasks {
    at::Tensor low_res_logits;       // 1 x M x 4G x 4G (M = 3 multimask, else 1)
    at::Tensor iou_predictions;      // 1 x M
    at::Tensor object_score_logits;  // 1 x 1
    // Every output token's mask and IoU before the multimask / stability choice: 1 x 4 x ...
    at::Tensor all_low_res_logits, all_iou_predictions;
    // The mask tokens' transformer outputs, 1 x 4 x C: the video model's object pointer source.
    at::Tensor mask_tokens_out;
};

class Sam2MaskDecoder {
  public:
    Sam2MaskDecoder(const runtime::Weights& w, const Sam2Config& config);
    // high_res: {feat_s0 (1 x C/8 x 4G x 4G), feat_s1 (1 x C/4 x 2G x 2G)}, already through
    // conv_s0 / conv_s1 (SAM2Base.forward_image runs them once per image).
    Sam2DecodedMasks forward(const at::Tensor& image_embedding, const at::Tensor& image_pe,
                             const at::Tensor& sparse, const at::Tensor& dense, bool multimask,
                             const std::vector<at::Tensor>& high_res) const;
    // conv_s0, conv_s1 of the neck's two finest levels.
    std::vector<at::Tensor> project_high_res(const at::Tensor& level0,
                                             const at::Tensor& level1) const;

  private:
    at::Tensor select_by_stability(const at::Tensor& masks, const at::Tensor& iou,
                                   at::Tensor& iou_out) const;

    Sam2TwoWayTransformer transformer_;
    at::Tensor obj_score_token_, iou_token_, mask_tokens_;
    runtime::ConvTranspose2d upscale1_, upscale2_;
    runtime::LayerNorm2d upscale_norm_;
    runtime::Conv2d conv_s0_, conv_s1_;
    std::vector<runtime::Mlp> hypernetworks_;
    // The hypernetworks' layers stacked per depth (tokens x in x out, transposed; biases
    // tokens x 1 x out): every token's MLP as one batched product per layer instead of one
    // product per token and layer.
    std::vector<at::Tensor> hyper_weights_t_, hyper_biases_;
    runtime::Mlp iou_head_, obj_score_mlp_;
    runtime::Linear obj_score_linear_;
    int64_t num_mask_tokens_;
    bool high_res_, pred_obj_scores_, obj_score_is_mlp_, iou_sigmoid_, dynamic_multimask_;
    double stability_delta_, stability_thresh_;
};

}  // namespace ps::sam2
