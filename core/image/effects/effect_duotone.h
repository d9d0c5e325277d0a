// Duotone: luminance mapped onto a straight gradient between two colours.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

struct DuotoneParams {
    cv::Vec3b dark{28, 36, 92};      // what black becomes (R, G, B): deep blue
    cv::Vec3b light{255, 214, 140};  // what white becomes: warm cream
};

// out = round(dark + (light - dark)·L/255) per channel, L = Rec.709 luma; black maps to `dark`
// and white to `light` exactly. rgb: CV_8UC3; throws std::invalid_argument otherwise.
cv::Mat effect_duotone(const cv::Mat& rgb, const DuotoneParams& p);

}  // namespace ps::image
