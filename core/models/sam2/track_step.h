// SAM2Base.track_step for one object on one frame (eval): the SAM heads on the frame's features
// (init-conditioning frames with no_mem_embed added, others conditioned on the memory bank),
// mask prompts turned into the output directly (_use_mask_as_output), the object pointer and its
// gating by the object score, and the memory encoder for tracked frames.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/graph_cache.h"
#include "models/runtime/layers.h"
#include "models/sam2/memory_attention.h"
#include "models/sam2/memory_encoder.h"
#include "models/sam2/sam2_prompt_encoder.h"

namespace ps::sam2 {

class Sam2Network;

// Not stored in the checkpoint (sam2.1 yaml and SAM2Base defaults; the same in all four).
struct TrackOptions {
    bool multimask_output_in_sam = true;
    bool multimask_output_for_tracking = true;
    int64_t multimask_min_pt_num = 0, multimask_max_pt_num = 1;
    bool use_multimask_token_for_obj_ptr = true;
    bool fixed_no_obj_ptr = true;                                     // soft_no_obj_ptr false
    double mask_as_output_scale = 20.0, mask_as_output_bias = -10.0;  // _use_mask_as_output
};

// One frame through the image encoder, as _get_image_feature + _prepare_backbone_features.
struct Sam2FrameFeatures {
    at::Tensor pix_feat;               // 1 x C x G x G, the lowest level (no no_mem_embed)
    at::Tensor image_embed;            // pix_feat + no_mem_embed (directly_add_no_mem_embed)
    std::vector<at::Tensor> high_res;  // conv_s0 / conv_s1 outputs
};

// What one track_step is asked: points (input frame, box corners first) or a 1 x 1 x S x S
// binary mask (not both), the previous low-res logits clamped to ±32 on a correction click,
// the memory tokens for a frame that is not an init-conditioning one.
struct TrackRequest {
    bool is_init_cond_frame = true;
    at::Tensor point_coords;  // N x 2 float32, or undefined
    std::vector<int> point_labels;
    at::Tensor mask_input;            // 1 x 1 x S x S, or undefined
    at::Tensor prev_sam_mask_logits;  // 1 x 1 x 4G x 4G, or undefined
    const MemoryTokens* memory = nullptr;
    bool run_memory_encoder = false;
};

// The compact output the predictor stores (_run_single_frame_inference's compact_current_out),
// for a batch of B objects (B = 1 but for track()).
struct TrackOutput {
    at::Tensor pred_masks;           // B x 1 x 4G x 4G float32 low-res logits (unclamped)
    at::Tensor obj_ptr;              // B x C, the network's dtype
    at::Tensor object_score_logits;  // B x 1
    at::Tensor maskmem_features;     // B x mem_dim x G x G bfloat16, or undefined
};

class TrackStep {
  public:
    // obj_ptr_proj (an MLP of 3 layers, or one Linear), no_obj_ptr, mask_downsample and the
    // memory modules, from the placed checkpoint tensors; `network` must outlive this.
    static Result<TrackStep> load(const Sam2Network& network,
                                  const std::map<std::string, at::Tensor>& tensors,
                                  const std::string& file_label, const TrackOptions& options = {});

    Sam2FrameFeatures frame_features(const at::Tensor& input) const;
    TrackOutput run(const Sam2FrameFeatures& frame, const TrackRequest& request) const;
    // Tracked frames (no prompt, memory encoder run) of the B objects whose memory tokens are
    // batched in `tokens` (N x B x mem_dim: one layout, one set of position encodings), as one
    // batch through memory attention, the SAM heads, the pointer and the memory encoder. The
    // frame's features (batch 1) are shared by broadcasting. Each sample as run() would give it
    // for that object alone, up to the float rounding of larger matrix products.
    TrackOutput track(const Sam2FrameFeatures& frame, const MemoryTokens& tokens) const;
    // _run_memory_encoder: the memory of low-res logits (bilinear to the input size), stored as
    // bfloat16 as the predictor stores it.
    at::Tensor encode_memory(const Sam2FrameFeatures& frame, const at::Tensor& pred_masks,
                             const at::Tensor& object_score_logits, bool is_mask_from_pts) const;
    // The memory tokens of `selection` from stored bf16 memories and pointers.
    MemoryTokens memory_tokens(const MemorySelection& selection,
                               const std::vector<at::Tensor>& features,
                               const std::vector<at::Tensor>& pointers) const;
    at::Tensor condition(const Sam2FrameFeatures& frame, const MemoryTokens& tokens) const;

    const MemoryBank& bank() const { return *bank_; }
    int64_t image_size() const;

  private:
    TrackStep() = default;
    struct SamHeads {
        at::Tensor low_res_masks, obj_ptr, object_score_logits;
    };
    SamHeads forward_sam_heads(const at::Tensor& backbone, const std::vector<at::Tensor>& high_res,
                               const at::Tensor& coords, const std::vector<int>& labels,
                               const at::Tensor& mask_input, bool multimask) const;
    SamHeads use_mask_as_output(const Sam2FrameFeatures& frame, const at::Tensor& mask) const;
    at::Tensor gate_pointer(const at::Tensor& obj_ptr, const at::Tensor& appearing) const;

    const Sam2Network* network_ = nullptr;
    TrackOptions options_;
    runtime::Mlp obj_ptr_proj_;
    at::Tensor no_obj_ptr_;  // 1 x C
    runtime::Conv2d mask_downsample_;
    std::shared_ptr<MemoryEncoder> encoder_;
    std::shared_ptr<MemoryAttention> attention_;
    std::shared_ptr<MemoryBank> bank_;
    at::Tensor pix_pos_;  // 1 x C x G x G, the frame features' sine encoding
    // The prompt of a frame without points or mask (one not-a-point and the padding point, the
    // no-mask dense embedding): the same on every tracked frame, so encoded once.
    Sam2EncodedPrompt no_prompt_;
    at::Tensor maskmem_pos_enc_;
    std::shared_ptr<runtime::GraphCache> track_graphs_;
};

}  // namespace ps::sam2
