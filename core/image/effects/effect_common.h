// Shared pieces of the stylised effects: input checks, Rec.709 luma and colour lists.
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <vector>

namespace ps::image {

// A list of colours in the image's channel order (R, G, B for our RGB images).
using Palette = std::vector<cv::Vec3b>;

// Throws std::invalid_argument("<who>: expected a non-empty 2-D CV_8UC3 (RGB) image, got ...")
// unless `rgb` is one; every effect calls it first, in the CV_Assert habit.
void require_rgb8(const cv::Mat& rgb, const char* who);

// Rec.709 luma of gamma-encoded RGB, 0.2126 R + 0.7152 G + 0.0722 B, rounded: CV_8UC1 of the
// same size. The weights sum to 1, so grey (R=G=B=v) maps to v exactly, black to 0, white to 255.
// (cv::COLOR_RGB2GRAY uses Rec.601 weights, which weigh red and blue more.)
cv::Mat luminance_709(const cv::Mat& rgb);

// A 256-entry colour table indexed by a CV_8UC1 image (luma): CV_8UC3 of its size.
using LumaColourTable = std::array<cv::Vec3b, 256>;
cv::Mat map_luma_to_colours(const cv::Mat& luma, const LumaColourTable& table);

// A CV_8UC3 image with R = G = B = `grey` (CV_8UC1).
cv::Mat grey_to_rgb(const cv::Mat& grey);

}  // namespace ps::image
