// Brush and eraser strokes rasterised with OpenCV's thick lines (round caps and joins).
#include "editing/mask_stroke.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <stdexcept>

namespace ps::editing {

cv::Mat paint_stroke(const cv::Mat& mask, cv::Size size, const std::vector<cv::Point2d>& points,
                     double radius_px, bool erase) {
    if (!mask.empty() && mask.type() != CV_8UC1) {
        throw std::invalid_argument("paint_stroke: the mask must be CV_8UC1");
    }
    if (!(radius_px >= 0.5)) throw std::invalid_argument("paint_stroke: radius below 0.5 px");
    cv::Mat out = mask.empty() ? cv::Mat::zeros(size, CV_8UC1) : mask.clone();
    if (points.empty()) return out;
    // cv::line and cv::circle take integer coordinates; a shift of 4 fractional bits keeps a
    // stroke where the pointer was at high zoom instead of snapping it to whole pixels.
    constexpr int kShift = 4;
    const auto fixed = [](const cv::Point2d& p) {
        return cv::Point(int(std::lround(p.x * (1 << kShift))),
                         int(std::lround(p.y * (1 << kShift))));
    };
    const cv::Scalar value = erase ? cv::Scalar(0) : cv::Scalar(255);
    const int radius = std::max(1, int(std::lround(radius_px)));
    // Discs at every vertex plus 2r-thick segments between them: OpenCV's thick lines are
    // round-capped too, but the discs keep single clicks and sharp turns fully covered.
    for (const cv::Point2d& p : points) {
        cv::circle(out, fixed(p), radius << kShift, value, cv::FILLED, cv::LINE_8, kShift);
    }
    for (size_t i = 1; i < points.size(); ++i) {
        cv::line(out, fixed(points[i - 1]), fixed(points[i]), value, 2 * radius, cv::LINE_8,
                 kShift);
    }
    return out;
}

}  // namespace ps::editing
