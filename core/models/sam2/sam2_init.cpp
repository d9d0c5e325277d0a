// Random SAM 2.1 weights for benchmarks and tests.
#include "models/sam2/sam2_init.h"

#include <ATen/ATen.h>

#include "models/runtime/tensor_specs.h"

namespace ps::sam2 {

std::map<std::string, at::Tensor> random_sam2_tensors(const Sam2Config& config, uint64_t seed) {
    std::map<std::string, at::Tensor> tensors =
        runtime::random_tensors(sam2_tensor_specs(config), seed);
    for (auto& [key, tensor] : tensors) {
        if (key.rfind("sam_mask_decoder.output_hypernetworks_mlps.", 0) == 0 &&
            key.find(".layers.2.") != std::string::npos)
            tensor = tensor * 30;
    }
    return tensors;
}

}  // namespace ps::sam2
