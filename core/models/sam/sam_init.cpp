// Random SAM weights for benchmarks and tests.
#include "models/sam/sam_init.h"

#include <ATen/ATen.h>

#include "models/runtime/tensor_specs.h"
#include "models/sam/sam_shapes.h"

namespace ps::sam {

std::map<std::string, at::Tensor> random_sam_tensors(const SamConfig& config, uint64_t seed) {
    std::map<std::string, at::Tensor> tensors =
        runtime::random_tensors(sam_tensor_specs(config), seed);
    // The hypernetworks' last layers ×30, so masks are not flat.
    for (auto& [key, tensor] : tensors)
        if (key.find("output_hypernetworks_mlps") != std::string::npos &&
            key.find("layers.2") != std::string::npos)
            tensor = tensor * 30;
    return tensors;
}

}  // namespace ps::sam
