// Amplitude-modulated halftone: one dot per screen cell, radius from the cell's mean luma.
#include "image/effects/effect_halftone.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "image/effects/effect_common.h"

namespace ps::image {

double halftone_dot_radius(double darkness, int cell_px) {
    const double d = std::clamp(darkness, 0.0, 1.0), cell = cell_px;
    const double inscribed = CV_PI / 4;  // area fraction of the circle touching the cell's sides
    if (d <= inscribed) return cell * std::sqrt(d / CV_PI);
    // Past the inscribed circle, reach the corners (half the diagonal) plus half a pixel so that
    // antialiased corners are fully inked at d = 1.
    const double full = cell * std::sqrt(0.5) + 0.5;
    return cell / 2 + (d - inscribed) / (1 - inscribed) * (full - cell / 2);
}

cv::Mat effect_halftone(const cv::Mat& rgb, const HalftoneParams& p) {
    require_rgb8(rgb, "effect_halftone");
    if (p.cell_px < 2 || p.cell_px > 256)
        throw std::invalid_argument("effect_halftone: cell_px must be from 2 to 256");
    if (!std::isfinite(p.angle_deg)) throw std::invalid_argument("effect_halftone: bad angle");

    cv::Mat mean_luma;
    cv::blur(luminance_709(rgb), mean_luma, cv::Size(p.cell_px, p.cell_px), cv::Point(-1, -1),
             cv::BORDER_REFLECT);
    // Radius by mean luma, so the per-pixel work has no sqrt of the darkness.
    std::array<float, 256> radius;
    for (int m = 0; m < 256; ++m)
        radius[m] = static_cast<float>(halftone_dot_radius(1.0 - m / 255.0, p.cell_px));

    const float angle = static_cast<float>(p.angle_deg * CV_PI / 180.0);
    const float cos_a = std::cos(angle), sin_a = std::sin(angle),
                cell = static_cast<float>(p.cell_px);
    cv::Mat out(rgb.size(), CV_8UC3);
    cv::parallel_for_(cv::Range(0, rgb.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
            const float py = y + 0.5f;
            for (int x = 0; x < rgb.cols; ++x) {
                const float px = x + 0.5f;
                // Pixel centre in screen coordinates, then the centre of its screen cell.
                const float u = px * cos_a + py * sin_a, v = -px * sin_a + py * cos_a;
                const float cu = (std::floor(u / cell) + 0.5f) * cell;
                const float cv_ = (std::floor(v / cell) + 0.5f) * cell;
                // The cell centre back in image coordinates, clamped for cells cut by the border.
                const int sx =
                    std::clamp(static_cast<int>(cu * cos_a - cv_ * sin_a), 0, rgb.cols - 1);
                const int sy =
                    std::clamp(static_cast<int>(cu * sin_a + cv_ * cos_a), 0, rgb.rows - 1);
                const float r = radius[mean_luma.at<uchar>(sy, sx)];
                // Plain sqrt: std::hypot guards against overflow we cannot have, at 3x the cost.
                const float du = u - cu, dv = v - cv_;
                const float distance = std::sqrt(du * du + dv * dv);
                float ink;
                if (r <= 0.f)
                    ink = 0.f;
                else if (p.antialias)
                    ink = std::clamp(r - distance + 0.5f, 0.f, 1.f);
                else
                    ink = distance < r ? 1.f : 0.f;
                const uchar paper = static_cast<uchar>(255.f * (1.f - ink) + 0.5f);
                o[x] = cv::Vec3b(paper, paper, paper);
            }
        }
    });
    return out;
}

}  // namespace ps::image
