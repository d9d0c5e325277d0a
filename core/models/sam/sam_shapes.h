// Every tensor name and shape of a SAM state dict for a given configuration, with the official
// key names. Used to check inference against official layouts and to make random checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/sam/sam_config.h"

namespace ps::sam {

struct TensorSpec {
    std::vector<int64_t> shape;
    bool integer = false;  // BatchNorm's num_batches_tracked (int64)
};

std::map<std::string, TensorSpec> sam_tensor_specs(const SamConfig& config);

// The released configurations: "vit_b", "vit_l", "vit_h", "mobile_sam". Throws on other names.
SamConfig official_sam_config(const std::string& arch);

}  // namespace ps::sam
