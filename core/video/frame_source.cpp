// FrameSource: picks the reader for a path and checks every frame it hands out.
#include "video/frame_source.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "video/frame_reader.h"

namespace ps::video {

FrameSource::FrameSource(std::unique_ptr<FrameReader> reader, FrameSourceInfo info)
    : reader_(std::move(reader)), info_(std::move(info)) {}
FrameSource::~FrameSource() = default;

Result<std::unique_ptr<FrameSource>> FrameSource::open(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status))
        return make_error(ErrorKind::Io, path + ": no such file or folder");
    Result<OpenedFrames> opened = std::filesystem::is_directory(status)
                                      ? open_frame_folder(path)
                                      : open_video_file_frames(path);
    if (!opened) return opened.error();
    return std::unique_ptr<FrameSource>(
        new FrameSource(std::move(opened->reader), std::move(opened->info)));
}

std::unique_ptr<FrameSource> FrameSource::synthetic(int64_t frames, int width, int height) {
    OpenedFrames made = synthetic_frames(frames, width, height);
    return std::unique_ptr<FrameSource>(
        new FrameSource(std::move(made.reader), std::move(made.info)));
}

Result<cv::Mat> FrameSource::frame(int64_t index) {
    if (index < 0 || index >= info_.frames) {
        return make_error(ErrorKind::InvalidArgument,
                          info_.label + ": frame " + std::to_string(index) + " outside the clip (" +
                              std::to_string(info_.frames) + " frames)");
    }
    auto rgb = reader_->read(index);
    if (!rgb) return rgb.error();
    if (rgb->type() != CV_8UC3 || rgb->cols != info_.width || rgb->rows != info_.height) {
        return make_error(ErrorKind::InvalidArgument,
                          info_.label + ": frame " + std::to_string(index) + " is " +
                              std::to_string(rgb->cols) + "x" + std::to_string(rgb->rows) +
                              ", the first is " + std::to_string(info_.width) + "x" +
                              std::to_string(info_.height));
    }
    return rgb;
}

std::vector<std::string> FrameSource::frame_names() const {
    std::vector<std::string> names = reader_->names();
    if (!names.empty()) return names;
    names.reserve(static_cast<size_t>(info_.frames));
    char name[32];
    for (int64_t i = 0; i < info_.frames; ++i) {
        std::snprintf(name, sizeof name, "%06lld.png", static_cast<long long>(i));
        names.emplace_back(name);
    }
    return names;
}

#ifndef PHOTOSYNTH_WITH_VIDEO
// Without OpenCV's videoio (the GPU machine's build) folders and synthetic clips still work.
Result<OpenedFrames> open_video_file_frames(const std::string& path) {
    return make_error(ErrorKind::Unsupported,
                      path +
                          ": video files need OpenCV's video I/O, not in this build; "
                          "use a folder of frames");
}
#endif

}  // namespace ps::video
