// PreviewWriter over cv::VideoWriter, FFmpeg backend.
#include "video/video_preview.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "video/video_source.h"

namespace ps::video {

namespace fs = std::filesystem;

struct PreviewWriter::Impl {
    cv::VideoWriter writer;
    std::string path, partial;
    cv::Size size;
    bool committed = false;
};

namespace {

// A codec that Debian's FFmpeg encodes with no extra package, per container.
int fourcc_for(const std::string& extension) {
    if (extension == ".avi") return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
    return cv::VideoWriter::fourcc('m', 'p', '4', 'v');
}

}  // namespace

PreviewWriter::PreviewWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PreviewWriter::~PreviewWriter() {
    if (impl_->committed) return;
    impl_->writer.release();
    std::error_code ec;
    fs::remove(impl_->partial, ec);
}

Result<std::unique_ptr<PreviewWriter>> PreviewWriter::open(const std::string& path, double fps,
                                                           int width, int height) {
    const fs::path target(path);
    std::string extension = target.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (extension != ".mp4" && extension != ".avi" && extension != ".mkv") {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": a preview video must end in .mp4, .avi or .mkv");
    }
    std::error_code ec;
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (!fs::is_directory(folder, ec)) {
        return make_error(ErrorKind::Io, path + ": the folder does not exist");
    }
    quiet_ffmpeg_logs();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    // The extension stays last: FFmpeg picks the container from it.
    impl->partial = (folder / ("." + target.stem().string() + ".partial" + extension)).string();
    impl->size = cv::Size(width, height);
    try {
        impl->writer.open(impl->partial, cv::CAP_FFMPEG, fourcc_for(extension),
                          fps > 0 ? fps : 25.0, impl->size, true);
    } catch (const cv::Exception&) {
    }
    if (!impl->writer.isOpened()) {
        fs::remove(impl->partial, ec);
        return make_error(ErrorKind::Io, path + ": cannot write a video here (FFmpeg refused " +
                                             extension + " at " + std::to_string(width) + "x" +
                                             std::to_string(height) + ")");
    }
    return std::unique_ptr<PreviewWriter>(new PreviewWriter(std::move(impl)));
}

void PreviewWriter::add(const cv::Mat& rgb) {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    impl_->writer.write(bgr);
}

Status PreviewWriter::commit() {
    impl_->writer.release();
    std::error_code ec;
    fs::rename(impl_->partial, impl_->path, ec);
    if (ec) {
        return make_error(
            ErrorKind::Io,
            impl_->path + ": cannot move the finished preview in place (" + ec.message() + ")");
    }
    impl_->committed = true;
    return Ok{};
}

}  // namespace ps::video
