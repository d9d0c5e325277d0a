// VideoSource over cv::VideoCapture, FFmpeg backend.
#include "video/video_source.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace ps::video {

void quiet_ffmpeg_logs() {
    ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);  // AV_LOG_QUIET
}

struct VideoSource::Impl {
    cv::VideoCapture capture;
    cv::Mat first;  // read by open() to check the file decodes; handed out by the first next()
    bool first_pending = true;
};

VideoSource::VideoSource(std::unique_ptr<Impl> impl, std::string label, VideoProperties properties)
    : impl_(std::move(impl)), label_(std::move(label)), properties_(properties) {}
VideoSource::~VideoSource() = default;

Result<std::unique_ptr<VideoSource>> VideoSource::open(const std::string& path) {
    std::error_code ec;
    // A folder of frames is a video to `track`, not here: say so rather than "no such file".
    if (std::filesystem::is_directory(path, ec)) {
        return make_error(ErrorKind::InvalidArgument, path + ": a folder, not a video file");
    }
    if (!std::filesystem::is_regular_file(path, ec)) {
        return make_error(ErrorKind::Io, path + ": no such file");
    }
    quiet_ffmpeg_logs();
    auto impl = std::make_unique<Impl>();
    // FFmpeg only: the other backends (GStreamer, image sequences) read a path as a pipeline
    // description or a printf pattern, which a file name must never be.
    try {
        impl->capture.open(path, cv::CAP_FFMPEG);
    } catch (const cv::Exception& e) {
        return make_error(ErrorKind::Format, path + ": cannot open as a video");
    }
    if (!impl->capture.isOpened()) {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": cannot open as a video (not a format FFmpeg reads)");
    }
    cv::Mat bgr;
    if (!impl->capture.read(bgr) || bgr.empty()) {
        return make_error(ErrorKind::InvalidArgument, path + ": a video with no readable frame");
    }
    if (bgr.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": frames are not 8-bit colour after decoding");
    }
    cv::cvtColor(bgr, impl->first, cv::COLOR_BGR2RGB);
    VideoProperties properties;
    properties.width = bgr.cols;
    properties.height = bgr.rows;
    properties.fps = impl->capture.get(cv::CAP_PROP_FPS);
    if (!(properties.fps > 0 && properties.fps < 1000)) properties.fps = 0;
    const double frames = impl->capture.get(cv::CAP_PROP_FRAME_COUNT);
    properties.frames = frames > 0 ? static_cast<long long>(frames) : 0;
    return std::unique_ptr<VideoSource>(new VideoSource(
        std::move(impl), std::filesystem::path(path).filename().string(), properties));
}

Result<std::optional<cv::Mat>> VideoSource::next() {
    if (impl_->first_pending) {
        impl_->first_pending = false;
        ++position_;
        return std::optional<cv::Mat>(std::move(impl_->first));
    }
    cv::Mat bgr;
    if (!impl_->capture.read(bgr) || bgr.empty()) return std::optional<cv::Mat>();
    if (bgr.cols != properties_.width || bgr.rows != properties_.height || bgr.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument,
                          label_ + ": frame " + std::to_string(position_) + " is " +
                              std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                              ", the first was " + std::to_string(properties_.width) + "x" +
                              std::to_string(properties_.height));
    }
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    ++position_;
    return std::optional<cv::Mat>(std::move(rgb));
}

bool VideoSource::skip() {
    if (impl_->first_pending) {
        impl_->first_pending = false;
        impl_->first.release();
        ++position_;
        return true;
    }
    if (!impl_->capture.grab()) return false;
    ++position_;
    return true;
}

Result<long long> video_frame_count(const std::string& path) {
    auto source = VideoSource::open(path);
    if (!source) return source.error();
    if ((*source)->properties().frames > 0) return (*source)->properties().frames;
    while ((*source)->skip()) {
    }
    return (*source)->position();
}

}  // namespace ps::video
