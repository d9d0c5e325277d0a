// SAM's prompt encoder: Fourier features for points and box corners, mask downscaling.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "models/runtime/layers.h"
#include "models/runtime/prompt_encoding.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

struct EncodedPrompt {
    at::Tensor sparse;            // 1 x T x C
    at::Tensor dense;             // 1 x C x G x G
    bool has_mask_input = false;  // else dense is no_mask_dense()
};

class PromptEncoder {
  public:
    PromptEncoder(const runtime::Weights& w, const SamConfig& config);

    // point_coords: N x 2 (float, input frame, e.g. 1024), labels: 1 object, 0 background.
    // box: [4] or undefined. mask_input: 1 x 1 x 4G x 4G logits or undefined.
    EncodedPrompt forward(const at::Tensor& point_coords, const std::vector<int>& labels,
                          const at::Tensor& box, const at::Tensor& mask_input) const;
    // The dense embedding of a prompt without a mask input: no_mask_embed over the grid.
    at::Tensor no_mask_dense() const;
    // get_dense_pe(): the Fourier encoding of the G x G cell centres, 1 x C x G x G.
    const at::Tensor& dense_positional_encoding() const { return dense_pe_; }
    // _pe_encoding of coordinates already normalised to [0, 1]: ... x 2 -> ... x C.
    at::Tensor fourier(const at::Tensor& unit_coords) const;

  private:
    at::Tensor embed_points(const at::Tensor& coords, const std::vector<int>& labels,
                            bool pad) const;
    at::Tensor embed_box(const at::Tensor& box) const;
    at::Tensor embed_mask(const at::Tensor& mask) const;

    runtime::FourierPositionEncoding pe_layer_;
    runtime::PromptEmbeddings embeddings_;
    runtime::MaskDownscaling mask_downscaling_;
    int64_t input_size_, grid_, dim_;
    at::Tensor dense_pe_;
};

}  // namespace ps::sam
