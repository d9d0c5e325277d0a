// A state dict's layout (every key's shape) and random tensors for it: how each family describes
// its published checkpoints, and how tests and benchmarks make full-size ones without downloads.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ps::runtime {

struct TensorSpec {
    std::vector<int64_t> shape;
    bool integer = false;  // counters such as BatchNorm's num_batches_tracked (int64)
};

using TensorSpecs = std::map<std::string, TensorSpec>;

// Seeded; weights ~ N(0, 0.05²), BatchNorm variances ("running_var") in [0.5, 1.5), integer
// tensors 0. Keys are drawn in sorted order, so a layout and a seed give the same tensors.
std::map<std::string, at::Tensor> random_tensors(const TensorSpecs& specs, uint64_t seed);

}  // namespace ps::runtime
