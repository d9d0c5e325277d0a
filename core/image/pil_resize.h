// Pillow's BILINEAR resize reproduced bit for bit (SAM's and U²-Net's preprocessing use it), and
// its BICUBIC (Image.resize's default filter for RGB images; BiRefNet's evaluation loader).
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

// src: CV_8UC1, CV_8UC3 or CV_8UC4. Returns an image of the same type at out_width x out_height.
// Separable: horizontal pass only if the width changes, then vertical only if the height changes,
// with a u8 intermediate, 22-bit fixed-point weights and Pillow's rounding. Throws
// std::invalid_argument on empty input, unsupported type or non-positive sizes.
cv::Mat pil_resize_bilinear(const cv::Mat& src, int out_width, int out_height);

// The same with Pillow's bicubic filter (a = -0.5, support 2, negative taps rounded away from
// zero, sums clipped to 0..255).
cv::Mat pil_resize_bicubic(const cv::Mat& src, int out_width, int out_height);

}  // namespace ps::image
