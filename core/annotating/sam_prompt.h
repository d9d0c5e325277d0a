// The one conversion between the prompts a project stores (annotation::ObjectPrompts, in
// full-resolution pixels) and the prompt a promptable segmenter decodes (runtime::Prompt, in the
// engine's work-image pixels), and the one place the multimask rule lives. The session, batch
// annotation and the window's clicks all go through it.
#pragma once

#include <opencv2/core/types.hpp>

#include <array>
#include <optional>
#include <vector>

#include "annotation/annotation.h"
#include "models/runtime/segmentation_types.h"

namespace ps::annotating {

// Several prompts (points, or a box) ask for one mask; a single click is ambiguous and asks for
// SAM's three candidates (the advice of the segment-anything README).
bool wants_multimask(size_t point_count, bool has_box);

// `points` and `box` given in a `from`-sized frame, scaled by to / from per axis (as SAM's
// ResizeLongestSide scales prompts with the image); empty sizes mean no scaling. multimask follows
// wants_multimask.
runtime::Prompt to_sam_prompt(const std::vector<runtime::Point>& points,
                              const std::optional<std::array<double, 4>>& box, cv::Size from = {},
                              cv::Size to = {});
// A stored prompt (full-resolution pixels) for a decode on the `work`-sized image.
runtime::Prompt to_sam_prompt(const annotation::ObjectPrompts& prompts, cv::Size full,
                              cv::Size work);
// The inverse: points and box given on the `work`-sized image, stored at full resolution.
annotation::ObjectPrompts to_object_prompts(const std::vector<runtime::Point>& points,
                                            const std::optional<std::array<double, 4>>& box,
                                            cv::Size work, cv::Size full);

}  // namespace ps::annotating
