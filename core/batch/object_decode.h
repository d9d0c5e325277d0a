// One point-file object through the engine's frame: its prompts go to the engine's work image
// through annotating::to_sam_prompt, and the masks that come back go the other way into a
// full-resolution, unverified AnnotatedObject.
#pragma once

#include <opencv2/core/types.hpp>

#include <string>

#include "annotation/annotation.h"
#include "common/result.h"
#include "models/sam/sam_model.h"

namespace ps::batch {

// Error unless every point lies in [0, width] × [0, height] and the box within the image too
// (coordinates are continuous: the far edge of the last pixel is `width`). The message names the
// offending coordinate and the image size; `where` prefixes it ("object 2 (cat)").
Status check_prompts_inside(const annotation::ObjectPrompts& prompts, cv::Size full,
                            const std::string& where);

// The candidate with the highest predicted IoU among the non-empty ones, brought to full
// resolution (image::upscale_mask) and run-length encoded, unverified. An answer whose every
// candidate is empty is an error, never an object with an empty mask.
Result<annotation::AnnotatedObject> object_from_masks(const sam::SamMaskSet& masks,
                                                      const std::string& label,
                                                      const annotation::ObjectPrompts& prompts,
                                                      const std::string& model_name, cv::Size full,
                                                      const std::string& where);

}  // namespace ps::batch
