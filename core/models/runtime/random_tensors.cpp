// Random checkpoints for any layout (see tensor_specs.h).
#include <ATen/ATen.h>

#include "models/runtime/tensor_specs.h"

namespace ps::runtime {

std::map<std::string, at::Tensor> random_tensors(const TensorSpecs& specs, uint64_t seed) {
    at::manual_seed(seed);
    std::map<std::string, at::Tensor> tensors;
    for (const auto& [key, spec] : specs) {
        if (spec.integer)
            tensors[key] = at::zeros(spec.shape, at::kLong);
        else if (key.find("running_var") != std::string::npos)
            tensors[key] = at::rand(spec.shape) + 0.5;
        else
            tensors[key] = at::randn(spec.shape) * 0.05;
    }
    return tensors;
}

}  // namespace ps::runtime
