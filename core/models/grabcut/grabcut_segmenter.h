// The built-in segmenter without weights: OpenCV's GrabCut answering the same prompts as SAM.
#pragma once

#include <opencv2/core/mat.hpp>

#include "common/result.h"
#include "models/runtime/segmentation_types.h"

namespace ps::grabcut {

struct GrabCutOptions {
    // GrabCut costs grow with the pixel count (GMM fitting and a max-flow per iteration), so it
    // runs on a copy whose long side is at most this many pixels (0 = full resolution).
    int work_long_side = 512;  // pixels
    int iterations = 5;        // cv::grabCut's iterCount
};

// Segments `rgb` (CV_8UC3, RGB) from SAM's prompt types, so the GUI drives both segmenters alike.
// Each click claims a neighbourhood (a disc of 1/8 of the long side) and a seed (4 px at
// working scale) at its centre:
//  - With a box: outside it is definite background, inside probable foreground (what
//    GC_INIT_WITH_RECT does); background-click neighbourhoods inside it become probable
//    background.
//  - Points only: probable background everywhere, object-click neighbourhoods probable
//    foreground, then background-click neighbourhoods probable background again. Of the result,
//    only the connected regions that hold an object click are kept: GrabCut's colour models are
//    global and would also select same-coloured objects elsewhere.
// Seeds are definite foreground (object clicks) or background (background clicks, painted last
// so a corrective click wins). Needs at least one object point or a box.
// Returns one mask (CV_8UC1, 0/255, the input's size, upscaled bilinearly then thresholded)
// whatever prompt.multimask says; prompt.mask_input is ignored. GrabCut predicts no quality, so
// iou is {1.0}: a fixed value, not an estimate, to keep the single mask chosen and the numbers
// JSON-safe. low_res_logits is empty; decode_ms covers downscaling and GrabCut, postprocess_ms
// the upscaling of the mask.
// Errors: empty or non-CV_8UC3 image, no positive point and no box, a label other than 0 or 1,
// a non-finite coordinate, an empty box or one covering the whole image (GrabCut needs some
// background to learn from), invalid options.
Result<runtime::MaskSet> grabcut_segment(const cv::Mat& rgb, const runtime::Prompt& prompt,
                                         const GrabCutOptions& options = {});

}  // namespace ps::grabcut
