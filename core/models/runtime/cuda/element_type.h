// The element types the runtime's kernels take (plain C++: nvcc sees no torch).
#pragma once

namespace ps::runtime::cuda {

enum class ElementType { F32, F16, BF16 };

}  // namespace ps::runtime::cuda
