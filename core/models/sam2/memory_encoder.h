// SAM 2's memory encoder (sam2/modeling/memory_encoder.py) and SAM2Base._encode_new_memory: a
// frame's features fused with its predicted mask into the spatial memory later frames attend to.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/layers.h"

namespace ps::sam2 {

// What the checkpoint does not store (sam2/configs/sam2.1/*.yaml, the same in all four).
struct MemoryEncoderOptions {
    double sigmoid_scale = 20.0;  // sigmoid_scale_for_mem_enc
    double sigmoid_bias = -10.0;  // sigmoid_bias_for_mem_enc
    // build_sam2_video_predictor's binarize_mask_from_pts_for_mem_enc (true for video).
    bool binarize_mask_from_pts = true;
};

struct MemoryEncoding {
    at::Tensor features;  // B x mem_dim x H x W, in the network's dtype (maskmem_features)
    at::Tensor pos_enc;   // 1 x mem_dim x H x W, the sine encoding in that dtype (maskmem_pos_enc)
};

// ConvNeXt block (CXBlock): 7x7 depthwise conv, LayerNorm2d, pointwise MLP on channels-last
// pixels (nn.Linear, as the reference's faster form), layer scale, residual.
struct CxBlock {
    runtime::Conv2d dwconv;
    runtime::LayerNorm2d norm;
    runtime::Linear pwconv1, pwconv2;
    at::Tensor gamma;
    static CxBlock load(const runtime::Weights& w, const std::string& prefix, int64_t dim);
    at::Tensor operator()(const at::Tensor& x) const;
};

class MemoryEncoder {
  public:
    // memory_encoder.* and no_obj_embed_spatial; widths from the shapes (in_dim from
    // pix_feat_proj, mem_dim from out_proj, the downsampler's depth from its convolutions).
    MemoryEncoder(const runtime::Weights& w, const MemoryEncoderOptions& options = {});
    // load() as a value: a missing or misshaped tensor is one line naming file and tensor.
    static Result<MemoryEncoder> load(const std::map<std::string, at::Tensor>& tensors,
                                      const std::string& file_label,
                                      const MemoryEncoderOptions& options = {});

    // MemoryEncoder.forward(pix_feat, masks, skip_mask_sigmoid=True): masks B x 1 x 16H x 16W
    // already scaled (mask_for_memory); the no-object embedding is not added here.
    MemoryEncoding forward(const at::Tensor& pix_feat, const at::Tensor& masks) const;
    // forward's features alone.
    at::Tensor forward_features(const at::Tensor& pix_feat, const at::Tensor& masks) const;

    // SAM2Base._encode_new_memory: pix_feat B x in_dim x H x W (the frame's lowest-resolution
    // features, without no_mem_embed), high_res_masks B x 1 x 16H x 16W logits,
    // object_score_logits B x 1. `is_mask_from_pts`: a memory of a frame the user prompted.
    MemoryEncoding encode_new_memory(const at::Tensor& pix_feat, const at::Tensor& high_res_masks,
                                     const at::Tensor& object_score_logits,
                                     bool is_mask_from_pts) const;
    // Its features only (the position encoding, the same for every memory, is not remade). A
    // batch of masks may share one frame's pix_feat (batch 1): projected once, then broadcast.
    at::Tensor encode_new_memory_features(const at::Tensor& pix_feat,
                                          const at::Tensor& high_res_masks,
                                          const at::Tensor& object_score_logits,
                                          bool is_mask_from_pts) const;

    // The mask the encoder reads: (logits > 0) for prompted frames when binarising, else
    // sigmoid(logits); then * scale + bias. In float32, the network's dtype on return.
    at::Tensor mask_for_memory(const at::Tensor& high_res_masks, bool is_mask_from_pts) const;

    int64_t in_dim() const { return in_dim_; }
    int64_t mem_dim() const { return mem_dim_; }
    at::ScalarType dtype() const { return pix_feat_proj_.weight.scalar_type(); }

  private:
    MemoryEncoderOptions options_;
    int64_t in_dim_ = 256, mem_dim_ = 64;
    // mask_downsampler.encoder: (conv stride 2, LayerNorm2d, GELU) per level, then a 1x1 conv.
    std::vector<runtime::Conv2d> down_convs_;
    std::vector<runtime::LayerNorm2d> down_norms_;
    runtime::Conv2d down_out_;
    runtime::Conv2d pix_feat_proj_;
    std::vector<CxBlock> fuser_;
    runtime::Conv2d out_proj_;         // undefined weight when out_dim == in_dim (nn.Identity)
    at::Tensor no_obj_embed_spatial_;  // 1 x mem_dim, or undefined (not in the checkpoint)
};

// Rounds memory features as the video predictor stores them (maskmem_features.to(bfloat16)),
// returned in `dtype`: the values every later memory attention reads.
at::Tensor stored_memory_features(const at::Tensor& features, at::ScalarType dtype);

}  // namespace ps::sam2
