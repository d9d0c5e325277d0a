// Matte-weighted blend of an effect's output with the original image.
#include "image/effects/effect_target.h"

#include <opencv2/core.hpp>

#include <stdexcept>

#include "image/effects/effect_common.h"

namespace ps::image {

namespace {

// round(x / 255) for x in [0, 255·255], without a division (the identity holds on that range).
inline int div255_round(int x) {
    x += 128;
    return (x + (x >> 8)) >> 8;
}

}  // namespace

cv::Mat apply_with_target(const cv::Mat& rgb, const cv::Mat& effect_output, const cv::Mat& matte,
                          EffectTarget target) {
    require_rgb8(rgb, "apply_with_target");
    require_rgb8(effect_output, "apply_with_target (effect output)");
    if (effect_output.size() != rgb.size())
        throw std::invalid_argument(
            "apply_with_target: the effect output's size differs from the image's");
    if (target == EffectTarget::All) return effect_output;
    if (matte.type() != CV_8UC1 || matte.size() != rgb.size())
        throw std::invalid_argument(
            "apply_with_target: expected a CV_8UC1 matte of the image's size");

    const bool invert = target == EffectTarget::Background;
    cv::Mat out(rgb.size(), CV_8UC3);
    cv::parallel_for_(cv::Range(0, rgb.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const uchar* in = rgb.ptr<uchar>(y);
            const uchar* fx = effect_output.ptr<uchar>(y);
            const uchar* m = matte.ptr<uchar>(y);
            uchar* o = out.ptr<uchar>(y);
            for (int x = 0; x < rgb.cols; ++x) {
                const int a = invert ? 255 - m[x] : m[x];
                for (int c = 3 * x; c < 3 * x + 3; ++c)
                    o[c] = static_cast<uchar>(div255_round(fx[c] * a + in[c] * (255 - a)));
            }
        }
    });
    return out;
}

}  // namespace ps::image
