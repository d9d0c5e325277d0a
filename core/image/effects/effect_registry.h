// The effects by name: parameter specifications, "k=v" parsing with clear errors, and dispatch.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "common/result.h"
#include "image/effects/effect_params.h"
#include "image/effects/effect_target.h"

namespace ps::image {

struct EffectInfo {
    std::string name;  // "bw", "pop_art", "pop_art_grid", "dither", "halftone", "duotone"
    std::string help;
    std::vector<ParamSpec> params;
};

// Every effect, in a fixed order.
const std::vector<EffectInfo>& effect_catalogue();

// nullptr when there is no effect of that name.
const EffectInfo* find_effect(const std::string& name);

// Parses "k=v" assignments for `effect`. Errors (ErrorKind::InvalidArgument) name the effect,
// the parameter and what was expected: "halftone: cell=1 is out of range 2..256".
Result<EffectParams> parse_effect_params(const std::string& effect,
                                         const std::vector<std::string>& assignments);

// Runs the named effect on a CV_8UC3 RGB image. Errors for an unknown effect, parameters parsed
// for another effect, or a bad image; never throws.
Result<cv::Mat> apply_effect(const std::string& effect, const cv::Mat& rgb,
                             const EffectParams& params);

// "all", "object" or "background".
Result<EffectTarget> parse_effect_target(const std::string& text);

// A human-readable list of the effects and their parameters with defaults and ranges.
std::string describe_effects();

}  // namespace ps::image
