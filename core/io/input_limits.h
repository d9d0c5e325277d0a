// Limits on every input a user or a file controls (prompts, prompt files, label text), and the
// one validation that `segment`, `annotate` and the app all apply. docs/limits.md lists them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ps::io {

// SAM's decoder attends over every point token and its cost grows with the square of the count
// (10,000 points: 6.5 GB, 20 s); SAM's own demo uses a handful of clicks.
inline constexpr size_t kMaxPointsPerPrompt = 64;
// Prompts in one PROMPTS.json, and objects for one image in POINTS.json (each is a decode and a
// set of PNGs; 400,000 prompts would have run ~4.5 h and written 1.2M files).
inline constexpr size_t kMaxPromptsPerFile = 10'000;
// PROMPTS.json and POINTS.json are read whole into memory.
inline constexpr int64_t kMaxPromptFileBytes = 64LL * 1024 * 1024;
// Label names: written one per line into classes.txt / labels.txt and shown in the UI.
inline constexpr size_t kMaxLabelChars = 256;

struct PromptGeometry {
    std::vector<std::array<double, 2>> points;  // x, y in image pixels
    std::optional<std::array<double, 4>> box;   // x0, y0, x1, y1
};

// Every check that needs no image: at most kMaxPointsPerPrompt points, finite coordinates, a box
// with x0 < x1 and y0 < y1 (so non-zero area), and at least one point or a box. The one-line
// message has no prefix; callers put the file and prompt in front.
Status check_prompt_shape(const PromptGeometry& prompt);

// check_prompt_shape, then every point within [0, width] × [0, height] and the box within the
// image too (continuous coordinates: the far edge of the last pixel is `width`; no tolerance
// beyond that edge, as annotate has always checked).
Status check_prompt(const PromptGeometry& prompt, int width, int height);

// A label name as stored: trimmed of surrounding white space, non-empty, at most kMaxLabelChars
// characters (Unicode code points), and no control characters (a newline would split
// classes.txt). The error says which rule failed and shows the name escaped.
Result<std::string> check_label(const std::string& name);

}  // namespace ps::io
