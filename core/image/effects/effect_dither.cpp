// Error-diffusion and ordered dithering. The diffusion loop is templated on the channel count
// and the kernel so each pixel costs a few float operations, no virtual or std::function calls.
#include "image/effects/effect_dither.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "image/effects/palette.h"

namespace ps::image {

namespace {

struct Tap {
    int dx, dy;
    float weight;
};
constexpr std::array<Tap, 4> kFloydSteinberg = {
    {{1, 0, 7 / 16.f}, {-1, 1, 3 / 16.f}, {0, 1, 5 / 16.f}, {1, 1, 1 / 16.f}}};
constexpr std::array<Tap, 6> kAtkinson = {{{1, 0, 1 / 8.f},
                                           {2, 0, 1 / 8.f},
                                           {-1, 1, 1 / 8.f},
                                           {0, 1, 1 / 8.f},
                                           {1, 1, 1 / 8.f},
                                           {0, 2, 1 / 8.f}}};
constexpr int kPad = 2;   // widest horizontal reach of a kernel
constexpr int kRows = 3;  // error rows in flight: this one and up to two below (Atkinson)

inline int to_byte(float v) {
    return static_cast<int>(std::clamp(v, 0.f, 255.f) + 0.5f);
}

// Nearest colour of a grey palette, by luma value.
std::array<uchar, 256> grey_levels_table(const Palette& palette) {
    std::array<uchar, 256> table{};
    for (int v = 0; v < 256; ++v) {
        int best = 0;
        for (size_t i = 1; i < palette.size(); ++i)
            if (std::abs(palette[i][0] - v) < std::abs(palette[best][0] - v))
                best = static_cast<int>(i);
        table[v] = static_cast<uchar>(best);
    }
    return table;
}

// src: CV_8UC(Channels) (luma or RGB); `nearest(int values[Channels])` returns a palette index.
template <int Channels, size_t TapCount, typename Nearest>
cv::Mat diffuse(const cv::Mat& src, const Palette& palette, const std::array<Tap, TapCount>& taps,
                bool serpentine, Nearest nearest) {
    const int cols = src.cols, stride = (cols + 2 * kPad) * Channels;
    std::vector<float> errors(static_cast<size_t>(kRows) * stride, 0.f);
    cv::Mat out(src.size(), CV_8UC3);
    for (int y = 0; y < src.rows; ++y) {
        float* here = &errors[static_cast<size_t>(y % kRows) * stride];
        const uchar* in = src.ptr<uchar>(y);
        cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
        const bool reverse = serpentine && (y & 1);
        const int direction = reverse ? -1 : 1;
        for (int i = 0; i < cols; ++i) {
            const int x = reverse ? cols - 1 - i : i;
            float value[Channels];
            int rounded[Channels];
            for (int c = 0; c < Channels; ++c) {
                value[c] =
                    std::clamp(in[x * Channels + c] + here[(x + kPad) * Channels + c], 0.f, 255.f);
                rounded[c] = static_cast<int>(value[c] + 0.5f);
            }
            const cv::Vec3b& chosen = palette[nearest(rounded)];
            o[x] = chosen;
            for (int c = 0; c < Channels; ++c) {
                const float error = value[c] - chosen[c];
                for (const Tap& tap : taps) {
                    float* row = &errors[static_cast<size_t>((y + tap.dy) % kRows) * stride];
                    row[(x + direction * tap.dx + kPad) * Channels + c] += error * tap.weight;
                }
            }
        }
        std::fill(here, here + stride, 0.f);  // this row's buffer becomes row y + kRows
    }
    return out;
}

template <size_t TapCount>
cv::Mat diffuse_any(const cv::Mat& rgb, const DitherParams& p,
                    const std::array<Tap, TapCount>& taps) {
    if (is_grey_palette(p.palette)) {
        const std::array<uchar, 256> table = grey_levels_table(p.palette);
        return diffuse<1>(luminance_709(rgb), p.palette, taps, p.serpentine,
                          [&table](const int* v) { return table[v[0]]; });
    }
    const std::vector<unsigned char> table = nearest_colour_table(p.palette);
    return diffuse<3>(rgb, p.palette, taps, p.serpentine, [&table](const int* v) {
        return table[((v[0] >> 3) << 10) | ((v[1] >> 3) << 5) | (v[2] >> 3)];
    });
}

cv::Mat ordered(const cv::Mat& rgb, const Palette& palette, int n) {
    const cv::Mat bayer = bayer_matrix(n);
    const float spacing = static_cast<float>(palette_spacing(palette));
    std::vector<float> offset(n * n);
    for (int i = 0; i < n * n; ++i)
        offset[i] = spacing * ((bayer.at<int>(i / n, i % n) + 0.5f) / (n * n) - 0.5f);
    cv::Mat out(rgb.size(), CV_8UC3);

    if (is_grey_palette(palette)) {
        // One 256-entry table per threshold cell: a pixel costs two lookups.
        const std::array<uchar, 256> nearest = grey_levels_table(palette);
        std::vector<uchar> tables(static_cast<size_t>(n) * n * 256);
        for (int i = 0; i < n * n; ++i)
            for (int v = 0; v < 256; ++v) tables[i * 256 + v] = nearest[to_byte(v + offset[i])];
        const cv::Mat luma = luminance_709(rgb);
        cv::parallel_for_(cv::Range(0, rgb.rows), [&](const cv::Range& rows) {
            for (int y = rows.start; y < rows.end; ++y) {
                const uchar* l = luma.ptr<uchar>(y);
                cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
                for (int x = 0; x < rgb.cols; ++x)
                    o[x] = palette[tables[((y % n) * n + x % n) * 256 + l[x]]];
            }
        });
        return out;
    }
    const std::vector<unsigned char> nearest = nearest_colour_table(palette);
    cv::parallel_for_(cv::Range(0, rgb.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const cv::Vec3b* in = rgb.ptr<cv::Vec3b>(y);
            cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
            for (int x = 0; x < rgb.cols; ++x) {
                const float d = offset[(y % n) * n + x % n];
                const int index = ((to_byte(in[x][0] + d) >> 3) << 10) |
                                  ((to_byte(in[x][1] + d) >> 3) << 5) |
                                  (to_byte(in[x][2] + d) >> 3);
                o[x] = palette[nearest[index]];
            }
        }
    });
    return out;
}

}  // namespace

