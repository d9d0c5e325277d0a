// FrameSource's readers (internal to core/video): one per kind of clip, each answering frames
// by index; FrameSource checks the index and the size.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "video/frame_source.h"

namespace ps::video {

class FrameReader {
  public:
    virtual ~FrameReader() = default;
    // Frame `index` (inside the clip) as CV_8UC3 RGB.
    virtual Result<cv::Mat> read(int64_t index) = 0;
    // The frames' file names; empty for a clip without files (numbered names are made then).
    virtual std::vector<std::string> names() const { return {}; }
};

struct OpenedFrames {
    std::unique_ptr<FrameReader> reader;
    FrameSourceInfo info;
};

// frame_folder.cpp: a folder of image frames in natural order of names.
Result<OpenedFrames> open_frame_folder(const std::string& path);
// video_file_frames.cpp (built only with OpenCV's videoio): a video file through FFmpeg.
Result<OpenedFrames> open_video_file_frames(const std::string& path);
// synthetic_frames.cpp: moving shapes made on demand.
OpenedFrames synthetic_frames(int64_t frames, int width, int height);

}  // namespace ps::video
