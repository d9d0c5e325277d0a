// A synthetic clip for benchmarks and tests: a few discs and a square moving over a gradient,
// each frame a pure function of its index, so any frame is made in any order without storage.
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "video/frame_reader.h"

namespace ps::video {
namespace {

class SyntheticFrames : public FrameReader {
  public:
    SyntheticFrames(int width, int height) : width_(width), height_(height) {
        // The gradient once; each frame copies it and draws the moving shapes.
        background_.create(height, width, CV_8UC3);
        for (int y = 0; y < height; ++y) {
            auto* row = background_.ptr<cv::Vec3b>(y);
            for (int x = 0; x < width; ++x)
                row[x] = cv::Vec3b(static_cast<uint8_t>(x * 255 / std::max(1, width - 1)), 90,
                                   static_cast<uint8_t>(y * 255 / std::max(1, height - 1)));
        }
    }

    Result<cv::Mat> read(int64_t index) override {
        cv::Mat rgb = background_.clone();
        const double t = static_cast<double>(index);
        const int unit = std::max(2, std::min(width_, height_) / 8);
        // Slow periodic paths keep the shapes inside the frame at any index.
        const cv::Point disc(static_cast<int>(width_ * (0.5 + 0.3 * std::sin(t / 40.0))),
                             static_cast<int>(height_ * (0.5 + 0.25 * std::cos(t / 55.0))));
        cv::circle(rgb, disc, unit, cv::Scalar(240, 200, 30), cv::FILLED);
        const cv::Point second(static_cast<int>(width_ * (0.3 + 0.15 * std::cos(t / 30.0))),
                               static_cast<int>(height_ * (0.3 + 0.1 * std::sin(t / 35.0))));
        cv::circle(rgb, second, unit / 2 + 1, cv::Scalar(30, 220, 60), cv::FILLED);
        const int sx = static_cast<int>(width_ * (0.7 + 0.15 * std::sin(t / 25.0)));
        const int sy = static_cast<int>(height_ * (0.7 + 0.15 * std::cos(t / 45.0)));
        cv::rectangle(rgb, cv::Rect(sx - unit / 2, sy - unit / 2, unit, unit),
                      cv::Scalar(20, 40, 230), cv::FILLED);
        return rgb;
    }

  private:
    int width_, height_;
    cv::Mat background_;
};

}  // namespace

OpenedFrames synthetic_frames(int64_t frames, int width, int height) {
    OpenedFrames out;
    out.reader = std::make_unique<SyntheticFrames>(std::max(1, width), std::max(1, height));
    out.info.frames = std::max<int64_t>(0, frames);
    out.info.width = std::max(1, width);
    out.info.height = std::max(1, height);
    out.info.fps = 30;
    out.info.label =
        "synthetic " + std::to_string(out.info.width) + "x" + std::to_string(out.info.height);
    return out;
}

}  // namespace ps::video
