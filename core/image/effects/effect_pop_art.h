// Pop art: luminance bands painted in a bold palette, and the 2×2 four-colour grid variant.
#pragma once

#include <opencv2/core/mat.hpp>

#include "image/effects/effect_common.h"

namespace ps::image {

// Default bold palette, dark to light: navy, magenta, orange, yellow.
Palette pop_art_default_palette();

struct PopArtParams {
    Palette palette = pop_art_default_palette();  // dark to light, 2..256 colours
    double smooth_px = 1.0;  // Gaussian sigma applied to luma first, so band edges do not speckle
};

// Each pixel becomes palette[band(L)], L = smoothed Rec.709 luma. Bands are the luma quantiles
// of this image (each colour covers about the same area, as in screen-printed pop art) rather
// than equal luma widths, which would leave colours unused on a dark or bright photo. Darker
// pixels never get a later palette entry than brighter ones. Output holds palette colours only.
// Throws std::invalid_argument on a bad image, fewer than 2 colours or smooth_px < 0.
cv::Mat effect_pop_art(const cv::Mat& rgb, const PopArtParams& p);

struct PopArtGridParams {
    int levels = 3;          // colours per quadrant, 2..4
    double smooth_px = 1.0;  // as in PopArtParams, applied to each quadrant's copy
};

// Same size as `rgb`: a 2×2 grid whose quadrants each hold the whole image area-downscaled to
// the quadrant's size, posterised with one of four fixed tinted palettes. The left column and
// top row take the extra pixel of odd sizes; a quadrant of zero width or height (1-px images)
// is left out. Throws std::invalid_argument on a bad image or levels outside 2..4.
cv::Mat effect_pop_art_grid(const cv::Mat& rgb, const PopArtGridParams& p);

}  // namespace ps::image
