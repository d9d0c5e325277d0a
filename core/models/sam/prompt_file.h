// The prompts file format shared by the CLI and the tests:
// {"prompts": [{"points": [[x, y, label], ...], "box": [x0, y0, x1, y1], "multimask": true,
//               "refine": K}, ...]}
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/sam/sam_model.h"

namespace ps::sam {

struct PromptSpec {
    SamPrompt prompt;           // mask_input is left empty; the runner fills it from `refine`
    std::optional<int> refine;  // index of an earlier prompt whose best low-res logits to feed
};

Result<std::vector<PromptSpec>> parse_prompts(const std::string& json_text,
                                              const std::string& file_label);
Result<std::vector<PromptSpec>> read_prompts_file(const std::string& path);

}  // namespace ps::sam
