// Pixel work for exporting masks: full-resolution masks, alpha cut-outs and coloured overlays.
#pragma once

#include <opencv2/core/mat.hpp>

#include <vector>

namespace ps::image {

// A CV_8UC1 mask brought to `full` size: bilinear (cv::INTER_LINEAR) then > 127 → 255, else 0.
// Bilinear-then-threshold puts the edges of an integer-factor upscale exactly where the mask's
// edges scale to and smooths the staircase of a fractional one (nearest-neighbour would not); it
// also rounds convex corners off (at 3x a block loses its corner pixels).
// Any nonzero-vs-zero 8-bit mask works; the result is always 0/255 CV_8UC1.
// Throws std::invalid_argument on an empty or non-CV_8UC1 mask or a non-positive size.
cv::Mat upscale_mask(const cv::Mat& mask, cv::Size full);

// CV_8UC4 image in the input's channel order plus alpha (R, G, B, A for RGB input), straight
// (not premultiplied) alpha equal to `mask`, colour copied unchanged even where alpha is 0, so
// a soft or edited alpha later never reveals black fringes. rgb: CV_8UC3; mask: CV_8UC1 of the
// same size. Throws std::invalid_argument otherwise.
cv::Mat cutout_rgba(const cv::Mat& rgb, const cv::Mat& mask);

// A copy of `rgb` (CV_8UC3) with each mask (CV_8UC1, same size, nonzero = inside) filled with
// its colour (same channel order as rgb) at `opacity` (0..1): out = rgb * (1 - opacity) +
// colour * opacity, rounded. Masks are painted in order, later ones over earlier ones. With
// `outline`, each mask's 3×3 morphological gradient (a 2-px band straddling its edge: one pixel
// inside, one outside) is then painted in the full colour, so thin or faint fills stay visible.
// Throws std::invalid_argument on mismatched sizes or types, masks.size() != colours.size(),
// or opacity outside [0, 1].
cv::Mat overlay(const cv::Mat& rgb, const std::vector<cv::Mat>& masks,
                const std::vector<cv::Scalar>& colours, double opacity, bool outline);

}  // namespace ps::image
