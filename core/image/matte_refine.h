// Matte refinement: threshold, grow/shrink, feather, hole and speck cleaning, guided-filter edge
// snapping and foreground colour decontamination, each a pure function, plus a fixed pipeline.
//
// Canonical matte: CV_32FC1, alpha in [0, 1] (0 = background, 1 = subject). Every refinement
// function takes and returns that type; matte_from_u8 / matte_to_u8 convert at the borders (model
// outputs, PNG files). "Foreground" below means alpha >= 0.5 wherever a step needs a hard set.
// Images are CV_8UC3 in any channel order (the result keeps the input's order).
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

// Throws std::invalid_argument naming `function` unless `matte` is a non-empty 2-D CV_32FC1
// matte. Shared by composite.cpp so every matte function words the error the same way.
void require_matte(const cv::Mat& matte, const char* function);

// As require_matte, and `rgb` a non-empty CV_8UC3 image of the matte's size.
void require_matte_and_rgb(const cv::Mat& matte, const cv::Mat& rgb, const char* function);

// CV_8UC1 0..255 → CV_32FC1 0..1 (value / 255). Throws std::invalid_argument on another type.
cv::Mat matte_from_u8(const cv::Mat& matte_u8);

// CV_32FC1 → CV_8UC1: round(alpha * 255), clamped to 0..255.
cv::Mat matte_to_u8(const cv::Mat& matte);

// Hard matte: 1 where alpha > level, else 0. level in [0, 1].
cv::Mat threshold_matte(const cv::Mat& matte, double level);

// Grows (px > 0) or shrinks (px < 0) the foreground by |px| pixels with a circular structuring
// element, so a disc's radius changes by px (±0.5). Uses the exact Euclidean distance
// transform, so the cost does not depend on px. The result is hard (0/1): feather afterwards to
// soften it. The image frame is not background (a subject cut by the frame does not shrink from
// it). px == 0 returns the thresholded matte.
cv::Mat grow_shrink(const cv::Mat& matte, int px);

// Gaussian blur with standard deviation sigma_px (>= 0; 0 returns a copy). Reflecting borders
// keep the total alpha of a subject away from the frame unchanged.
cv::Mat feather(const cv::Mat& matte, double sigma_px);

// Sets to 1 every hole: a 4-connected background region (alpha < 0.5) that does not touch the
// image frame. Background open to the frame, however narrow the opening, is kept.
cv::Mat fill_holes(const cv::Mat& matte);

// Sets to 0 every 8-connected foreground component (alpha >= 0.5) with fewer than min_area_px
// pixels (>= 0; 0 keeps everything). Soft alpha below 0.5 around a removed speck is kept, so run
// it before feathering (refine_matte does).
cv::Mat remove_specks(const cv::Mat& matte, int min_area_px);

// He, Sun & Tang's guided filter (ECCV 2010, eq. 19-21 with a colour guide), written with box
// filters: alpha is modelled as a local linear function of the guide's RGB, so soft and blocky
// edges snap to the image's edges. radius_px >= 1 (window 2r+1), eps > 0 on guide values scaled
// to [0, 1] (1e-4..1e-2: smaller follows edges more closely). subsample >= 1 computes the
// coefficients on a 1/subsample area-resized copy with radius r/subsample and upsamples them
// bilinearly (He & Sun's "fast guided filter", arXiv 1505.00996); s ≈ r/4 loses no visible
// quality and divides the work by s². Output clamped to [0, 1].
cv::Mat guided_filter_refine(const cv::Mat& matte, const cv::Mat& rgb_guide, int radius_px,
                             double eps, int subsample = 1);

// Foreground colours F such that rgb ≈ F·α + B·(1−α), with F free of the old background's
// colour where alpha is soft: Forte & Pitié's blur-fusion estimator ("Approximate Fast
// Foreground Colour Estimation", ICIP 2021). Each pass estimates F̂ = box(F·α)/box(α) and
// B̂ = box(B·(1−α))/box(1−α), then corrects F = F̂ + α·(I − α·F̂ − (1−α)·B̂), clipped; a coarse pass
// (box 2·large_radius_px+1, from F = B = I) feeds a fine one (box 2·small_radius_px+1). The paper's
// box sizes 90 and 6 correspond to the defaults. Where alpha is 1 the colour is unchanged; where
// it is 0 F is a smooth extrapolation of nearby subject colour (invisible when composited).
// Returns CV_8UC3 in rgb's channel order. Radii >= 1.
cv::Mat decontaminate_colours(const cv::Mat& rgb, const cv::Mat& matte, int large_radius_px = 45,
                              int small_radius_px = 3);

// Which refinement steps refine_matte applies, and with what parameters. Zero turns a step off.
struct RefineOptions {
    int guided_radius_px = 0;  // 0 = off; else guided_filter_refine radius
    double guided_eps = 1e-4;
    int guided_subsample = 0;  // 0 = auto: max(1, radius / 4)
    bool hard_alpha = false;   // threshold_matte at threshold_level; else keep soft alpha
    double threshold_level = 0.5;
    bool fill_holes = false;
    int min_speck_area_px = 0;      // 0 = off
    int grow_px = 0;                // > 0 grows, < 0 shrinks, 0 = off (keeps soft alpha)
    double feather_sigma_px = 0.0;  // 0 = off
    bool decontaminate = false;
    int decontaminate_large_radius_px = 45;
    int decontaminate_small_radius_px = 3;
};

struct RefinedMatte {
    cv::Mat matte;       // CV_32FC1
    cv::Mat foreground;  // CV_8UC3 colours to composite: decontaminated, or `rgb` itself (no copy)
};

// Applies the enabled steps in this fixed order, each on the previous one's result:
// 1 guided filter (uses the model's soft alpha and the image), 2 threshold (hard alpha),
// 3 fill holes, 4 remove specks (cleaning on the snapped edge), 5 grow/shrink, 6 feather (last
// on the matte, so the chosen softness is what comes out), 7 decontaminate colours with the
// final matte. Throws std::invalid_argument on bad inputs or options, before any work.
RefinedMatte refine_matte(const cv::Mat& matte, const cv::Mat& rgb, const RefineOptions& options);

}  // namespace ps::image
