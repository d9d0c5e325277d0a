// Definitions of the opaque handles of sam_model.h (engine-internal; holds tensors).
#pragma once

#include <ATen/core/Tensor.h>

#include "models/runtime/mask_logits.h"
#include "models/sam/mask_decoder.h"
#include "models/sam/sam_model.h"
#include "models/sam/sam_transforms.h"

namespace ps::sam {

// SamLogits (runtime::MaskLogits) holds 1 x 1 x 4G x 4G float32 logits.

struct SamEmbedding {
    at::Tensor embedding;  // 1 x C x G x G in the model's dtype and device
    Size2 original;        // image size before resizing
    Size2 resized;         // after ResizeLongestSide
    // CPU only: the decoder's per-image projections, made with the embedding and read-only
    // after, so concurrent clicks share them. CUDA graphs record the whole decoder instead.
    ImageProjections decoder_image;
    double preprocess_ms = 0;  // resize, upload, normalise, pad
    double encode_ms = 0;      // image encoder, and on the CPU the decoder's projections
};

}  // namespace ps::sam
