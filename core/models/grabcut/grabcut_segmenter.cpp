// GrabCut (Rother et al. 2004, cv::grabCut) seeded from SAM-style points and boxes.
#include "models/grabcut/grabcut_segmenter.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "image/downscale.h"
#include "image/mask_export.h"

namespace ps::grabcut {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

Error invalid(const std::string& message) {
    return make_error(ErrorKind::InvalidArgument, "GrabCut: " + message);
}

std::optional<Error> validate(const cv::Mat& rgb, const runtime::Prompt& prompt,
                              const GrabCutOptions& options) {
    if (rgb.empty() || rgb.dims != 2 || rgb.type() != CV_8UC3)
        return invalid("image is " + cv::typeToString(rgb.type()) +
                       ", expected a non-empty CV_8UC3 (RGB) image");
    if (options.work_long_side < 0 || options.iterations < 1)
        return invalid("invalid options (work_long_side " + std::to_string(options.work_long_side) +
                       ", expected >= 0; iterations " + std::to_string(options.iterations) +
                       ", expected >= 1)");
    bool has_positive = false;
    for (size_t i = 0; i < prompt.points.size(); ++i) {
        const runtime::Point& point = prompt.points[i];
        if (point.label != 0 && point.label != 1)
            return invalid("point " + std::to_string(i) + " has label " +
                           std::to_string(point.label) + ", expected 1 (object) or 0 (background)");
        if (!std::isfinite(point.x) || !std::isfinite(point.y))
            return invalid("point " + std::to_string(i) + " has a non-finite coordinate");
        has_positive = has_positive || point.label == 1;
    }
    if (prompt.box) {
        const auto& [x0, y0, x1, y1] = *prompt.box;
        if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1))
            return invalid("the box has a non-finite coordinate");
        if (!(x0 < x1 && y0 < y1))
            return invalid("the box is empty (expected x0 < x1 and y0 < y1)");
    } else if (!has_positive) {
        return invalid("needs an object point or a box; background points alone select nothing");
    }
    return std::nullopt;
}

// Maps original-image coordinates onto the working copy, pixel centres onto pixel centres.
struct WorkScale {
    double x = 1, y = 1;
    cv::Point point(const runtime::Point& p) const {
        return {static_cast<int>(std::lround((p.x + 0.5) * x - 0.5)),
                static_cast<int>(std::lround((p.y + 0.5) * y - 0.5))};
    }
};

// The trimap GrabCut starts from, at working size.
cv::Mat initial_mask(cv::Size work, const runtime::Prompt& prompt, const WorkScale& scale) {
    const int long_side = std::max(work.width, work.height);
    // A seed small enough to sit inside the clicked object, but a few pixels wide so that the
    // GMMs start with more than one sample of its colours; tiny images get a smaller one.
    const int seed_radius = std::clamp(long_side / 16, 1, 4);
    // How far a click's colours are assumed to extend, for object and background clicks alike.
    // A 4-px seed alone hardly moves GrabCut, whose colour models are fitted to all probable
    // pixels: a background click on an object inside a box left 99 % of it in the mask, and one
    // on a spot inside a clicked object left all of it (test_grabcut); 1/16 of the long side was
    // still too small for the former.
    const int neighbourhood_radius = std::max(1, long_side / 8);
    cv::Mat mask;
    if (prompt.box) {
        const auto& [x0, y0, x1, y1] = *prompt.box;
        // Every working pixel the box touches is inside it.
        const cv::Rect box(cv::Point(static_cast<int>(std::floor(x0 * scale.x)),
                                     static_cast<int>(std::floor(y0 * scale.y))),
                           cv::Point(static_cast<int>(std::ceil(x1 * scale.x)),
                                     static_cast<int>(std::ceil(y1 * scale.y))));
        mask = cv::Mat(work, CV_8UC1, cv::Scalar(cv::GC_BGD));
        mask(box & cv::Rect(cv::Point(0, 0), work)).setTo(cv::GC_PR_FGD);
    } else {
        // Far from the object clicks everything starts as background, so that the background
        // model is learnt from the rest of the image.
        mask = cv::Mat(work, CV_8UC1, cv::Scalar(cv::GC_PR_BGD));
        for (const runtime::Point& point : prompt.points)
            if (point.label == 1)
                cv::circle(mask, scale.point(point), neighbourhood_radius, cv::GC_PR_FGD,
                           cv::FILLED);
    }
    // Around a background click, probable object becomes probable background; definite
    // background outside a box stays definite.
    cv::Mat neighbourhood(work, CV_8UC1, cv::Scalar(0));
    for (const runtime::Point& point : prompt.points)
        if (point.label == 0)
            cv::circle(neighbourhood, scale.point(point), neighbourhood_radius, cv::Scalar(255),
                       cv::FILLED);
    mask.setTo(cv::GC_PR_BGD, neighbourhood & (mask == cv::GC_PR_FGD));
    for (const runtime::Point& point : prompt.points)
        if (point.label == 1)
            cv::circle(mask, scale.point(point), seed_radius, cv::GC_FGD, cv::FILLED);
    // Background seeds last: where the user said both, the later, corrective click wins.
    for (const runtime::Point& point : prompt.points)
        if (point.label == 0)
            cv::circle(mask, scale.point(point), seed_radius, cv::GC_BGD, cv::FILLED);
    return mask;
}

