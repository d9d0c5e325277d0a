// A video file read by index through OpenCV's FFmpeg capture. Tracking reads frames in order
// (one decode each), jumps when a prompt lands elsewhere (a seek, checked, else a reopen and a
// skip), and steps back when propagating in reverse (a few recent frames are kept).
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <deque>
#include <filesystem>
#include <system_error>

#include "video/frame_reader.h"
#include "video/video_source.h"

namespace ps::video {
namespace {

constexpr size_t kRecentFrames = 4;  // 24 MB at 1080p
// A jump forward this short is cheaper decoded through than sought (a seek decodes from the
// previous keyframe anyway).
constexpr int64_t kSkipRatherThanSeek = 16;

bool open_capture(cv::VideoCapture& capture, const std::string& path) {
    // FFmpeg only: the other backends read a path as a pipeline description or a pattern.
    try {
        return capture.open(path, cv::CAP_FFMPEG) && capture.isOpened();
    } catch (const cv::Exception&) {
        return false;
    }
}

// Frames decodable, by a skip pass (grab decodes without the colour conversion).
int64_t count_by_skipping(const std::string& path) {
    cv::VideoCapture capture;
    if (!open_capture(capture, path)) return 0;
    int64_t n = 0;
    while (capture.grab()) ++n;
    return n;
}

// Whether the container's count holds: its last frame reads and nothing follows it. Some
// containers (and streams cut short) state a count that is off.
bool count_holds(const std::string& path, int64_t stated) {
    if (stated <= 0) return false;
    cv::VideoCapture capture;
    if (!open_capture(capture, path)) return false;
    if (stated > 1 && !capture.set(cv::CAP_PROP_POS_FRAMES, static_cast<double>(stated - 1)))
        return false;
    return capture.grab() && !capture.grab();
}

class VideoFileFrames : public FrameReader {
  public:
    VideoFileFrames(std::string path, std::string label)
        : path_(std::move(path)), label_(std::move(label)) {}

    Result<cv::Mat> read(int64_t index) override {
        for (const auto& [i, rgb] : recent_)
            if (i == index) return rgb.clone();
        if (index < next_ || index - next_ > kSkipRatherThanSeek) {
            if (auto moved = move_to(index); !moved) return moved.error();
        }
        while (next_ < index) {
            if (!capture_.grab()) return ended(next_);
            ++next_;
        }
        cv::Mat bgr;
        if (!capture_.read(bgr) || bgr.empty()) return ended(index);
        ++next_;
        cv::Mat rgb;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        recent_.emplace_back(index, rgb);
        if (recent_.size() > kRecentFrames) recent_.pop_front();
        return rgb.clone();
    }

    Status reopen() {
        capture_.release();
        if (!open_capture(capture_, path_))
            return make_error(ErrorKind::Io, path_ + ": cannot open as a video any more");
        next_ = 0;
        return Ok{};
    }

  private:
    // A seek, accepted only where the capture says it landed on `index`; else from the start.
    Status move_to(int64_t index) {
        if (capture_.isOpened() &&
            capture_.set(cv::CAP_PROP_POS_FRAMES, static_cast<double>(index)) &&
            static_cast<int64_t>(capture_.get(cv::CAP_PROP_POS_FRAMES)) == index) {
            next_ = index;
            return Ok{};
        }
        return reopen();  // the caller skips forward to `index`
    }

    Error ended(int64_t index) const {
        return make_error(ErrorKind::Format,
                          label_ + ": frame " + std::to_string(index) + " cannot be decoded");
    }

    std::string path_, label_;
    cv::VideoCapture capture_;
    int64_t next_ = 0;  // the index the next read returns
    std::deque<std::pair<int64_t, cv::Mat>> recent_;
};

}  // namespace

Result<OpenedFrames> open_video_file_frames(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return make_error(ErrorKind::Io, path + ": no such file");
    quiet_ffmpeg_logs();
    const std::string label = std::filesystem::path(path).filename().string();
    cv::VideoCapture probe;
    if (!open_capture(probe, path)) {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": cannot open as a video (not a format FFmpeg reads)");
    }
    cv::Mat first;
    if (!probe.read(first) || first.empty())
        return make_error(ErrorKind::InvalidArgument, path + ": a video with no readable frame");
    if (first.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": frames are not 8-bit colour after decoding");
    }
    OpenedFrames out;
    out.info.width = first.cols;
    out.info.height = first.rows;
    out.info.label = label;
    const double fps = probe.get(cv::CAP_PROP_FPS);
    out.info.fps = fps > 0 && fps < 1000 ? fps : 0;
    const auto stated = static_cast<int64_t>(probe.get(cv::CAP_PROP_FRAME_COUNT));
    probe.release();
    out.info.frames = count_holds(path, stated) ? stated : count_by_skipping(path);
    if (out.info.frames <= 0)
        return make_error(ErrorKind::InvalidArgument, path + ": a video with no readable frame");
    auto reader = std::make_unique<VideoFileFrames>(path, label);
    if (auto opened = reader->reopen(); !opened) return opened.error();
    out.reader = std::move(reader);
    return out;
}

}  // namespace ps::video
