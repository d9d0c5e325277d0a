// What a promptable segmenter takes and gives, whichever family answers (SAM, MobileSAM, GrabCut
// and the next ones): points and a box in original-image pixels in, scored masks out. No ATen
// here: the app and the annotation code include it.
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.h"

namespace ps::runtime {

struct Point {
    double x = 0, y = 0;  // original-image pixels, fractional allowed
    int label = 1;        // 1 object, 0 background
};

// A model's low-resolution mask logits, kept on its device to feed back as a prompt's
// mask_input (defined in mask_logits.h, with ATen).
struct MaskLogits;

struct Prompt {
    std::vector<Point> points;
    std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1 in original-image pixels
    bool multimask = true;
    std::shared_ptr<const MaskLogits> mask_input;
};

// The validation every prompt passes before a decode, whoever sends it (segment, annotate, the
// app): point labels 0/1, then io::check_prompt (at most 64 points, finite coordinates inside the
// width × height image, a box with x0 < x1 and y0 < y1). See docs/limits.md.
Status check_prompt(const Prompt& prompt, int width, int height);

struct MaskSet {
    std::vector<cv::Mat> masks;  // CV_8UC1, 0/255, original image size, in the model's order
    std::vector<float> iou;      // predicted IoU per mask
    std::vector<std::shared_ptr<const MaskLogits>> low_res_logits;  // per mask
    int best_index = 0;                                             // argmax of iou
    double decode_ms = 0, postprocess_ms = 0;
};

}  // namespace ps::runtime
