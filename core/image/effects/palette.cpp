// Uniform and median-cut palettes, and the nearest-colour table used by dithering.
#include "image/effects/palette.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ps::image {

namespace {

void require_colour_count(int colors, const char* who) {
    if (colors < 2 || colors > 256)
        throw std::invalid_argument(std::string(who) + ": colors must be from 2 to 256, got " +
                                    std::to_string(colors));
}

struct Box {
    size_t begin, end;  // range in the sample array
    int widest_channel;
    int range;
};

Box measure(const std::vector<cv::Vec3b>& samples, size_t begin, size_t end) {
    std::array<int, 3> low{255, 255, 255}, high{0, 0, 0};
    for (size_t i = begin; i < end; ++i) {
        for (int c = 0; c < 3; ++c) {
            low[c] = std::min<int>(low[c], samples[i][c]);
            high[c] = std::max<int>(high[c], samples[i][c]);
        }
    }
    Box box{begin, end, 0, high[0] - low[0]};
    for (int c = 1; c < 3; ++c) {
        if (high[c] - low[c] > box.range) box = Box{begin, end, c, high[c] - low[c]};
    }
    return box;
}

}  // namespace

Palette uniform_palette(int colors) {
    require_colour_count(colors, "uniform_palette");
    int k = 2;
    while ((k + 1) * (k + 1) * (k + 1) <= colors) ++k;
    Palette palette;
    for (int r = 0; r < k; ++r)
        for (int g = 0; g < k; ++g)
            for (int b = 0; b < k; ++b)
                palette.emplace_back(cv::saturate_cast<uchar>(r * 255.0 / (k - 1)),
                                     cv::saturate_cast<uchar>(g * 255.0 / (k - 1)),
                                     cv::saturate_cast<uchar>(b * 255.0 / (k - 1)));
    return palette;
}

Palette median_cut_palette(const cv::Mat& rgb, int colors) {
    require_rgb8(rgb, "median_cut_palette");
    require_colour_count(colors, "median_cut_palette");
    const double kMaxSamples = 1 << 18;
    const int step = std::max(1, static_cast<int>(std::ceil(std::sqrt(rgb.total() / kMaxSamples))));
    std::vector<cv::Vec3b> samples;
    for (int y = step / 2; y < rgb.rows; y += step)
        for (int x = step / 2; x < rgb.cols; x += step) samples.push_back(rgb.at<cv::Vec3b>(y, x));

    std::vector<Box> boxes{measure(samples, 0, samples.size())};
    while (static_cast<int>(boxes.size()) < colors) {
        auto widest = std::max_element(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
            return a.range < b.range;
        });
        if (widest->range == 0) break;  // every box holds a single colour
        const Box box = *widest;
        const size_t middle = box.begin + (box.end - box.begin) / 2;
        const int c = box.widest_channel;
        std::nth_element(samples.begin() + box.begin, samples.begin() + middle,
                         samples.begin() + box.end,
                         [c](const cv::Vec3b& a, const cv::Vec3b& b) { return a[c] < b[c]; });
        *widest = measure(samples, box.begin, middle);
        boxes.push_back(measure(samples, middle, box.end));
    }
    Palette palette;
    for (const Box& box : boxes) {
        cv::Vec3d sum(0, 0, 0);
        for (size_t i = box.begin; i < box.end; ++i) sum += cv::Vec3d(samples[i]);
        const cv::Vec3b mean(cv::saturate_cast<uchar>(sum[0] / (box.end - box.begin)),
                             cv::saturate_cast<uchar>(sum[1] / (box.end - box.begin)),
                             cv::saturate_cast<uchar>(sum[2] / (box.end - box.begin)));
        if (std::find(palette.begin(), palette.end(), mean) == palette.end())
            palette.push_back(mean);
    }
    return palette;
}

bool is_grey_palette(const Palette& palette) {
    return std::all_of(palette.begin(), palette.end(),
                       [](const cv::Vec3b& c) { return c[0] == c[1] && c[1] == c[2]; });
}

double palette_spacing(const Palette& palette) {
    if (palette.size() < 2) return 255.0;
    double total = 0;
    for (size_t i = 0; i < palette.size(); ++i) {
        int nearest = 255;
        for (size_t j = 0; j < palette.size(); ++j) {
            if (i == j) continue;
            int distance = 0;
            for (int c = 0; c < 3; ++c)
                distance = std::max(distance, std::abs(palette[i][c] - palette[j][c]));
            if (distance > 0) nearest = std::min(nearest, distance);
        }
        total += nearest;
    }
    return total / palette.size();
}

std::vector<unsigned char> nearest_colour_table(const Palette& palette) {
    CV_Assert(!palette.empty() && palette.size() <= 256);
    std::vector<unsigned char> table(32768);
    for (int index = 0; index < 32768; ++index) {
        const int r = ((index >> 10) << 3) + 4, g = (((index >> 5) & 31) << 3) + 4,
                  b = ((index & 31) << 3) + 4;
        int best = 0, best_distance = std::numeric_limits<int>::max();
        for (size_t i = 0; i < palette.size(); ++i) {
            const int dr = r - palette[i][0], dg = g - palette[i][1], db = b - palette[i][2];
            const int distance = dr * dr + dg * dg + db * db;
            if (distance < best_distance) best = static_cast<int>(i), best_distance = distance;
        }
        table[index] = static_cast<unsigned char>(best);
    }
    return table;
}

}  // namespace ps::image