cv::Mat bayer_matrix(int n) {
    if (n < 2 || n > 64 || (n & (n - 1)) != 0)
        throw std::invalid_argument("bayer_matrix: n must be a power of two from 2 to 64");
    cv::Mat m(1, 1, CV_32SC1, cv::Scalar(0));
    while (m.rows < n) {
        const int k = m.rows;
        cv::Mat next(2 * k, 2 * k, CV_32SC1);
        const int quadrant_offsets[4] = {0, 2, 3, 1};  // top-left, top-right, bottom-left, ...
        for (int q = 0; q < 4; ++q) {
            cv::Mat quadrant = next(cv::Rect((q % 2) * k, (q / 2) * k, k, k));
            m.convertTo(quadrant, CV_32S, 4, quadrant_offsets[q]);
        }
        m = next;
    }
    return m;
}

cv::Mat effect_dither(const cv::Mat& rgb, const DitherParams& p) {
    require_rgb8(rgb, "effect_dither");
    // One colour is allowed: median cut of a flat image finds only one, and the answer is clear.
    if (p.palette.empty() || p.palette.size() > 256)
        throw std::invalid_argument("effect_dither: expected a palette of 1 to 256 colours, got " +
                                    std::to_string(p.palette.size()));
    switch (p.method) {
        case DitherMethod::FloydSteinberg:
            return diffuse_any(rgb, p, kFloydSteinberg);
        case DitherMethod::Atkinson:
            return diffuse_any(rgb, p, kAtkinson);
        case DitherMethod::Bayer4:
            return ordered(rgb, p.palette, 4);
        case DitherMethod::Bayer8:
            return ordered(rgb, p.palette, 8);
    }
    throw std::invalid_argument("effect_dither: unknown method");
}

}  // namespace ps::image
