// The image encoder interface shared by SAM's ViT and MobileSAM's TinyViT.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>

#include "models/runtime/weights.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

class ImageEncoder {
  public:
    virtual ~ImageEncoder() = default;
    // x: normalised, padded 1x3xSxS image in the model's dtype; returns 1xCxGxG.
    virtual at::Tensor forward(const at::Tensor& x) const = 0;
};

std::unique_ptr<ImageEncoder> make_vit_encoder(const runtime::Weights& w, const SamConfig& config);
std::unique_ptr<ImageEncoder> make_tiny_vit_encoder(const runtime::Weights& w,
                                                    const SamConfig& config);

}  // namespace ps::sam
