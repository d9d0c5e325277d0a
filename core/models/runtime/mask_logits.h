// The definition of segmentation_types.h's opaque MaskLogits (holds a tensor).
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

struct MaskLogits {
    at::Tensor logits;  // 1 x 1 x H x W, float32, on the model's device
};

}  // namespace ps::runtime
