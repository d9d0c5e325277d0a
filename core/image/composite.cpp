// Compositing of a matted subject over backgrounds; OpenCV core+imgproc only.
#include "image/composite.h"

#include "image/mask_export.h"
#include "image/matte_refine.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ps::image {
namespace {

std::string size_text(cv::Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

template <typename RowBody>
void for_each_row(int rows, const RowBody& row_body) {
    cv::parallel_for_(cv::Range(0, rows), [&](const cv::Range& range) {
        for (int y = range.start; y < range.end; ++y) row_body(y);
    });
}

// out = F·α + B·(1−α) per channel, in float, rounded to nearest (saturate_cast); F and B
// CV_8UC3, α CV_32FC1, all of one size.
cv::Mat blend(const cv::Mat& foreground, const cv::Mat& matte, const cv::Mat& background) {
    cv::Mat out(foreground.size(), CV_8UC3);
    for_each_row(out.rows, [&](int y) {
        const uchar* f = foreground.ptr<uchar>(y);
        const uchar* b = background.ptr<uchar>(y);
        const float* a = matte.ptr<float>(y);
        uchar* o = out.ptr<uchar>(y);
        for (int x = 0; x < out.cols; ++x) {
            const float alpha = std::clamp(a[x], 0.0f, 1.0f);
            for (int k = 3 * x; k < 3 * x + 3; ++k)
                o[k] = cv::saturate_cast<uchar>(f[k] * alpha + b[k] * (1.0f - alpha));
        }
    });
    return out;
}

// Gaussian blur, at reduced resolution when sigma is wide (see on_blurred in the header).
cv::Mat wide_blur(const cv::Mat& image, double sigma_px) {
    const int factor = sigma_px > 4.0 ? static_cast<int>(sigma_px / 2.0) : 1;
    cv::Mat small = image;
    if (factor > 1)
        cv::resize(image, small,
                   cv::Size((image.cols + factor - 1) / factor, (image.rows + factor - 1) / factor),
                   0, 0, cv::INTER_AREA);
    const double sigma = sigma_px / factor;
    cv::Mat blurred;
    cv::GaussianBlur(small, blurred, cv::Size(), sigma, sigma, cv::BORDER_REFLECT);
    if (factor > 1) cv::resize(blurred, blurred, image.size(), 0, 0, cv::INTER_LINEAR);
    return blurred;
}

}  // namespace

cv::Mat rgba_straight(const cv::Mat& foreground, const cv::Mat& matte) {
    require_matte_and_rgb(matte, foreground, "rgba_straight");
    return cutout_rgba(foreground, matte_to_u8(matte));
}

cv::Mat matte_image(const cv::Mat& matte) {
    require_matte(matte, "matte_image");
    return matte_to_u8(matte);
}

cv::Mat on_colour(const cv::Mat& foreground, const cv::Mat& matte, const cv::Scalar& colour) {
    require_matte_and_rgb(matte, foreground, "on_colour");
    for (int k = 0; k < 3; ++k)
        if (!(colour[k] >= 0.0 && colour[k] <= 255.0))
            throw std::invalid_argument("on_colour: colour component " + std::to_string(k) +
                                        " is " + std::to_string(colour[k]) + ", expected 0..255");
    const cv::Mat background(foreground.size(), CV_8UC3, colour);
    return blend(foreground, matte, background);
}

cv::Mat on_blurred(const cv::Mat& rgb, const cv::Mat& matte, double sigma_px,
                   const cv::Mat& foreground) {
    require_matte_and_rgb(matte, rgb, "on_blurred");
    if (!foreground.empty()) require_matte_and_rgb(matte, foreground, "on_blurred");
    if (!(std::isfinite(sigma_px) && sigma_px > 0.0))
        throw std::invalid_argument("on_blurred: sigma " + std::to_string(sigma_px) +
                                    " px is not a finite value > 0");
    // Normalised convolution: blur the background's colour weighted by 1−α and its weight
    // together (one 4-channel blur), then divide.
    cv::Mat weighted(rgb.size(), CV_32FC4);
    for_each_row(rgb.rows, [&](int y) {
        const uchar* in = rgb.ptr<uchar>(y);
        const float* a = matte.ptr<float>(y);
        float* w = weighted.ptr<float>(y);
        for (int x = 0; x < rgb.cols; ++x, in += 3, w += 4) {
            const float weight = 1.0f - std::clamp(a[x], 0.0f, 1.0f);
            for (int k = 0; k < 3; ++k) w[k] = in[k] * weight;
            w[3] = weight;
        }
    });
    const cv::Mat blurred = wide_blur(weighted, sigma_px);
    cv::Mat background(rgb.size(), CV_8UC3);
    for_each_row(rgb.rows, [&](int y) {
        const float* w = blurred.ptr<float>(y);
        uchar* b = background.ptr<uchar>(y);
        // Where no background is near (deep inside the subject) the weight is ~0 and so is the
        // pixel's own 1−α, so whatever colour this gives there is not seen.
        for (int x = 0; x < rgb.cols; ++x, w += 4, b += 3) {
            const float inverse_weight = 1.0f / (w[3] + 1e-6f);
            for (int k = 0; k < 3; ++k) b[k] = cv::saturate_cast<uchar>(w[k] * inverse_weight);
        }
    });
    return blend(foreground.empty() ? rgb : foreground, matte, background);
}

cv::Mat cover_crop(const cv::Mat& image, cv::Size size) {
    if (image.empty() || image.dims != 2)
        throw std::invalid_argument("cover_crop: expected a non-empty 2-D image");
    if (size.width <= 0 || size.height <= 0)
        throw std::invalid_argument("cover_crop: target size " + size_text(size) +
                                    " is not positive");
    const double scale =
        std::max(double(size.width) / image.cols, double(size.height) / image.rows);
    // Rounded to the nearest pixel, but never below the target: the side that decides the scale
    // lands exactly on it, the other covers it.
    const cv::Size scaled(std::max(size.width, int(std::lround(image.cols * scale))),
                          std::max(size.height, int(std::lround(image.rows * scale))));
    cv::Mat resized = image;
    if (scaled != image.size())
        cv::resize(image, resized, scaled, 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    const cv::Rect centre((scaled.width - size.width) / 2, (scaled.height - size.height) / 2,
                          size.width, size.height);
    return resized(centre).clone();
}

cv::Mat on_image(const cv::Mat& foreground, const cv::Mat& matte, const cv::Mat& background) {
    require_matte_and_rgb(matte, foreground, "on_image");
    if (background.empty() || background.dims != 2 || background.type() != CV_8UC3)
        throw std::invalid_argument("on_image: background is " +
                                    cv::typeToString(background.type()) +
                                    ", expected a non-empty CV_8UC3 image");
    return blend(foreground, matte, cover_crop(background, foreground.size()));
}

}  // namespace ps::image
