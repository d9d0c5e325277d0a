// The smaller working copy of an image for interactive work.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

// Long side, in pixels, of the working copy by default (EngineSettings::downscale_max,
// PHOTOSYNTH_DOWNSCALE_MAX).
constexpr int kDefaultDownscaleMax = 4096;

// Returns `rgb` itself (same data, no copy) when its long side is within max_long_side or
// max_long_side is 0 (off); else an area-resampled (cv::INTER_AREA) copy whose long side is
// max_long_side and whose short side keeps the aspect ratio, rounded half up, at least 1 px.
// Any type cv::resize accepts. Throws std::invalid_argument on an empty or non-2-D image or a
// negative max_long_side. Exports keep using the full-resolution image.
cv::Mat downscale_for_interactive(const cv::Mat& rgb, int max_long_side);

}  // namespace ps::image
