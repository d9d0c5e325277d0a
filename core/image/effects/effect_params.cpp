// Parameter specifications of the effects: parsing and validating "k=v" text, typed reads.
#include "image/effects/effect_params.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

namespace ps::image {

namespace {

std::optional<double> parse_real(const std::string& text) {
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::optional<cv::Vec3b> parse_colour(std::string text) {
    if (!text.empty() && text[0] == '#') text.erase(0, 1);
    if (text.size() != 6 || !std::all_of(text.begin(), text.end(),
                                         [](unsigned char c) { return std::isxdigit(c) != 0; }))
        return std::nullopt;
    const unsigned long value = std::strtoul(text.c_str(), nullptr, 16);
    return cv::Vec3b(static_cast<uchar>(value >> 16), static_cast<uchar>(value >> 8),
                     static_cast<uchar>(value));
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
    if (!text.empty() && text.back() == separator) parts.emplace_back();
    return parts;
}

std::string range_text(const ParamSpec& spec) {
    std::ostringstream text;
    text << spec.min << ".." << spec.max;
    return text.str();
}

}  // namespace

// Shortest text of a number: 2, 0.1, 45 (not std::to_string's 2.000000).
std::string number_text(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
}

std::string colour_text(const cv::Vec3b& c) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", c[0], c[1], c[2]);
    return buffer;
}

std::string join_words(const std::vector<std::string>& words, const std::string& separator) {
    std::string joined;
    for (size_t i = 0; i < words.size(); ++i) joined += (i ? separator : "") + words[i];
    return joined;
}

// Canonical text of a valid value, or the reason it is not one.
Result<std::string> validate_param(const std::string& effect, const ParamSpec& spec,
                                   const std::string& value) {
    const std::string head = effect + ": " + spec.name + "=" + value;
    auto invalid = [&](const std::string& why) {
        return make_error(ErrorKind::InvalidArgument, head + " " + why);
    };
    switch (spec.kind) {
        case ParamKind::Integer:
        case ParamKind::Real: {
            const std::optional<double> number = parse_real(value);
            const bool integer = spec.kind == ParamKind::Integer;
            if (!number || (integer && *number != std::floor(*number)))
                return invalid(std::string("is not ") + (integer ? "a whole number" : "a number") +
                               " (expected " + range_text(spec) + ")");
            if (*number < spec.min || *number > spec.max)
                return invalid("is out of range " + range_text(spec));
            return integer ? std::to_string(static_cast<long long>(*number)) : value;
        }
        case ParamKind::Boolean:
            if (value == "true" || value == "1" || value == "yes" || value == "on")
                return std::string("true");
            if (value == "false" || value == "0" || value == "no" || value == "off")
                return std::string("false");
            return invalid("is not true or false");
        case ParamKind::Choice:
            if (std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end())
                return invalid("is not one of " + join_words(spec.choices, ", "));
            return value;
        case ParamKind::Colour:
            if (auto colour = parse_colour(value)) return colour_text(*colour);
            return invalid("is not a colour (expected #RRGGBB, e.g. #ff8800)");
        case ParamKind::Colours: {
            if (std::find(spec.choices.begin(), spec.choices.end(), value) != spec.choices.end())
                return value;
            std::vector<std::string> canonical;
            for (const std::string& item : split(value, ',')) {
                const std::optional<cv::Vec3b> colour = parse_colour(item);
                if (!colour)
                    return invalid(
                        "holds '" + item + "', not a colour (expected " +
                        (spec.choices.empty() ? "" : join_words(spec.choices, ", ") + " or ") +
                        "a list #RRGGBB,#RRGGBB,...)");
                canonical.push_back(colour_text(*colour));
            }
            if (canonical.size() < spec.min || canonical.size() > spec.max)
                return invalid("has " + std::to_string(canonical.size()) + " colours, expected " +
                               range_text(spec));
            return join_words(canonical, ",");
        }
    }
    return invalid("has an unknown kind");
}

std::string palette_text(const Palette& palette) {
    std::vector<std::string> colours;
    for (const cv::Vec3b& c : palette) colours.push_back(colour_text(c));
    return join_words(colours, ",");
}

std::string describe_param(const ParamSpec& spec) {
    std::ostringstream text;
    text << spec.name << "=" << spec.default_value;
    if (spec.kind == ParamKind::Integer || spec.kind == ParamKind::Real)
        text << "  (" << range_text(spec) << ")";
    else if (spec.kind == ParamKind::Choice)
        text << "  (" << join_words(spec.choices, "|") << ")";
    else if (spec.kind == ParamKind::Boolean)
        text << "  (true|false)";
    else if (spec.kind == ParamKind::Colours)
        text << "  (" << range_text(spec) << " colours #RRGGBB,...)";
    text << "  " << spec.help;
    return text.str();
}

const std::string& EffectParams::text(const std::string& name) const {
    return values.at(name);
}
double EffectParams::real(const std::string& name) const {
    return *parse_real(text(name));
}
int EffectParams::integer(const std::string& name) const {
    return static_cast<int>(real(name));
}
bool EffectParams::boolean(const std::string& name) const {
    return text(name) == "true";
}
cv::Vec3b EffectParams::colour(const std::string& name) const {
    return *parse_colour(text(name));
}

Palette EffectParams::colours(const std::string& name) const {
    Palette palette;
    const std::string& value = text(name);
    if (value.empty() || value[0] != '#') return palette;  // a word such as "bw"
    for (const std::string& item : split(value, ',')) palette.push_back(*parse_colour(item));
    return palette;
}

}  // namespace ps::image
