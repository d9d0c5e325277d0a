// Adding a point file's labels to a project (see label_growth.h).
#include "batch/label_growth.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace ps::batch {

std::array<uint8_t, 3> distinct_label_colour(int index) {
    constexpr double kGoldenAngleDegrees = 137.50776405003785;
    const double hue = std::fmod(index * kGoldenAngleDegrees, 360.0);
    // Three saturation/value levels in turn: hues that the golden angle brings back close
    // together (every 8th or 13th step) then differ in lightness. Chosen so the first twelve
    // colours are at least 70 RGB units apart.
    constexpr int kLevels[3][2] = {{220, 245}, {150, 215}, {255, 175}};
    const int* level = kLevels[index % 3];
    // OpenCV's 8-bit HSV: hue in [0, 180), saturation and value in [0, 255].
    const cv::Mat hsv(1, 1, CV_8UC3,
                      cv::Scalar(std::fmod(std::round(hue / 2.0), 180.0), level[0], level[1]));
    cv::Mat rgb;
    cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
    const cv::Vec3b pixel = rgb.at<cv::Vec3b>(0, 0);
    return {pixel[0], pixel[1], pixel[2]};
}

bool add_missing_labels(annotation::LabelSet& labels, const std::vector<std::string>& names) {
    bool added = false;
    for (const std::string& name : names) {
        if (labels.find(name)) continue;
        annotation::Label label;
        label.name = name;
        label.colour = distinct_label_colour(static_cast<int>(labels.labels.size()));
        labels.labels.push_back(std::move(label));
        added = true;
    }
    return added;
}

}  // namespace ps::batch
