// Random SAM weights for benchmarks and tests.
#include "models/sam/sam_init.h"

#include <ATen/ATen.h>

#include "models/sam/sam_shapes.h"

namespace ps::sam {

std::map<std::string, at::Tensor> random_sam_tensors(const SamConfig& config, uint64_t seed) {
    return random_tensors(sam_tensor_specs(config), seed);
}

std::map<std::string, at::Tensor> random_tensors(const std::map<std::string, TensorSpec>& specs,
                                                 uint64_t seed) {
    at::manual_seed(seed);
    std::map<std::string, at::Tensor> tensors;
    for (const auto& [key, spec] : specs) {
        at::Tensor t;
        if (spec.integer) {
            t = at::zeros(spec.shape, at::kLong);
        } else if (key.find("running_var") != std::string::npos) {
            t = at::rand(spec.shape) + 0.5;
        } else {
            t = at::randn(spec.shape) * 0.05;
            if (key.find("output_hypernetworks_mlps") != std::string::npos &&
                key.find("layers.2") != std::string::npos) {
                t = t * 30;
            }
        }
        tensors[key] = t;
    }
    return tensors;
}

}  // namespace ps::sam
