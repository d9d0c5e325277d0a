// Random access to the frames of a clip for tracking: a video file, a folder of image frames or a
// synthetic clip, one interface, memory bounded whatever the length.
//
//   auto frames = video::FrameSource::open("clip.mp4");          // or a folder of frames
//   cv::Mat rgb = (*frames)->frame(42).value();                  // CV_8UC3 RGB
//   auto bench = video::FrameSource::synthetic(10000, 1920, 1080);  // generated on demand
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace ps::video {

struct FrameSourceInfo {
    int64_t frames = 0;
    int width = 0, height = 0;
    double fps = 0;     // 0 when unknown (a folder, a container that does not say)
    std::string label;  // the file or folder name, for messages
};

// One way of reading frames (a video file, a folder, a generator): FrameSource's pimpl.
class FrameReader;

// Thread-compatible: one user thread at a time (the engine reads it on the model's device thread).
class FrameSource {
  public:
    // A video file (OpenCV's FFmpeg video I/O; sequential reads are the fast path, a jump seeks
    // and checks where it landed, a few recent frames serve backward steps), or a folder of
    // image frames (png, jpg, jpeg, bmp, tif, tiff, webp in natural order of names, all of the
    // first one's size). Errors name the path and the problem.
    static Result<std::unique_ptr<FrameSource>> open(const std::string& path);
    // Deterministic moving shapes on a gradient, made on demand: benchmarks and tests.
    static std::unique_ptr<FrameSource> synthetic(int64_t frames, int width, int height);
    ~FrameSource();
    FrameSource(const FrameSource&) = delete;
    FrameSource& operator=(const FrameSource&) = delete;

    const FrameSourceInfo& info() const { return info_; }
    // Frame `index` (0-based) as CV_8UC3 RGB at info()'s size.
    Result<cv::Mat> frame(int64_t index);
    // A folder's file names; for a video or a synthetic clip "000000.png"-style names.
    std::vector<std::string> frame_names() const;

  private:
    FrameSource(std::unique_ptr<FrameReader> reader, FrameSourceInfo info);
    std::unique_ptr<FrameReader> reader_;
    FrameSourceInfo info_;
};

}  // namespace ps::video
