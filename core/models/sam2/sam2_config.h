// SAM 2.1 (facebookresearch/sam2, SAM2Base) architecture read off a checkpoint's tensor shapes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/tensor_specs.h"

namespace at {
class Tensor;
}

namespace ps::sam2 {

// hieradet.py's Hiera. The widths and depths are stored; the head counts, the window sizes and
// the global-attention blocks are not (MultiScaleAttention's qkv is one Linear, windows only
// reshape), so they come from the published yaml of the recognised layout
// (sam2/configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml, Hiera's defaults where the yaml is silent).
struct HieraConfig {
    int64_t embed_dim = 96;                  // patch_embed.proj: 7x7 stride 4 padding 3
    int64_t num_heads = 1;                   // of stage 1; ×2 at each stage change (head_mul)
    std::vector<int64_t> stages;             // blocks per stage
    std::vector<int64_t> window_spec;        // window per stage (0: none)
    std::vector<int64_t> global_att_blocks;  // blocks with global attention
    std::vector<int64_t> pos_embed_bkg;      // window_pos_embed_bkg_spatial_size (h, w): stored
    int64_t mlp_ratio = 4;                   // read off mlp.layers.0
    int64_t q_pool = 3;                      // q-pooling at the first block of stages 2..q_pool+1
    int64_t q_stride = 2;

    int64_t depth() const;
    std::vector<int64_t> stage_ends() const;  // index of each stage's last block
    std::vector<int64_t> dims() const;        // width per stage
    int64_t block_dim_out(int64_t block) const;
    int64_t block_dim_in(int64_t block) const;
    int64_t block_heads(int64_t block) const;
    int64_t block_window(int64_t block) const;  // 0: global attention
    bool block_q_pool(int64_t block) const;
};

struct Sam2Config {
    std::string arch;  // "sam2.1_hiera_t", "_s", "_b+", "_l", or "sam2.1_hiera_custom"
    // SAM2Base.image_size (yaml model.image_size, 1024 in every published file; not stored).
    int64_t image_size = 1024;
    HieraConfig hiera;
    // FpnNeck: d_model, the trunk's widths from the deepest stage (backbone_channel_list), top-down
    // fusion only into levels 2 and 3 with nearest upsampling, and ImageEncoder's scalp 1 (the
    // 1/32 level is dropped). Only d_model and the channel list are stored.
    int64_t d_model = 256;
    std::vector<int64_t> backbone_channels;
    std::vector<int64_t> fpn_top_down_levels{2, 3};
    int64_t scalp = 1;
    // SAM heads (_build_sam_heads): prompt width = d_model, mask_in_chans 16, decoder depth 2,
    // mlp 2048, 8 heads (not stored), attention downsample 2, 4 mask tokens.
    int64_t mask_in_chans = 16;
    int64_t decoder_depth = 2, decoder_mlp_dim = 2048, decoder_heads = 8;
    int64_t attention_downsample = 2, num_mask_tokens = 4;
    int64_t iou_head_depth = 3, iou_head_hidden = 256;
    bool use_high_res_features = true;  // conv_s0 / conv_s1 present
    bool pred_obj_scores = true;        // obj_score_token present
    bool pred_obj_scores_mlp = true;    // pred_obj_score_head.layers.* rather than one Linear
    // Not stored: yaml iou_prediction_use_sigmoid, and build_sam2's apply_postprocessing
    // overrides (dynamic multimask via stability, delta 0.05, threshold 0.98).
    bool iou_prediction_use_sigmoid = true;
    bool dynamic_multimask_via_stability = true;
    double dynamic_multimask_stability_delta = 0.05;
    double dynamic_multimask_stability_thresh = 0.98;
    // yaml directly_add_no_mem_embed: an image's lowest-resolution features get no_mem_embed.
    bool directly_add_no_mem_embed = true;
    // The video parts, read for the layout only (the image path does not run them).
    int64_t num_maskmem = 7, mem_dim = 64, memory_attention_layers = 4, memory_attention_ffn = 2048;
    int64_t parameter_count = 0;
    std::string dtype;  // dtype of the floating tensors as stored, e.g. "float32"

    int64_t backbone_stride() const { return 16; }  // the decoder's grid: image_size / 16
    int64_t embedding_grid() const { return image_size / backbone_stride(); }
    std::string describe() const;  // one line, for `info` and logs
};

// Infers the configuration, or explains in one line what the file is if it is not SAM 2
// ("sam_vit_b.pth: looks like a Segment Anything (SAM 1) checkpoint (image_encoder.blocks.*,
// prompt_encoder.*), not SAM 2"). A state dict under "model" (torch.save({"model": sd})) is
// read as the loader unwraps it (io::load_checkpoint).
Result<Sam2Config> infer_sam2_config(const std::map<std::string, at::Tensor>& tensors,
                                     const std::string& file_label);

// The published variants: "sam2.1_hiera_t", "sam2.1_hiera_s", "sam2.1_hiera_b+",
// "sam2.1_hiera_l" (the short forms hiera_t ... hiera_l too). Throws std::invalid_argument.
Sam2Config official_sam2_config(const std::string& arch);

// Every tensor name and shape of SAM2Base's state dict for `config` (the published layout,
// video parts included), with the official key names.
runtime::TensorSpecs sam2_tensor_specs(const Sam2Config& config);

}  // namespace ps::sam2
