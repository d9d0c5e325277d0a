// SAM 2's FpnNeck (sam2/modeling/backbones/image_encoder.py) with ImageEncoder's scalp, and the
// PositionEmbeddingSine of its levels (position_encoding.py).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "models/runtime/layers.h"
#include "models/sam2/sam2_config.h"

namespace ps::sam2 {

class FpnNeck {
  public:
    FpnNeck(const runtime::Weights& w, const Sam2Config& config);
    // trunk: the Hiera stage outputs, finest first. Returns every level, finest first, d_model
    // channels each (ImageEncoder's scalp drops the coarsest afterwards: Sam2Network).
    std::vector<at::Tensor> forward(const std::vector<at::Tensor>& trunk) const;

  private:
    std::vector<runtime::Conv2d> convs_;  // convs.0 reads the coarsest stage
    std::vector<int64_t> top_down_levels_;
};

// PositionEmbeddingSine(num_pos_feats = channels, temperature 10000, normalize, scale 2π) of an
// H x W map: 1 x channels x H x W float32 (the vision_pos_enc of each level).
at::Tensor sine_position_encoding(int64_t channels, int64_t H, int64_t W, const at::Device& device);

}  // namespace ps::sam2
