// Matte refinement steps on CV_32FC1 alpha; OpenCV core+imgproc only, vectorised or row loops.
#include "image/matte_refine.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace ps::image {
namespace {

void require(bool ok, const char* function, const std::string& message) {
    if (!ok) throw std::invalid_argument(std::string(function) + ": " + message);
}

void require_rgb(const cv::Mat& rgb, const char* function) {
    require(!rgb.empty() && rgb.dims == 2 && rgb.type() == CV_8UC3, function,
            "image is " + cv::typeToString(rgb.type()) + ", expected a non-empty CV_8UC3 image");
}

std::string size_text(cv::Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

// Parameter checks are shared with refine_matte, which validates every option before working.
void require_radius(int radius_px, const char* function, const char* name) {
    require(radius_px >= 1, function,
            std::string(name) + " is " + std::to_string(radius_px) + ", expected >= 1");
}
void require_level(double level, const char* function) {
    require(level >= 0.0 && level <= 1.0, function,
            "threshold level " + std::to_string(level) + " is outside [0, 1]");
}
void require_sigma(double sigma_px, const char* function) {
    require(std::isfinite(sigma_px) && sigma_px >= 0.0, function,
            "sigma " + std::to_string(sigma_px) + " px is not a finite value >= 0");
}
void require_min_area(int min_area_px, const char* function) {
    require(min_area_px >= 0, function,
            "min_area " + std::to_string(min_area_px) + " px is negative");
}
void require_guided(int radius_px, double eps, int subsample, const char* function) {
    require_radius(radius_px, function, "radius");
    require(std::isfinite(eps) && eps > 0.0, function,
            "eps " + std::to_string(eps) + " is not a finite value > 0");
    require(subsample >= 1, function, "subsample " + std::to_string(subsample) + " is not >= 1");
}

// 0/255 CV_8UC1 of the pixels that count as foreground wherever a step needs a hard set.
cv::Mat foreground_of(const cv::Mat& matte) {
    return matte >= 0.5;
}

cv::Mat matte_from_mask(const cv::Mat& mask) {
    cv::Mat matte;
    mask.convertTo(matte, CV_32F, 1.0 / 255.0);
    return matte;
}

// Box mean with reflected borders: the window statistics of both the guided filter and blur
// fusion, so a subject at the frame is treated as if the image continued in a mirror.
cv::Mat box_mean(const cv::Mat& src, int radius_px) {
    cv::Mat mean;
    cv::boxFilter(src, mean, -1, cv::Size(2 * radius_px + 1, 2 * radius_px + 1), cv::Point(-1, -1),
                  true, cv::BORDER_REFLECT);
    return mean;
}

// Runs `row_body(y)` for every row, in parallel: the per-pixel arithmetic below needs several
// inputs per pixel, which one fused loop does in one pass where Mat expressions would take ten.
template <typename RowBody>
void for_each_row(int rows, const RowBody& row_body) {
    cv::parallel_for_(cv::Range(0, rows), [&](const cv::Range& range) {
        for (int y = range.start; y < range.end; ++y) row_body(y);
    });
}

constexpr float kInverse255 = 1.0f / 255.0f;

}  // namespace

void require_matte(const cv::Mat& matte, const char* function) {
    require(!matte.empty() && matte.dims == 2 && matte.type() == CV_32FC1, function,
            "matte is " + cv::typeToString(matte.type()) +
                ", expected a non-empty CV_32FC1 matte in [0, 1] (see matte_from_u8)");
}

void require_matte_and_rgb(const cv::Mat& matte, const cv::Mat& rgb, const char* function) {
    require_matte(matte, function);
    require_rgb(rgb, function);
    require(matte.size() == rgb.size(), function,
            "matte is " + size_text(matte.size()) + ", image is " + size_text(rgb.size()));
}

cv::Mat matte_from_u8(const cv::Mat& matte_u8) {
    require(!matte_u8.empty() && matte_u8.dims == 2 && matte_u8.type() == CV_8UC1, "matte_from_u8",
            "matte is " + cv::typeToString(matte_u8.type()) + ", expected a non-empty CV_8UC1");
    return matte_from_mask(matte_u8);
}

cv::Mat matte_to_u8(const cv::Mat& matte) {
    require_matte(matte, "matte_to_u8");
    cv::Mat matte_u8;
    matte.convertTo(matte_u8, CV_8U, 255.0);  // rounds and saturates
    return matte_u8;
}

cv::Mat threshold_matte(const cv::Mat& matte, double level) {
    require_matte(matte, "threshold_matte");
    require_level(level, "threshold_matte");
    cv::Mat hard;
    cv::threshold(matte, hard, level, 1.0, cv::THRESH_BINARY);
    return hard;
}

cv::Mat grow_shrink(const cv::Mat& matte, int px) {
    require_matte(matte, "grow_shrink");
    const cv::Mat foreground = foreground_of(matte);
    if (px == 0) return matte_from_mask(foreground);
    // Grow: background pixels within px of a foreground pixel join it. Shrink is grow of the
    // background. The distance is between pixel centres, and the nearest centre across a
    // ragged discrete edge lies a little beyond it: on 40 random discs (R 8..60, px 1..15,
    // both ways) "within px + 0.25" moved the area radius by px + 0.05 on average, within
    // [-0.12, +0.24]; px + 0 gave -0.16 and px + 0.5 gave +0.23 on average.
    cv::Mat source = foreground;
    if (px > 0) source = ~foreground;
    cv::Mat distance;
    cv::distanceTransform(source, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
    const float reach = static_cast<float>(std::abs(px)) + 0.25f;
    return matte_from_mask(px > 0 ? distance <= reach : distance > reach);
}

cv::Mat feather(const cv::Mat& matte, double sigma_px) {
    require_matte(matte, "feather");
    require_sigma(sigma_px, "feather");
    if (sigma_px == 0.0) return matte.clone();
    // BORDER_REFLECT (not OpenCV's default REFLECT_101) mirrors about the pixel edge, so the
    // operator keeps the total alpha exactly even for a subject cut by the frame.
    cv::Mat soft;
    cv::GaussianBlur(matte, soft, cv::Size(), sigma_px, sigma_px, cv::BORDER_REFLECT);
    return soft;
}

cv::Mat fill_holes(const cv::Mat& matte) {
    require_matte(matte, "fill_holes");
    // A one-pixel background frame joins every background region that touches the border, so a
    // single flood fill from a corner reaches all of them; what it leaves is the holes.
    // 4-connectivity for background is the dual of 8-connected foreground: a diagonal chain of
    // foreground pixels closes a hole.
    cv::Mat background;
    cv::copyMakeBorder(~foreground_of(matte), background, 1, 1, 1, 1, cv::BORDER_CONSTANT,
                       cv::Scalar(255));
    cv::floodFill(background, cv::Point(0, 0), cv::Scalar(0), nullptr, cv::Scalar(), cv::Scalar(),
                  4);
    cv::Mat filled = matte.clone();
    filled.setTo(1.0f, background(cv::Rect(1, 1, matte.cols, matte.rows)));
    return filled;
}

cv::Mat remove_specks(const cv::Mat& matte, int min_area_px) {
    require_matte(matte, "remove_specks");
    require_min_area(min_area_px, "remove_specks");
    cv::Mat cleaned = matte.clone();
    if (min_area_px == 0) return cleaned;
    cv::Mat labels, stats, centroids;
    const int count =
        cv::connectedComponentsWithStats(foreground_of(matte), labels, stats, centroids, 8, CV_32S);
    std::vector<unsigned char> drop(static_cast<size_t>(count), 0);
    bool any = false;
    for (int label = 1; label < count; ++label) {  // label 0 is the background
        drop[label] = stats.at<int>(label, cv::CC_STAT_AREA) < min_area_px;
        any = any || drop[label];
    }
    if (!any) return cleaned;
    for_each_row(matte.rows, [&](int y) {
        const int* label = labels.ptr<int>(y);
        float* alpha = cleaned.ptr<float>(y);
        for (int x = 0; x < matte.cols; ++x)
            if (drop[label[x]]) alpha[x] = 0.0f;
    });
    return cleaned;
}

cv::Mat guided_filter_refine(const cv::Mat& matte, const cv::Mat& rgb_guide, int radius_px,
                             double eps, int subsample) {
    require_matte_and_rgb(matte, rgb_guide, "guided_filter_refine");
    require_guided(radius_px, eps, subsample, "guided_filter_refine");

    cv::Mat guide = rgb_guide, input = matte;
    if (subsample > 1) {
        const cv::Size small((matte.cols + subsample - 1) / subsample,
                             (matte.rows + subsample - 1) / subsample);
        cv::resize(rgb_guide, guide, small, 0, 0, cv::INTER_AREA);
        cv::resize(matte, input, small, 0, 0, cv::INTER_AREA);
    }
    const int radius = std::max(1, static_cast<int>(std::lround(double(radius_px) / subsample)));

    // Window sums of I (3), p, the upper triangle of I·Iᵀ (6) and I·p (3): one 13-channel box
    // filter instead of thirteen single-channel ones.
    constexpr int kStats = 13;
    cv::Mat stats(input.size(), CV_32FC(kStats));
    for_each_row(input.rows, [&](int y) {
        const uchar* g = guide.ptr<uchar>(y);
        const float* p = input.ptr<float>(y);
        float* s = stats.ptr<float>(y);
        for (int x = 0; x < input.cols; ++x, g += 3, s += kStats) {
            const float r = g[0] * kInverse255, gg = g[1] * kInverse255, b = g[2] * kInverse255;
            const float a = p[x];
            const float values[kStats] = {r,       gg,     b,     a,     r * r,  r * gg, r * b,
                                          gg * gg, gg * b, b * b, r * a, gg * a, b * a};
            std::copy(values, values + kStats, s);
        }
    });
    const cv::Mat means = box_mean(stats, radius);

    // Eq. 19-20: a = (Σ + εU)⁻¹ cov(I, p), b = p̄ − aᵀ·Ī, per window; Σ is symmetric so its
    // inverse is the adjugate over the determinant, in double because ε can be 1e-6.
    cv::Mat coefficients(input.size(), CV_32FC4);
    for_each_row(input.rows, [&](int y) {
        const float* m = means.ptr<float>(y);
        float* c = coefficients.ptr<float>(y);
        for (int x = 0; x < input.cols; ++x, m += kStats, c += 4) {
            const double mr = m[0], mg = m[1], mb = m[2], mp = m[3];
            const double rr = m[4] - mr * mr + eps, rg = m[5] - mr * mg, rb = m[6] - mr * mb;
            const double gg = m[7] - mg * mg + eps, gb = m[8] - mg * mb, bb = m[9] - mb * mb + eps;
            const double cr = m[10] - mr * mp, cg = m[11] - mg * mp, cb = m[12] - mb * mp;
            const double i_rr = gg * bb - gb * gb, i_rg = rb * gb - rg * bb,
                         i_rb = rg * gb - rb * gg;
            const double i_gg = rr * bb - rb * rb, i_gb = rb * rg - rr * gb,
                         i_bb = rr * gg - rg * rg;
            const double det = rr * i_rr + rg * i_rg + rb * i_rb;
            const double ar = (i_rr * cr + i_rg * cg + i_rb * cb) / det;
            const double ag = (i_rg * cr + i_gg * cg + i_gb * cb) / det;
            const double ab = (i_rb * cr + i_gb * cg + i_bb * cb) / det;
            c[0] = float(ar), c[1] = float(ag), c[2] = float(ab);
            c[3] = float(mp - ar * mr - ag * mg - ab * mb);
        }
    });
    // Eq. 21 averages the coefficients of every window covering a pixel.
    cv::Mat mean_coefficients = box_mean(coefficients, radius);
    if (subsample > 1)
        cv::resize(mean_coefficients, mean_coefficients, matte.size(), 0, 0, cv::INTER_LINEAR);

    cv::Mat refined(matte.size(), CV_32FC1);
    for_each_row(matte.rows, [&](int y) {
        const uchar* g = rgb_guide.ptr<uchar>(y);
        const float* c = mean_coefficients.ptr<float>(y);
        float* q = refined.ptr<float>(y);
        for (int x = 0; x < matte.cols; ++x, g += 3, c += 4) {
            const float value = (c[0] * g[0] + c[1] * g[1] + c[2] * g[2]) * kInverse255 + c[3];
            q[x] = std::clamp(value, 0.0f, 1.0f);
        }
    });
    return refined;
}

namespace {

// Box mean for a wide window: from radius 16 on, the sums are taken on a 1/(r/8) area-resized
// copy (radius ~8 there) and upsampled bilinearly: a 91-px box keeps no detail that a 1/5 copy
// lacks, and the resizes cost half of the full-resolution box filter (measured at 24 MP).
void wide_box_mean(const cv::Mat& src, int radius_px, cv::Mat& mean) {
    const int factor = radius_px >= 16 ? radius_px / 8 : 1;
    if (factor == 1) {
        cv::boxFilter(src, mean, -1, cv::Size(2 * radius_px + 1, 2 * radius_px + 1),
                      cv::Point(-1, -1), true, cv::BORDER_REFLECT);
        return;
    }
    cv::Mat small;
    cv::resize(src, small,
               cv::Size((src.cols + factor - 1) / factor, (src.rows + factor - 1) / factor), 0, 0,
               cv::INTER_AREA);
    cv::resize(box_mean(small, static_cast<int>(std::lround(double(radius_px) / factor))), mean,
               src.size(), 0, 0, cv::INTER_LINEAR);
}

// Forte & Pitié eq. 5-7 per pixel from the box sums [F·α, α] and B·(1−α): F̂ and B̂ are the
// weighted means, F = F̂ + α·(I − α·F̂ − (1−α)·B̂) clipped to 0..255 (the formula is linear, so it
// runs on 0..255 values). emit(y, x, α, F, B̂) takes each pixel's result.
template <typename Emit>
void correct_foreground(const cv::Mat& rgb, const cv::Mat& alpha, const cv::Mat& blurred_fg,
                        const cv::Mat& blurred_bg, const Emit& emit) {
    for_each_row(rgb.rows, [&](int y) {
        const uchar* in = rgb.ptr<uchar>(y);
        const float* a = alpha.ptr<float>(y);
        const float* sf = blurred_fg.ptr<float>(y);
        const float* sb = blurred_bg.ptr<float>(y);
        for (int x = 0; x < rgb.cols; ++x, in += 3, sf += 4, sb += 3) {
            const float ax = std::clamp(a[x], 0.0f, 1.0f);
            // The paper's 1e-5 keeps windows with no subject (or no background) finite.
            const float fg_weight = 1.0f / (sf[3] + 1e-5f);
            const float bg_weight = 1.0f / (1.0f - sf[3] + 1e-5f);
            float fg[3], bg[3];
            for (int k = 0; k < 3; ++k) {
                const float f_hat = sf[k] * fg_weight;
                bg[k] = sb[k] * bg_weight;
                const float residual = in[k] - ax * f_hat - (1.0f - ax) * bg[k];
                fg[k] = std::clamp(f_hat + ax * residual, 0.0f, 255.0f);
            }
            emit(y, x, ax, fg, bg);
        }
    });
}

}  // namespace

cv::Mat decontaminate_colours(const cv::Mat& rgb, const cv::Mat& matte, int large_radius_px,
                              int small_radius_px) {
    require_matte_and_rgb(matte, rgb, "decontaminate_colours");
    require_radius(large_radius_px, "decontaminate_colours", "large radius");
    require_radius(small_radius_px, "decontaminate_colours", "small radius");
    // Four float buffers reused by both passes: at 24 MP fresh allocations cost as much as
    // the arithmetic (page faults), so each pass writes the next one's input in place.
    cv::Mat weighted_fg(rgb.size(), CV_32FC4), weighted_bg(rgb.size(), CV_32FC3);
    cv::Mat blurred_fg, blurred_bg;
    const auto store_weighted = [&](int y, int x, float ax, const float* fg, const float* bg) {
        float* wf = weighted_fg.ptr<float>(y) + 4 * x;
        float* wb = weighted_bg.ptr<float>(y) + 3 * x;
        for (int k = 0; k < 3; ++k) wf[k] = fg[k] * ax, wb[k] = bg[k] * (1.0f - ax);
        wf[3] = ax;
    };
    // The paper's first estimates are F = B = I.
    for_each_row(rgb.rows, [&](int y) {
        const uchar* in = rgb.ptr<uchar>(y);
        const float* a = matte.ptr<float>(y);
        for (int x = 0; x < rgb.cols; ++x, in += 3) {
            const float image[3] = {float(in[0]), float(in[1]), float(in[2])};
            store_weighted(y, x, std::clamp(a[x], 0.0f, 1.0f), image, image);
        }
    });
    wide_box_mean(weighted_fg, large_radius_px, blurred_fg);
    wide_box_mean(weighted_bg, large_radius_px, blurred_bg);
    correct_foreground(rgb, matte, blurred_fg, blurred_bg, store_weighted);
    wide_box_mean(weighted_fg, small_radius_px, blurred_fg);
    wide_box_mean(weighted_bg, small_radius_px, blurred_bg);
    cv::Mat colours(rgb.size(), CV_8UC3);
    correct_foreground(rgb, matte, blurred_fg, blurred_bg,
                       [&](int y, int x, float, const float* fg, const float*) {
                           uchar* out = colours.ptr<uchar>(y) + 3 * x;
                           for (int k = 0; k < 3; ++k) out[k] = cv::saturate_cast<uchar>(fg[k]);
                       });
    return colours;
}

RefinedMatte refine_matte(const cv::Mat& matte, const cv::Mat& rgb, const RefineOptions& options) {
    const char* function = "refine_matte";
    require_matte_and_rgb(matte, rgb, function);
    const bool guided = options.guided_radius_px != 0;
    if (guided)
        require_guided(options.guided_radius_px, options.guided_eps,
                       std::max(1, options.guided_subsample), function);
    require(options.guided_subsample >= 0, function, "guided_subsample is negative");
    if (options.hard_alpha) require_level(options.threshold_level, function);
    require_min_area(options.min_speck_area_px, function);
    require_sigma(options.feather_sigma_px, function);
    if (options.decontaminate) {
        require_radius(options.decontaminate_large_radius_px, function, "large radius");
        require_radius(options.decontaminate_small_radius_px, function, "small radius");
    }

    RefinedMatte result{matte, rgb};
    if (guided) {
        // He & Sun suggest s = r/4 for the fast guided filter.
        const int subsample = options.guided_subsample > 0
                                  ? options.guided_subsample
                                  : std::max(1, options.guided_radius_px / 4);
        result.matte = guided_filter_refine(result.matte, rgb, options.guided_radius_px,
                                            options.guided_eps, subsample);
    }
    if (options.hard_alpha) result.matte = threshold_matte(result.matte, options.threshold_level);
    if (options.fill_holes) result.matte = fill_holes(result.matte);
    if (options.min_speck_area_px > 0)
        result.matte = remove_specks(result.matte, options.min_speck_area_px);
    if (options.grow_px != 0) result.matte = grow_shrink(result.matte, options.grow_px);
    if (options.feather_sigma_px > 0.0)
        result.matte = feather(result.matte, options.feather_sigma_px);
    if (options.decontaminate)
        result.foreground =
            decontaminate_colours(rgb, result.matte, options.decontaminate_large_radius_px,
                                  options.decontaminate_small_radius_px);
    if (result.matte.data == matte.data) result.matte = matte.clone();  // never alias the input
    return result;
}

}  // namespace ps::image
