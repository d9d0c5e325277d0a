// Frames of a video file, one at a time, through OpenCV's video I/O (FFmpeg): memory stays one
// decoded frame whatever the video's length.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"

namespace ps::video {

struct VideoProperties {
    int width = 0;
    int height = 0;
    double fps = 0;        // as the container states it; 0 when it does not
    long long frames = 0;  // the container's count, an estimate for some formats; 0 if unknown
};

// FFmpeg logs its own complaints ("moov atom not found") on stderr, which would break the CLI's
// one-line errors; ours name the file. Call before the first open (OpenCV reads the setting
// once); a user's own OPENCV_FFMPEG_LOGLEVEL is kept.
void quiet_ffmpeg_logs();

class VideoSource {
  public:
    // Opens `path` and reads its first frame's header: a missing file, a file that is not a
    // video, or one that decodes to nothing is an error naming the file.
    static Result<std::unique_ptr<VideoSource>> open(const std::string& path);
    ~VideoSource();
    VideoSource(const VideoSource&) = delete;
    VideoSource& operator=(const VideoSource&) = delete;

    const VideoProperties& properties() const { return properties_; }
    // The next frame as CV_8UC3 in RGB order, or nullopt at the end of the video. A frame whose
    // size differs from the first (a corrupt stream) is an error.
    Result<std::optional<cv::Mat>> next();
    // Moves past the next frame without converting it (resuming: cheaper than next()); false at
    // the end.
    bool skip();
    long long position() const { return position_; }  // frames read or skipped so far

  private:
    struct Impl;
    VideoSource(std::unique_ptr<Impl> impl, std::string label, VideoProperties properties);
    std::unique_ptr<Impl> impl_;
    std::string label_;
    VideoProperties properties_;
    long long position_ = 0;
};

// The number of frames in the video at `path`: the container's count when it states one, else
// counted by skipping through every frame. Errors as VideoSource::open.
Result<long long> video_frame_count(const std::string& path);

}  // namespace ps::video
