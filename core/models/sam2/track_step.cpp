// SAM2Base.track_step, _forward_sam_heads, _use_mask_as_output and _encode_new_memory (eval), op
// for op.
#include "models/sam2/track_step.h"

#include <ATen/ATen.h>

#include "models/runtime/model_runtime.h"
#include "models/sam2/fpn_neck.h"
#include "models/sam2/sam2_network.h"

namespace ps::sam2 {
namespace {
constexpr double kNoObjScore = -1024.0;  // sam2_base.NO_OBJ_SCORE
}

Result<TrackStep> TrackStep::load(const Sam2Network& network,
                                  const std::map<std::string, at::Tensor>& tensors,
                                  const std::string& file_label, const TrackOptions& options) {
    auto encoder = MemoryEncoder::load(tensors, file_label);
    if (!encoder) return encoder.error();
    auto attention = MemoryAttention::load(tensors, file_label);
    if (!attention) return attention.error();
    auto bank = MemoryBank::load(tensors, file_label);
    if (!bank) return bank.error();
    return runtime::guarded(file_label, [&]() -> Result<TrackStep> {
        const runtime::Weights w(tensors, file_label);
        const int64_t d = network.config().d_model;
        const int64_t grid = network.config().embedding_grid();
        TrackStep step;
        step.network_ = &network;
        step.options_ = options;
        // use_mlp_for_obj_ptr_proj: three layers; without it a single Linear (layers absent).
        if (w.has("obj_ptr_proj.layers.0.weight")) {
            step.obj_ptr_proj_ = runtime::Mlp::load(w, "obj_ptr_proj", d, d, d, 3);
        } else {
            step.obj_ptr_proj_.layers.push_back(runtime::Linear::load(w, "obj_ptr_proj", d, d));
        }
        step.no_obj_ptr_ = w.get("no_obj_ptr", {1, d});
        step.mask_downsample_ = runtime::Conv2d::load(w, "mask_downsample", 1, 1, 4, 4, 0, 1, true);
        step.encoder_ = std::make_shared<MemoryEncoder>(std::move(*encoder));
        step.attention_ = std::make_shared<MemoryAttention>(std::move(*attention));
        step.bank_ = std::make_shared<MemoryBank>(std::move(*bank));
        step.pix_pos_ = sine_position_encoding(d, grid, grid, network.device());
        step.maskmem_pos_enc_ =
            sine_position_encoding(step.encoder_->mem_dim(), grid, grid, network.device())
                .to(step.encoder_->dtype());
        // forward_sam_heads' stand-in for no points: (0, 0) labelled -1.
        // Recorded on a layout's second frame: the first frames' layouts (the bank filling up)
        // are each seen once.
        step.track_graphs_ = std::make_shared<runtime::GraphCache>(4, 2);
        step.track_graphs_->set_enabled(network.cuda_graphs());
        step.no_prompt_ = network.prompt_encoder().forward(
            at::zeros({1, 2}, at::TensorOptions().dtype(at::kFloat).device(network.device())), {-1},
            at::Tensor());
        return step;
    });
}

int64_t TrackStep::image_size() const {
    return network_->config().image_size;
}

Sam2FrameFeatures TrackStep::frame_features(const at::Tensor& input) const {
    Sam2ImageFeatures features = network_->encode(input);
    // vision_feats[-1]: the lowest level kept by the scalp, before no_mem_embed.
    Sam2FrameFeatures out;
    out.pix_feat = std::move(features.pix_feat);
    out.image_embed = std::move(features.image_embed);
    out.high_res = std::move(features.high_res);
    return out;
}

at::Tensor TrackStep::gate_pointer(const at::Tensor& obj_ptr, const at::Tensor& appearing) const {
    // fixed_no_obj_ptr: an absent object's pointer is exactly no_obj_ptr.
    const at::Tensor lambda = appearing.to(obj_ptr.scalar_type()).view({-1, 1});
    at::Tensor out = obj_ptr;
    if (options_.fixed_no_obj_ptr) out = lambda * out;
    return out + (1 - lambda) * no_obj_ptr_;
}

TrackStep::SamHeads TrackStep::forward_sam_heads(
    const at::Tensor& backbone, const std::vector<at::Tensor>& high_res, const at::Tensor& coords,
    const std::vector<int>& labels, const at::Tensor& mask_input, bool multimask) const {
    Sam2ImageFeatures features;
    features.image_embed = backbone;  // B x C x G x G; high_res of batch 1, shared
    features.high_res = high_res;
    Sam2EncodedPrompt prompt;
    if (!coords.defined() && !mask_input.defined()) {
        prompt = no_prompt_;
    } else if (!coords.defined()) {
        // No points: one (0, 0) labelled -1, then the prompt encoder's own padding point.
        prompt = network_->prompt_encoder().forward(
            at::zeros({1, 2}, backbone.options().dtype(at::kFloat)), {-1},
            mask_input.to(backbone.device()));
    } else {
        prompt = network_->prompt_encoder().forward(
            coords.to(backbone.device()), labels,
            mask_input.defined() ? mask_input.to(backbone.device()) : mask_input);
    }
    const Sam2DecodedMasks decoded = network_->decode(features, prompt, multimask);
    SamHeads out;
    out.object_score_logits = decoded.object_score_logits;
    const at::Tensor appearing = out.object_score_logits > 0;
    at::Tensor low_res = decoded.low_res_logits;
    at::Tensor token = decoded.mask_tokens_out.select(1, 0);
    if (multimask) {
        // The candidate of the best predicted IoU, per object, chosen on the device: the
        // reference's argmax without a round trip to the host.
        const int64_t B = low_res.size(0), H = low_res.size(2), W = low_res.size(3);
        const at::Tensor best = decoded.iou_predictions.argmax(-1, /*keepdim=*/true);  // B x 1
        low_res = low_res.gather(1, best.view({B, 1, 1, 1}).expand({B, 1, H, W}));
        if (options_.use_multimask_token_for_obj_ptr) {
            const int64_t C = decoded.mask_tokens_out.size(2);
            token = decoded.mask_tokens_out.gather(1, (best + 1).view({B, 1, 1}).expand({B, 1, C}))
                        .squeeze(1);
        }
    }
    out.low_res_masks = at::where(appearing.view({-1, 1, 1, 1}), low_res,
                                  at::scalar_tensor(kNoObjScore, low_res.options()))
                            .to(at::kFloat);
    out.obj_ptr = gate_pointer(obj_ptr_proj_.flat(token), appearing);
    return out;
}

TrackStep::SamHeads TrackStep::use_mask_as_output(const Sam2FrameFeatures& frame,
                                                  const at::Tensor& mask) const {
    const at::Tensor mask_float = mask.to(frame.pix_feat.device(), at::kFloat);
    const at::Tensor high_res =
        mask_float * options_.mask_as_output_scale + options_.mask_as_output_bias;
    SamHeads out;
    out.low_res_masks = at::_upsample_bilinear2d_aa(
        high_res, {high_res.size(-2) / 4, high_res.size(-1) / 4}, false);
    // The pointer comes from the SAM heads on the raw features with the downsampled mask.
    const SamHeads heads =
        forward_sam_heads(frame.pix_feat, frame.high_res, at::Tensor(), {},
                          mask_downsample_(mask_float.to(frame.pix_feat.scalar_type())), false);
    const at::Tensor appearing = (mask_float.flatten(1) > 0).any(1).view({-1, 1});
    out.object_score_logits =
        (appearing.to(at::kFloat) * options_.mask_as_output_scale + options_.mask_as_output_bias)
            .to(heads.object_score_logits.scalar_type());
    out.obj_ptr = gate_pointer(heads.obj_ptr, appearing);
    return out;
}

TrackOutput TrackStep::track(const Sam2FrameFeatures& frame, const MemoryTokens& tokens) const {
    // Everything a tracked frame computes after the encoder, replayed from a CUDA graph once its
    // memory layout repeats (the bank full: the same shapes on every later frame). The frame's
    // features and the memory tokens are the graph's inputs; nothing in it waits for the host.
    std::vector<at::Tensor> inputs{frame.pix_feat, tokens.memory, tokens.memory_pos};
    inputs.insert(inputs.end(), frame.high_res.begin(), frame.high_res.end());
    const std::vector<at::Tensor> outputs = track_graphs_->run(
        "sam2 tracked frame, pointer tokens " + std::to_string(tokens.num_obj_ptr_tokens), inputs,
        [this, pointer_tokens = tokens.num_obj_ptr_tokens](const std::vector<at::Tensor>& in) {
            Sam2FrameFeatures features;
            features.pix_feat = in[0];
            features.high_res.assign(in.begin() + 3, in.end());
            MemoryTokens memory{in[1], in[2], pointer_tokens};
            TrackRequest request;
            request.is_init_cond_frame = false;
            request.memory = &memory;
            request.run_memory_encoder = true;
            const TrackOutput out = run(features, request);
            return std::vector<at::Tensor>{out.pred_masks, out.obj_ptr, out.object_score_logits,
                                           out.maskmem_features};
        });
    return {outputs[0], outputs[1], outputs[2], outputs[3]};
}

TrackOutput TrackStep::run(const Sam2FrameFeatures& frame, const TrackRequest& request) const {
    SamHeads heads;
    if (request.mask_input.defined()) {
        heads = use_mask_as_output(frame, request.mask_input);  // use_mask_input_as_output
    } else {
        if (!request.is_init_cond_frame && request.memory == nullptr)
            throw std::runtime_error("a tracked frame needs its memory bank");
        const at::Tensor pix =
            request.is_init_cond_frame ? frame.image_embed : condition(frame, *request.memory);
        const int64_t points =
            request.point_coords.defined() ? static_cast<int64_t>(request.point_labels.size()) : 0;
        const bool multimask =
            options_.multimask_output_in_sam &&
            (request.is_init_cond_frame || options_.multimask_output_for_tracking) &&
            options_.multimask_min_pt_num <= points && points <= options_.multimask_max_pt_num;
        heads = forward_sam_heads(pix, frame.high_res, request.point_coords, request.point_labels,
                                  request.prev_sam_mask_logits, multimask);
    }
    TrackOutput out;
    out.pred_masks = heads.low_res_masks;
    out.obj_ptr = heads.obj_ptr;
    out.object_score_logits = heads.object_score_logits;
    if (request.run_memory_encoder) {
        out.maskmem_features = encode_memory(frame, out.pred_masks, out.object_score_logits,
                                             request.point_coords.defined());
    }
    return out;
}

at::Tensor TrackStep::encode_memory(const Sam2FrameFeatures& frame, const at::Tensor& pred_masks,
                                    const at::Tensor& object_score_logits,
                                    bool is_mask_from_pts) const {
    const int64_t size = image_size();
    const at::Tensor high_res = at::upsample_bilinear2d(
        pred_masks.to(frame.pix_feat.device(), at::kFloat), {size, size}, false);
    // pix_feat of batch 1 for a batch of masks: projected once and broadcast.
    return encoder_
        ->encode_new_memory_features(frame.pix_feat, high_res,
                                     object_score_logits.to(frame.pix_feat.device()),
                                     is_mask_from_pts)
        .to(at::kBFloat16);
}

MemoryTokens TrackStep::memory_tokens(const MemorySelection& selection,
                                      const std::vector<at::Tensor>& features,
                                      const std::vector<at::Tensor>& pointers) const {
    std::vector<at::Tensor> placed;
    placed.reserve(features.size());
    for (const at::Tensor& f : features) placed.push_back(f.to(network_->device()));
    return bank_->assemble(selection, placed, maskmem_pos_enc_, pointers);
}

at::Tensor TrackStep::condition(const Sam2FrameFeatures& frame, const MemoryTokens& tokens) const {
    // One frame's features for every object of the batch: expanded, not copied.
    const int64_t B = tokens.memory.size(1);
    const at::Tensor pix =
        frame.pix_feat.size(0) == B ? frame.pix_feat : frame.pix_feat.expand({B, -1, -1, -1});
    return condition_on_memory(*attention_, pix, pix_pos_, tokens);
}

}  // namespace ps::sam2
