// The definition of sam2_model.h's opaque Sam2Embedding (holds tensors).
#pragma once

#include "models/sam2/sam2_network.h"

namespace ps::sam2 {

struct Sam2Embedding {
    Sam2ImageFeatures features;
    int original_height = 0, original_width = 0;
    double preprocess_ms = 0, encode_ms = 0;
};

}  // namespace ps::sam2