// GrabCut's colour models are global, so a click also selects same-coloured regions elsewhere
// in the image. Without a box to bound the selection, only the regions (8-connected) holding an
// object click's seed are kept, as a click selects one object.
cv::Mat keep_clicked_regions(const cv::Mat& foreground, const cv::Mat& seeds) {
    cv::Mat labels;
    const int count = cv::connectedComponents(foreground, labels, 8, CV_32S);
    std::vector<uchar> keep(count, 0);
    for (int y = 0; y < labels.rows; ++y)
        for (int x = 0; x < labels.cols; ++x)
            if (seeds.at<uchar>(y, x) != 0) keep[labels.at<int>(y, x)] = 1;
    keep[0] = 0;  // the background label
    cv::Mat kept(foreground.size(), CV_8UC1);
    for (int y = 0; y < labels.rows; ++y)
        for (int x = 0; x < labels.cols; ++x)
            kept.at<uchar>(y, x) = keep[labels.at<int>(y, x)] ? 255 : 0;
    return kept;
}

bool has_both_classes(const cv::Mat& trimap) {
    // GC_BGD = 0 and GC_PR_BGD = 2 have bit 0 clear; GC_FGD = 1 and GC_PR_FGD = 3 set.
    const int foreground = cv::countNonZero(cv::Mat(trimap & 1));
    return foreground > 0 && foreground < static_cast<int>(trimap.total());
}

}  // namespace

Result<runtime::MaskSet> grabcut_segment(const cv::Mat& rgb, const runtime::Prompt& prompt,
                                         const GrabCutOptions& options) {
    if (auto error = validate(rgb, prompt, options)) return *error;
    const auto start = Clock::now();

    const cv::Mat work = image::downscale_for_interactive(rgb, options.work_long_side);
    const WorkScale scale{static_cast<double>(work.cols) / rgb.cols,
                          static_cast<double>(work.rows) / rgb.rows};
    cv::Mat trimap = initial_mask(work.size(), prompt, scale);
    const cv::Mat seeds = trimap == cv::GC_FGD;  // cv::grabCut never relabels definite pixels
    if (!has_both_classes(trimap))
        return invalid(
            "the prompt leaves no background or no object pixels to learn colours from "
            "(a box covering the whole image, or an object point covered by background points)");

    try {
        cv::Mat background_model, foreground_model;
        cv::grabCut(work, trimap, cv::Rect(), background_model, foreground_model,
                    options.iterations, cv::GC_INIT_WITH_MASK);
    } catch (const cv::Exception& e) {
        return make_error(ErrorKind::Runtime, std::string("GrabCut failed: ") + e.what());
    }
    cv::Mat work_mask = (trimap & 1) * 255;
    if (!prompt.box) work_mask = keep_clicked_regions(work_mask, seeds);

    runtime::MaskSet result;
    result.decode_ms = elapsed_ms(start);
    const auto upscale_start = Clock::now();
    result.masks.push_back(image::upscale_mask(work_mask, rgb.size()));
    result.postprocess_ms = elapsed_ms(upscale_start);
    result.iou = {1.0f};
    result.best_index = 0;
    return result;
}

}  // namespace ps::grabcut
