// Enhanced black & white: luma, local contrast (CLAHE) and a contrast/brightness/gamma curve.
#include "image/effects/effect_bw.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "image/effects/effect_common.h"

namespace ps::image {

cv::Mat tone_curve_lut(double contrast, double brightness, double gamma) {
    if (!(contrast >= 0) || !(gamma > 0) || !std::isfinite(brightness) || !std::isfinite(gamma))
        throw std::invalid_argument("tone_curve_lut: expected contrast >= 0, gamma > 0");
    cv::Mat lut(1, 256, CV_8UC1);
    for (int i = 0; i < 256; ++i) {
        double v = (i / 255.0 - 0.5) * contrast + 0.5 + brightness;
        v = std::pow(std::clamp(v, 0.0, 1.0), 1.0 / gamma);
        lut.at<uchar>(i) = cv::saturate_cast<uchar>(v * 255.0);
    }
    return lut;
}

cv::Mat effect_bw(const cv::Mat& rgb, const BwParams& p) {
    require_rgb8(rgb, "effect_bw");
    if (!(p.clahe_clip >= 0) || p.clahe_tiles < 1)
        throw std::invalid_argument("effect_bw: expected clahe_clip >= 0 and clahe_tiles >= 1");
    cv::Mat luma = luminance_709(rgb);
    if (p.clahe_clip > 0) {
        // A tile must hold at least one pixel; CLAHE pads the image to a multiple of the grid.
        const cv::Size tiles(std::min(p.clahe_tiles, rgb.cols), std::min(p.clahe_tiles, rgb.rows));
        cv::Ptr<cv::CLAHE> clahe = cv::createCLAHE(p.clahe_clip, tiles);
        cv::Mat equalised;
        clahe->apply(luma, equalised);
        luma = equalised;
    }
    cv::Mat toned;
    cv::LUT(luma, tone_curve_lut(p.contrast, p.brightness, p.gamma), toned);
    return grey_to_rgb(toned);
}

}  // namespace ps::image
