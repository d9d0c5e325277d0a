// Randomly initialised SAM 2.1 checkpoints with the official key names and shapes (the video
// parts included), so benchmarks and tests run without downloaded weights.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

#include "models/sam2/sam2_config.h"

namespace ps::sam2 {

// runtime::random_tensors of sam2_tensor_specs, with the hypernetworks' last layers ×30 (as
// SAM's random checkpoints and the golden data do) so masks are not flat.
std::map<std::string, at::Tensor> random_sam2_tensors(const Sam2Config& config, uint64_t seed);

}  // namespace ps::sam2
