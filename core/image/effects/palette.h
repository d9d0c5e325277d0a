// Colour palettes for quantising effects: uniform cubes, median cut, nearest-colour search.
#pragma once

#include <opencv2/core/mat.hpp>

#include <vector>

#include "image/effects/effect_common.h"

namespace ps::image {

// k levels per channel, k = max(2, floor(cbrt(colors))), spaced evenly from 0 to 255: k³
// colours (8, 27, 64, 125, 216), the largest cube that fits in `colors`. Throws
// std::invalid_argument when colors < 2 or > 256.
Palette uniform_palette(int colors);

// Heckbert's median cut on `rgb` (CV_8UC3): the box with the widest channel range is split at
// that channel's median until there are `colors` boxes or none can be split; each colour is its
// box's rounded mean. Images over 2^18 pixels are sampled on a regular grid (the palette of a
// 24 MP photo does not need every pixel). Fewer colours come back when the image has fewer.
// Throws std::invalid_argument on a bad image or colors outside 2..256.
Palette median_cut_palette(const cv::Mat& rgb, int colors);

// True when every colour is grey (R = G = B): dithering can then work on luma alone.
bool is_grey_palette(const Palette& palette);

// Mean over the palette of each colour's Chebyshev (largest channel) distance to its nearest
// other colour: the step an ordered dither's threshold must span (255 for black/white).
double palette_spacing(const Palette& palette);

// Nearest palette index for every colour quantised to 5 bits a channel (32768 entries, index
// (r>>3)<<10 | (g>>3)<<5 | b>>3), found for the bucket's centre by squared RGB distance.
// Error diffusion corrects the small misses this coarse table makes.
std::vector<unsigned char> nearest_colour_table(const Palette& palette);

}  // namespace ps::image
