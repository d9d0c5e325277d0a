// Input checks and luma shared by the effects.
#include "image/effects/effect_common.h"

#include <opencv2/core.hpp>

#include <stdexcept>
#include <string>

namespace ps::image {

void require_rgb8(const cv::Mat& rgb, const char* who) {
    if (rgb.empty() || rgb.dims != 2 || rgb.type() != CV_8UC3) {
        throw std::invalid_argument(
            std::string(who) + ": expected a non-empty 2-D CV_8UC3 (RGB) image, got " +
            (rgb.empty() ? std::string("an empty one") : cv::typeToString(rgb.type())));
    }
}

cv::Mat luminance_709(const cv::Mat& rgb) {
    require_rgb8(rgb, "luminance_709");
    cv::Mat luma;
    // cv::transform rounds with saturate_cast, so the exact-grey property above holds.
    cv::transform(rgb, luma, cv::Matx13f(0.2126f, 0.7152f, 0.0722f));
    return luma;
}

cv::Mat map_luma_to_colours(const cv::Mat& luma, const LumaColourTable& table) {
    CV_Assert(luma.type() == CV_8UC1);
    cv::Mat out(luma.size(), CV_8UC3);
    cv::parallel_for_(cv::Range(0, luma.rows), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const uchar* l = luma.ptr<uchar>(y);
            cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
            for (int x = 0; x < luma.cols; ++x) o[x] = table[l[x]];
        }
    });
    return out;
}

cv::Mat grey_to_rgb(const cv::Mat& grey) {
    CV_Assert(grey.type() == CV_8UC1);
    cv::Mat rgb;
    cv::merge(std::vector<cv::Mat>{grey, grey, grey}, rgb);
    return rgb;
}

}  // namespace ps::image
