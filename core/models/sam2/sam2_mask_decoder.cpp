// sam2/modeling/sam/mask_decoder.py, op for op.
#include "models/sam2/sam2_mask_decoder.h"

#include <ATen/ATen.h>

namespace ps::sam2 {
namespace {
const std::string kDecoder = "sam_mask_decoder.";
}

Sam2MaskDecoder::Sam2MaskDecoder(const runtime::Weights& w, const Sam2Config& c)
    : transformer_(w, kDecoder + "transformer.", c.d_model, c.decoder_depth, c.decoder_mlp_dim,
                   c.decoder_heads, c.attention_downsample),
      num_mask_tokens_(c.num_mask_tokens),
      high_res_(c.use_high_res_features),
      pred_obj_scores_(c.pred_obj_scores),
      obj_score_is_mlp_(c.pred_obj_scores_mlp),
      iou_sigmoid_(c.iou_prediction_use_sigmoid),
      dynamic_multimask_(c.dynamic_multimask_via_stability),
      stability_delta_(c.dynamic_multimask_stability_delta),
      stability_thresh_(c.dynamic_multimask_stability_thresh) {
    const int64_t d = c.d_model;
    iou_token_ = w.get(kDecoder + "iou_token.weight", {1, d});
    mask_tokens_ = w.get(kDecoder + "mask_tokens.weight", {c.num_mask_tokens, d});
    upscale1_ = runtime::ConvTranspose2d::load(w, kDecoder + "output_upscaling.0", d, d / 4, 2);
    upscale_norm_ = runtime::LayerNorm2d::load(w, kDecoder + "output_upscaling.1", d / 4);
    upscale2_ = runtime::ConvTranspose2d::load(w, kDecoder + "output_upscaling.3", d / 4, d / 8, 2);
    if (high_res_) {
        conv_s0_ = runtime::Conv2d::load(w, kDecoder + "conv_s0", d, d / 8, 1, 1, 0, 1, true);
        conv_s1_ = runtime::Conv2d::load(w, kDecoder + "conv_s1", d, d / 4, 1, 1, 0, 1, true);
    }
    for (int64_t i = 0; i < c.num_mask_tokens; ++i) {
        hypernetworks_.push_back(runtime::Mlp::load(
            w, kDecoder + "output_hypernetworks_mlps." + std::to_string(i), d, d, d / 8, 3));
    }
    for (size_t layer = 0; layer < hypernetworks_.front().layers.size(); ++layer) {
        std::vector<at::Tensor> weights, biases;
        for (const runtime::Mlp& mlp : hypernetworks_) {
            weights.push_back(mlp.layers[layer].weight.t());
            biases.push_back(mlp.layers[layer].bias.unsqueeze(0));
        }
        hyper_weights_t_.push_back(at::stack(weights, 0));
        hyper_biases_.push_back(at::stack(biases, 0));
    }
    iou_head_ = runtime::Mlp::load(w, kDecoder + "iou_prediction_head", d, c.iou_head_hidden,
                                   c.num_mask_tokens, static_cast<int>(c.iou_head_depth));
    if (pred_obj_scores_) {
        obj_score_token_ = w.get(kDecoder + "obj_score_token.weight", {1, d});
        if (obj_score_is_mlp_) {
            obj_score_mlp_ = runtime::Mlp::load(w, kDecoder + "pred_obj_score_head", d, d, 1, 3);
        } else {
            obj_score_linear_ = runtime::Linear::load(w, kDecoder + "pred_obj_score_head", d, 1);
        }
    }
}

std::vector<at::Tensor> Sam2MaskDecoder::project_high_res(const at::Tensor& level0,
                                                          const at::Tensor& level1) const {
    if (!high_res_) return {};
    return {conv_s0_(level0), conv_s1_(level1)};
}

Sam2DecodedMasks Sam2MaskDecoder::forward(const at::Tensor& image_embedding,
                                          const at::Tensor& image_pe, const at::Tensor& sparse,
                                          const at::Tensor& dense, bool multimask,
                                          const std::vector<at::Tensor>& high_res) const {
    std::vector<at::Tensor> parts;
    if (pred_obj_scores_) parts.push_back(obj_score_token_);
    parts.push_back(iou_token_);
    parts.push_back(mask_tokens_);
    const at::Tensor output_tokens = at::cat(parts, 0).unsqueeze(0);
    // A batch of objects on one frame (the video predictor's tracked frames): every sample's
    // own image embedding; prompts, dense embeddings and high-resolution features of batch 1
    // are shared by broadcasting, never copied per object.
    const at::Tensor src = image_embedding + dense;
    const int64_t B = src.size(0), C = src.size(1), H = src.size(2), W = src.size(3);
    at::Tensor tokens = at::cat({output_tokens, sparse.to(output_tokens.scalar_type())}, 1);
    if (tokens.size(0) != B) tokens = tokens.expand({B, -1, -1});
    const int64_t s = pred_obj_scores_ ? 1 : 0;

    auto [hs, keys] = transformer_.forward(src, image_pe, tokens);
    const at::Tensor iou_token_out = hs.select(1, s);
    const at::Tensor mask_tokens_out = hs.slice(1, s + 1, s + 1 + num_mask_tokens_);

    const at::Tensor grid = keys.transpose(1, 2).reshape({B, C, H, W});
    at::Tensor upscaled;
    if (high_res_ && high_res.size() == 2) {
        upscaled = upscale_norm_.channels_last(upscale1_(grid) + high_res[1]);
        upscaled = at::gelu_(upscaled).permute({0, 3, 1, 2});
        upscaled = at::gelu(upscale2_(upscaled) + high_res[0]);
    } else {
        at::Tensor normed = upscale_norm_.channels_last(upscale1_(grid));
        upscaled = at::gelu(upscale2_(at::gelu_(normed).permute({0, 3, 1, 2})));
    }
    // Token i through hypernetwork i, all tokens at once: tokens x B x d through each layer as
    // one batched product (ReLU between), then B x tokens x d/8.
    at::Tensor hyper = mask_tokens_out.transpose(0, 1);
    for (size_t layer = 0; layer < hyper_weights_t_.size(); ++layer) {
        hyper = at::baddbmm(hyper_biases_[layer], hyper, hyper_weights_t_[layer]);
        if (layer + 1 < hyper_weights_t_.size()) hyper = at::relu_(hyper);
    }
    const at::Tensor hyper_in = hyper.transpose(0, 1);
    const int64_t uc = upscaled.size(1), uh = upscaled.size(2), uw = upscaled.size(3);
    const at::Tensor masks =
        at::matmul(hyper_in, upscaled.view({B, uc, uh * uw})).view({B, -1, uh, uw});

    at::Tensor iou = iou_head_.flat(iou_token_out);
    if (iou_sigmoid_) iou = at::sigmoid(iou);
    Sam2DecodedMasks out;
    if (pred_obj_scores_) {
        const at::Tensor token = hs.select(1, 0);
        out.object_score_logits =
            obj_score_is_mlp_ ? obj_score_mlp_.flat(token) : obj_score_linear_.flat(token);
    } else {
        out.object_score_logits = at::full({B, 1}, 10.0, iou.options());
    }
    out.all_low_res_logits = masks;
    out.all_iou_predictions = iou;
    out.mask_tokens_out = mask_tokens_out;
    if (multimask) {
        out.low_res_logits = masks.slice(1, 1);
        out.iou_predictions = iou.slice(1, 1);
    } else if (dynamic_multimask_) {
        out.low_res_logits = select_by_stability(masks, iou, out.iou_predictions);
    } else {
        out.low_res_logits = masks.slice(1, 0, 1);
        out.iou_predictions = iou.slice(1, 0, 1);
    }
    return out;
}

// _dynamic_multimask_via_stability: the single-mask output unless its stability score (IoU of
// the masks thresholded at +delta and -delta) is below the threshold, then the multimask output
// with the best predicted IoU. Chosen per sample on the device (gather / where): the reference's
// choice without bringing a score to the host.
at::Tensor Sam2MaskDecoder::select_by_stability(const at::Tensor& masks, const at::Tensor& iou,
                                                at::Tensor& iou_out) const {
    const int64_t B = masks.size(0), H = masks.size(2), W = masks.size(3);
    const at::Tensor best = iou.slice(1, 1).argmax(-1, /*keepdim=*/true) + 1;  // B x 1
    const at::Tensor best_mask = masks.gather(1, best.view({B, 1, 1, 1}).expand({B, 1, H, W}));
    const at::Tensor best_iou = iou.gather(1, best);
    const at::Tensor single = masks.slice(1, 0, 1).flatten(-2);
    const at::Tensor area_i = (single > stability_delta_).sum(-1).to(at::kFloat);
    const at::Tensor area_u = (single > -stability_delta_).sum(-1).to(at::kFloat);
    const at::Tensor stability = at::where(area_u > 0, area_i / area_u, at::ones_like(area_u));
    // in float64, as the reference's Python comparison of the score with the threshold
    const at::Tensor stable = stability.to(at::kDouble) >= stability_thresh_;  // B x 1
    iou_out = at::where(stable, iou.slice(1, 0, 1), best_iou);
    return at::where(stable.view({B, 1, 1, 1}), masks.slice(1, 0, 1), best_mask);
}

}  // namespace ps::sam2
