// Enhanced black & white: Rec.709 luma, CLAHE local contrast, then a tone curve.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

struct BwParams {
    double clahe_clip = 2.0;  // CLAHE clip limit (histogram bins' cap / mean); 0 = off
    int clahe_tiles = 8;      // CLAHE tiles along each side (fewer on images smaller than that)
    double contrast = 1.0;    // slope of the tone curve about mid grey; 1 = unchanged
    double brightness = 0.0;  // offset in units of full scale (-1..1); 0 = unchanged
    double gamma = 1.0;       // out = in^(1/gamma) after contrast; > 1 lifts the mid-tones
};

// The tone curve as a 1×256 CV_8UC1 lookup table: v = i/255, v = clamp((v - 0.5)·contrast +
// 0.5 + brightness, 0, 1), out = round(255·v^(1/gamma)). The defaults give the identity.
// Throws std::invalid_argument on contrast < 0 or gamma <= 0.
cv::Mat tone_curve_lut(double contrast, double brightness, double gamma);

// CV_8UC3 grey image (R = G = B) of the same size as `rgb` (CV_8UC3). Throws
// std::invalid_argument on a bad image or parameters (clahe_clip < 0, clahe_tiles < 1, ...).
cv::Mat effect_bw(const cv::Mat& rgb, const BwParams& p);

}  // namespace ps::image
