// Area downscaling of the interactive working copy; the full-resolution image stays for export.
#include "image/downscale.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ps::image {

cv::Mat downscale_for_interactive(const cv::Mat& rgb, int max_long_side) {
    if (rgb.empty() || rgb.dims != 2)
        throw std::invalid_argument("downscale_for_interactive: expected a non-empty 2-D image");
    if (max_long_side < 0)
        throw std::invalid_argument("downscale_for_interactive: max_long_side is " +
                                    std::to_string(max_long_side) + ", expected >= 0 (0 = off)");
    const int long_side = std::max(rgb.cols, rgb.rows);
    if (max_long_side == 0 || long_side <= max_long_side) return rgb;

    const int short_side = std::min(rgb.cols, rgb.rows);
    // short * max / long rounded half up, in integers so that no shape lands a pixel off.
    const long long scaled = (2LL * short_side * max_long_side + long_side) / (2LL * long_side);
    const int scaled_short = std::max(1, static_cast<int>(scaled));
    const cv::Size size = rgb.cols >= rgb.rows ? cv::Size(max_long_side, scaled_short)
                                               : cv::Size(scaled_short, max_long_side);
    // INTER_AREA averages every source pixel into the result, so fine detail becomes
    // an honest average instead of the aliasing that bilinear sampling gives when shrinking.
    cv::Mat resized;
    cv::resize(rgb, resized, size, 0, 0, cv::INTER_AREA);
    return resized;
}

}  // namespace ps::image
