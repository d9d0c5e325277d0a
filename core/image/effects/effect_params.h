// Parameters of the effects: specifications, validated values as text, typed reads.
#pragma once

#include <opencv2/core/mat.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "image/effects/effect_common.h"

namespace ps::image {

enum class ParamKind { Integer, Real, Boolean, Choice, Colour, Colours };

struct ParamSpec {
    std::string name;
    ParamKind kind;
    std::string default_value;         // canonical text, as parse_effect_params stores it
    double min = 0, max = 0;           // Integer, Real: inclusive range; Colours: colour count
    std::vector<std::string> choices;  // Choice: the values; Colours: words allowed instead
    std::string help;
};

// Validated parameters of one effect: every parameter present, defaults filled in, as text.
struct EffectParams {
    std::string effect;
    std::map<std::string, std::string> values;
    std::set<std::string> given;  // names set explicitly

    // Typed reads of validated values; throw std::out_of_range for a name not in `values`.
    double real(const std::string& name) const;
    int integer(const std::string& name) const;
    bool boolean(const std::string& name) const;
    cv::Vec3b colour(const std::string& name) const;
    Palette colours(const std::string& name) const;  // empty when the value is a word
    const std::string& text(const std::string& name) const;
};

// The canonical text of `value` for `spec`, or an InvalidArgument error naming the effect,
// the parameter and what was expected: "halftone: cell=1 is out of range 2..256".
Result<std::string> validate_param(const std::string& effect, const ParamSpec& spec,
                                   const std::string& value);

// One line for help: "cell=8  (2..256)  screen period (px)".
std::string describe_param(const ParamSpec& spec);

// Texts as validate_param writes them, for defaults: 2, 0.1, 45; #ff8800; #000000,#ffffff.
std::string number_text(double value);
std::string colour_text(const cv::Vec3b& colour);
std::string palette_text(const Palette& palette);

std::string join_words(const std::vector<std::string>& words, const std::string& separator);

}  // namespace ps::image
