// The kernels' element type of an ATen dtype (float, half, bfloat16; anything else is float and
// is refused before a launch by each caller's own check).
#pragma once

#include <c10/core/ScalarType.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime {

inline cuda::ElementType cuda_element_type(at::ScalarType type) {
    return type == at::kHalf       ? cuda::ElementType::F16
           : type == at::kBFloat16 ? cuda::ElementType::BF16
                                   : cuda::ElementType::F32;
}

}  // namespace ps::runtime
