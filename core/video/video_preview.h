// The composited preview video of a remove-bg video run, written through OpenCV's video I/O to a
// hidden partial file beside the target and renamed over it only when every frame is in: a killed
// run never leaves a truncated video under the name the user asked for.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>

#include "common/result.h"

namespace ps::video {

class PreviewWriter {
  public:
    // path: .mp4 (MPEG-4 part 2), .avi (Motion JPEG) or .mkv (MPEG-4 part 2); fps <= 0 means 25.
    static Result<std::unique_ptr<PreviewWriter>> open(const std::string& path, double fps,
                                                       int width, int height);
    ~PreviewWriter();  // without commit(): the partial file is removed
    PreviewWriter(const PreviewWriter&) = delete;
    PreviewWriter& operator=(const PreviewWriter&) = delete;

    void add(const cv::Mat& rgb);  // CV_8UC3 RGB of the size given to open()
    Status commit();               // closes the file and renames it over path

  private:
    struct Impl;
    explicit PreviewWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::video
