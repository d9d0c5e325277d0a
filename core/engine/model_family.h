// Which model family a checkpoint holds, read off its tensors' names and shapes: the one place
// that tries each family's configuration inference, for the registry (which loader runs) and
// for checkpoint discovery (what the Models list shows). A new family adds one test here.
#pragma once

#include <string>

#include "common/result.h"
#include "io/checkpoint.h"

namespace ps::engine {

struct FamilyMatch {
    std::string family;  // "sam", "mobile_sam", "sam2", "u2net", "isnet", ...
    std::string arch;    // "vit_b", "mobile_sam", "u2netp", "u2net_custom", "isnet", ...
    long long parameter_count = 0;
    std::string description;  // one line for people: "u2netp: U²-Net background removal; ..."
    // Matting families: the size the image is resized to (width x height; a square for all
    // but BiRefNet_lite-2K), or the image's own size (BiRefNet_dynamic: `any_size`).
    int input_size = 0;  // the width
    int input_height = 0;
    bool any_size = false;
};

// An error when no family recognises the tensors; its message names the file and what the
// tensors look like (Segment Anything's inference describes foreign state dicts).
Result<FamilyMatch> identify_family(const io::TensorMap& tensors, const std::string& file_label);

}  // namespace ps::engine
