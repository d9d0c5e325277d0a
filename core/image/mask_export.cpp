// Mask upscaling, cut-outs and overlays for export; OpenCV only, file writing lives in core/io.
#include "image/mask_export.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <stdexcept>
#include <string>

namespace ps::image {
namespace {

void require_mask(const cv::Mat& mask, const char* function) {
    if (mask.empty() || mask.dims != 2 || mask.type() != CV_8UC1)
        throw std::invalid_argument(std::string(function) + ": mask is " +
                                    cv::typeToString(mask.type()) +
                                    ", expected a non-empty CV_8UC1 mask");
}

void require_rgb(const cv::Mat& rgb, const char* function) {
    if (rgb.empty() || rgb.dims != 2 || rgb.type() != CV_8UC3)
        throw std::invalid_argument(std::string(function) + ": image is " +
                                    cv::typeToString(rgb.type()) +
                                    ", expected a non-empty CV_8UC3 image");
}

std::string size_text(cv::Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

void require_same_size(const cv::Mat& rgb, const cv::Mat& mask, const char* function) {
    if (rgb.size() != mask.size())
        throw std::invalid_argument(std::string(function) + ": mask is " + size_text(mask.size()) +
                                    ", image is " + size_text(rgb.size()));
}

}  // namespace

cv::Mat upscale_mask(const cv::Mat& mask, cv::Size full) {
    require_mask(mask, "upscale_mask");
    if (full.width <= 0 || full.height <= 0)
        throw std::invalid_argument("upscale_mask: target size " + size_text(full) +
                                    " is not positive");
    cv::Mat resized;
    if (full == mask.size())
        resized = mask;
    else
        cv::resize(mask, resized, full, 0, 0, cv::INTER_LINEAR);
    cv::Mat binary;
    cv::threshold(resized, binary, 127, 255, cv::THRESH_BINARY);
    return binary;
}

cv::Mat cutout_rgba(const cv::Mat& rgb, const cv::Mat& mask) {
    require_rgb(rgb, "cutout_rgba");
    require_mask(mask, "cutout_rgba");
    require_same_size(rgb, mask, "cutout_rgba");
    cv::Mat rgba(rgb.size(), CV_8UC4);
    const cv::Mat sources[] = {rgb, mask};
    const int channel_pairs[] = {0, 0, 1, 1, 2, 2, 3, 3};
    cv::mixChannels(sources, 2, &rgba, 1, channel_pairs, 4);
    return rgba;
}

cv::Mat overlay(const cv::Mat& rgb, const std::vector<cv::Mat>& masks,
                const std::vector<cv::Scalar>& colours, double opacity, bool outline) {
    require_rgb(rgb, "overlay");
    if (masks.size() != colours.size())
        throw std::invalid_argument("overlay: " + std::to_string(masks.size()) + " masks but " +
                                    std::to_string(colours.size()) + " colours");
    if (!(opacity >= 0.0 && opacity <= 1.0))
        throw std::invalid_argument("overlay: opacity " + std::to_string(opacity) +
                                    " is outside [0, 1]");
    for (const cv::Mat& mask : masks) {
        require_mask(mask, "overlay");
        require_same_size(rgb, mask, "overlay");
    }

    cv::Mat out = rgb.clone();
    const cv::Mat gradient_kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
    cv::Mat blended, edge;
    for (size_t i = 0; i < masks.size(); ++i) {
        const cv::Mat colour_plane(rgb.size(), CV_8UC3, colours[i]);
        // Blending against the current output (not the original) lets a later mask tint over an
        // earlier one, as stacked layers do in the canvas.
        cv::addWeighted(out, 1.0 - opacity, colour_plane, opacity, 0.0, blended);
        blended.copyTo(out, masks[i]);
        if (!outline) continue;
        // Dilate minus erode, with OpenCV's default border (the mask continues past the image
        // edge), so a mask touching the frame gets no outline along the frame.
        cv::morphologyEx(masks[i] != 0, edge, cv::MORPH_GRADIENT, gradient_kernel);
        out.setTo(colours[i], edge);
    }
    return out;
}

}  // namespace ps::image
