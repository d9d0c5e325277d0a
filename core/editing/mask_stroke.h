// Hand edits of a mask: a brush stroke adds a round-capped band along a polyline, an eraser
// stroke cuts it out. Pure functions over CV_8UC1 0/255 masks, for the brush and eraser tools.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <vector>

namespace ps::editing {

// A copy of `mask` with every pixel within `radius_px` of the polyline `points` set to 255
// (erase: 0). One point paints a disc. `mask` must be CV_8UC1 (an empty mask of `size` is used
// when it is empty); points are in the mask's pixel coordinates and may lie outside it.
// Throws std::invalid_argument on a mask of another type or a radius below 0.5 px.
cv::Mat paint_stroke(const cv::Mat& mask, cv::Size size, const std::vector<cv::Point2d>& points,
                     double radius_px, bool erase);

}  // namespace ps::editing
