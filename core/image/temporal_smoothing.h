// Temporal smoothing of a video's mattes: the flicker of a per-frame model (a hair strand at 80
// then 120 then 85) damped, without the ghost trail that averaging leaves behind a moving
// subject. Deliberately not recursive: a frame's result depends only on its own and the previous
// frames' raw mattes, so a resumed run recomputes those few and writes the same bytes as an
// uninterrupted one.
#pragma once

#include <opencv2/core/mat.hpp>

#include <vector>

namespace ps::image {

// The previous raw mattes that smooth_matte reads.
inline constexpr int kSmoothingHistory = 2;

// A change of more than this many grey levels between frames is motion, not flicker: it passes
// through unsmoothed.
inline constexpr int kSmoothingMotionLevels = 48;

// current: this frame's raw matte (CV_8UC1); previous: the raw mattes of the frames before it,
// newest first, at most kSmoothingHistory used (fewer at the start of a video), same size.
// strength in [0, 1): the weight of the frame before relative to this one (s, then s² for the
// one before that), scaled down linearly to 0 as the change reaches kSmoothingMotionLevels.
// out = round(Σ wᵢ·mᵢ / Σ wᵢ). strength 0 or no previous frame: a copy of current.
cv::Mat smooth_matte(const cv::Mat& current, const std::vector<cv::Mat>& previous, double strength);

}  // namespace ps::image
