// Dithering to a palette: Floyd–Steinberg, Atkinson, ordered Bayer 4×4 and 8×8.
#pragma once

#include <opencv2/core/mat.hpp>

#include "image/effects/effect_common.h"

namespace ps::image {

enum class DitherMethod { FloydSteinberg, Atkinson, Bayer4, Bayer8 };

struct DitherParams {
    DitherMethod method = DitherMethod::FloydSteinberg;
    Palette palette = {{0, 0, 0}, {255, 255, 255}};  // 1-bit black and white by default
    bool serpentine = true;  // error diffusion runs alternate rows right to left (no "worms")
};

// CV_8UC3 image of the input's size holding only palette colours. An all-grey palette (1-bit
// black/white included) dithers Rec.709 luma; any other palette dithers in RGB, picking colours
// through palette.h's 5-bit nearest-colour table.
// Error diffusion clamps each value to 0..255 before quantising (so error cannot run away in
// saturated areas) and drops error that falls off the image. Atkinson spreads only 6/8 of the
// error, as Bill Atkinson's original does, which keeps highlights and shadows clean.
// Ordered dithers add spacing·((M + 0.5)/n² - 0.5) to each value, M the n×n Bayer index and
// spacing = palette_spacing(palette), then take the nearest colour: constant 50 % grey through
// black/white Bayer 8×8 gives exactly 32 of every 64 pixels white.
// Throws std::invalid_argument on a bad image or an empty palette or one over 256 colours.
cv::Mat effect_dither(const cv::Mat& rgb, const DitherParams& p);

// The n×n Bayer index matrix (n a power of two, 2..64), values 0..n²-1, CV_32SC1; recursively
// M(2n) = [[4M, 4M+2], [4M+3, 4M+1]] from M(1) = [0].
cv::Mat bayer_matrix(int n);

}  // namespace ps::image
