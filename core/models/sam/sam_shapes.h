// Every tensor name and shape of a SAM state dict for a given configuration, with the official
// key names. Used to check inference against official layouts and to make random checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/runtime/tensor_specs.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

runtime::TensorSpecs sam_tensor_specs(const SamConfig& config);

// The released configurations: "vit_b", "vit_l", "vit_h", "mobile_sam". Throws on other names.
SamConfig official_sam_config(const std::string& arch);

}  // namespace ps::sam
