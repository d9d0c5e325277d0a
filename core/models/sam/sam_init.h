// Randomly initialised SAM checkpoints with the official key names and shapes, so benchmarks
// and tests run without downloaded weights.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

#include "models/sam/sam_config.h"

namespace ps::sam {

// Seeded; weights ~ N(0, 0.05²), BatchNorm variances in [0.5, 1.5), counters 0. The hypernetworks'
// last layers are scaled ×30 (as the golden fixtures do) so masks are not flat.
std::map<std::string, at::Tensor> random_sam_tensors(const SamConfig& config, uint64_t seed);

}  // namespace ps::sam
