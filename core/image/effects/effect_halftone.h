// Halftone: a rotated screen of round ink dots on paper white, sized by local darkness.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

struct HalftoneParams {
    int cell_px = 8;          // screen period in pixels, 2..256
    double angle_deg = 45.0;  // screen angle; 45° is the least visible to the eye for one ink
    bool antialias = true;    // dot edges get one pixel of partial ink
};

// Black ink dots on white, CV_8UC3 of the input's size. Each cell of the rotated screen takes
// the mean Rec.709 luma m around its centre (a cell_px box filter sampled there) and inks a dot
// whose area is the darkness d = 1 - m/255 times the cell's, r = cell·sqrt(d/π), up to the
// inscribed circle (d = π/4); beyond that r grows linearly to cover the whole cell at d = 1.
// Ink therefore grows monotonically with darkness: black gives solid ink, white bare paper.
// Throws std::invalid_argument on a bad image or cell_px outside 2..256.
cv::Mat effect_halftone(const cv::Mat& rgb, const HalftoneParams& p);

// The dot radius above, in pixels, for darkness d in [0, 1].
double halftone_dot_radius(double darkness, int cell_px);

}  // namespace ps::image
