// Pop art posterisation by luma quantiles, and the Warhol-style 2×2 grid.
#include "image/effects/effect_pop_art.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <stdexcept>

namespace ps::image {

namespace {

// The grid's four palettes, dark to light; each quadrant has its own dominant tint.
const std::array<Palette, 4> kGridPalettes = {{
    {{24, 24, 64}, {228, 0, 124}, {255, 140, 0}, {255, 230, 0}},      // magenta / yellow
    {{0, 59, 47}, {0, 166, 166}, {120, 220, 200}, {235, 255, 245}},   // teal
    {{45, 11, 89}, {225, 6, 0}, {255, 120, 90}, {255, 210, 200}},     // red
    {{10, 30, 90}, {47, 107, 255}, {126, 211, 33}, {225, 255, 170}},  // blue / lime
}};

// Band index of every luma value: band = floor(n · F(v)), F = the fraction of pixels darker
// than v plus half of those equal to v (a mid-rank CDF, so a flat image lands in a middle band).
std::array<uchar, 256> quantile_bands(const cv::Mat& luma, int n) {
    std::array<double, 256> histogram{};
    for (int y = 0; y < luma.rows; ++y) {
        const uchar* row = luma.ptr<uchar>(y);
        for (int x = 0; x < luma.cols; ++x) histogram[row[x]] += 1;
    }
    const double total = static_cast<double>(luma.total());
    std::array<uchar, 256> band{};
    double below = 0;
    for (int v = 0; v < 256; ++v) {
        const double rank = (below + histogram[v] / 2) / total;
        band[v] = static_cast<uchar>(std::min(n - 1, static_cast<int>(rank * n)));
        below += histogram[v];
    }
    return band;
}

}  // namespace

Palette pop_art_default_palette() {
    return kGridPalettes[0];
}

cv::Mat effect_pop_art(const cv::Mat& rgb, const PopArtParams& p) {
    require_rgb8(rgb, "effect_pop_art");
    if (p.palette.size() < 2 || p.palette.size() > 256)
        throw std::invalid_argument("effect_pop_art: expected a palette of 2 to 256 colours");
    if (!(p.smooth_px >= 0)) throw std::invalid_argument("effect_pop_art: smooth_px must be >= 0");
    cv::Mat luma = luminance_709(rgb);
    if (p.smooth_px > 0) cv::GaussianBlur(luma, luma, cv::Size(), p.smooth_px);
    const std::array<uchar, 256> band = quantile_bands(luma, static_cast<int>(p.palette.size()));
    LumaColourTable table;
    for (int v = 0; v < 256; ++v) table[v] = p.palette[band[v]];
    return map_luma_to_colours(luma, table);
}

cv::Mat effect_pop_art_grid(const cv::Mat& rgb, const PopArtGridParams& p) {
    require_rgb8(rgb, "effect_pop_art_grid");
    if (p.levels < 2 || p.levels > 4)
        throw std::invalid_argument("effect_pop_art_grid: levels must be 2, 3 or 4");
    const int left = (rgb.cols + 1) / 2, top = (rgb.rows + 1) / 2;
    const std::array<cv::Rect, 4> quadrants = {
        cv::Rect(0, 0, left, top), cv::Rect(left, 0, rgb.cols - left, top),
        cv::Rect(0, top, left, rgb.rows - top),
        cv::Rect(left, top, rgb.cols - left, rgb.rows - top)};
    cv::Mat out(rgb.size(), CV_8UC3);
    for (size_t q = 0; q < quadrants.size(); ++q) {
        const cv::Rect& area = quadrants[q];
        if (area.empty()) continue;
        // Spread the chosen levels over the dark-to-light palette so its extremes stay in use.
        PopArtParams params;
        params.smooth_px = p.smooth_px;
        params.palette.clear();
        for (int i = 0; i < p.levels; ++i)
            params.palette.push_back(
                kGridPalettes[q][(i * 3 + (p.levels - 1) / 2) / (p.levels - 1)]);
        cv::Mat small;
        cv::resize(rgb, small, area.size(), 0, 0, cv::INTER_AREA);
        effect_pop_art(small, params).copyTo(out(area));
    }
    return out;
}

}  // namespace ps::image
