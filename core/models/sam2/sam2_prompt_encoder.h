// SAM 2's prompt encoder (sam2/modeling/sam/prompt_encoder.py): random Fourier features for
// points (box corners arrive as points labelled 2 and 3, as SAM2ImagePredictor sends them), and
// the mask downscaling.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "models/runtime/layers.h"
#include "models/runtime/prompt_encoding.h"
#include "models/sam2/sam2_config.h"

namespace ps::sam2 {

struct Sam2EncodedPrompt {
    at::Tensor sparse;  // 1 x T x C
    at::Tensor dense;   // 1 x C x G x G
};

class Sam2PromptEncoder {
  public:
    Sam2PromptEncoder(const runtime::Weights& w, const Sam2Config& config);

    // coords: N x 2 in the model's input frame (0..image_size), labels: 0 background,
    // 1 object, 2 / 3 box corners. The predictor always pads with a not-a-point (boxes=None).
    // mask_input: 1 x 1 x 4G x 4G logits or undefined.
    Sam2EncodedPrompt forward(const at::Tensor& coords, const std::vector<int>& labels,
                              const at::Tensor& mask_input) const;
    // get_dense_pe(): 1 x C x G x G.
    const at::Tensor& dense_positional_encoding() const { return dense_pe_; }

  private:
    runtime::FourierPositionEncoding pe_layer_;
    runtime::PromptEmbeddings embeddings_;
    runtime::MaskDownscaling mask_downscaling_;
    int64_t input_size_, grid_, dim_;
    at::Tensor dense_pe_;
};

}  // namespace ps::sam2
