// Motion-adaptive weighted mean over a matte's last few frames.
#include "image/temporal_smoothing.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ps::image {

cv::Mat smooth_matte(const cv::Mat& current, const std::vector<cv::Mat>& previous,
                     double strength) {
    if (current.empty() || current.type() != CV_8UC1) {
        throw std::invalid_argument("smooth_matte: the matte must be a non-empty CV_8UC1 image");
    }
    if (!(strength >= 0 && strength < 1)) {
        throw std::invalid_argument("smooth_matte: strength must be in [0, 1)");
    }
    const size_t used = std::min<size_t>(previous.size(), kSmoothingHistory);
    if (strength == 0 || used == 0) return current.clone();
    for (size_t k = 0; k < used; ++k) {
        if (previous[k].size() != current.size() || previous[k].type() != CV_8UC1) {
            throw std::invalid_argument("smooth_matte: previous mattes must match the current one");
        }
    }
    cv::Mat out(current.size(), CV_8UC1);
    for (int y = 0; y < current.rows; ++y) {
        const uchar* cur = current.ptr<uchar>(y);
        const uchar* prev[kSmoothingHistory] = {};
        for (size_t k = 0; k < used; ++k) prev[k] = previous[k].ptr<uchar>(y);
        uchar* dst = out.ptr<uchar>(y);
        for (int x = 0; x < current.cols; ++x) {
            const float c = cur[x];
            float sum = c, weights = 1.0f;
            float decay = 1.0f;
            for (size_t k = 0; k < used; ++k) {
                decay *= static_cast<float>(strength);
                const float p = prev[k][x];
                const float still = 1.0f - std::abs(p - c) / kSmoothingMotionLevels;
                if (still <= 0) break;  // moved: this and older frames would ghost
                const float w = decay * still;
                sum += w * p;
                weights += w;
            }
            dst[x] = static_cast<uchar>(std::lround(sum / weights));
        }
    }
    return out;
}

}  // namespace ps::image
