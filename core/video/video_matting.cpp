// The streaming loop of remove-bg --video: decode, batch, matte, smooth, pipeline, write.
#include "video/video_matting.h"

#include <QImage>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include "engine/engine.h"
#include "image/temporal_smoothing.h"
#include "io/atomic_file.h"
#include "io/image_writer.h"
#include "io/staged_folder.h"
#include "video/video_preview.h"
#include "video/video_run_manifest.h"
#include "video/video_source.h"

namespace ps::video {

namespace fs = std::filesystem;

std::string frame_file_name(long long index) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%06lld.png", index);
    return name;
}

namespace {

// A decoded frame waiting for its matte; `raw` stays empty until the model ran.
struct Frame {
    long long index = 0;
    cv::Mat rgb;
    cv::Mat raw;
    bool kept = false;  // written by an earlier run: only its raw matte (smoothing) or its
                        // composite (preview) may still be needed
};

std::string frame_path(const VideoMattingOptions& options, long long index) {
    return (fs::path(options.output_dir) / frame_file_name(index)).string();
}

VideoRunManifest manifest_for(const VideoMattingOptions& options, const VideoProperties& video) {
    std::error_code ec;
    VideoRunManifest m;
    m.input = fs::absolute(options.input, ec).lexically_normal().string();
    m.input_bytes = static_cast<long long>(fs::file_size(options.input, ec));
    m.width = video.width;
    m.height = video.height;
    m.model = options.model_identity;
    m.outputs = options.output == FrameOutput::Cutout ? "cutout" : "matte";
    m.options = options.pipeline_text + ";smoothing=" + std::to_string(options.smoothing);
    return m;
}

// The folder may be new, this run's own (resume) or, with overwrite, anything; never another
// run's frames mixed with this one's.
Status prepare_folder(const VideoMattingOptions& options, const VideoRunManifest& wanted) {
    if (auto made = io::make_directories(options.output_dir); !made) return made;
    // A killed run leaves the temporary file of the frame it was writing.
    io::remove_stale_temp_files(options.output_dir);
    auto existing = read_manifest(options.output_dir);
    if (!existing) return existing.error();
    if (!options.overwrite) {
        if (existing->found) {
            const std::string differs = existing->manifest.differences(wanted);
            if (!differs.empty()) {
                return make_error(ErrorKind::InvalidArgument,
                                  options.output_dir + ": holds frames of another run (different " +
                                      differs + "); pass --overwrite or choose another folder");
            }
        } else if (fs::exists(frame_path(options, 0))) {
            return make_error(ErrorKind::InvalidArgument,
                              options.output_dir +
                                  ": holds frames not made by remove-bg --video "
                                  "(no " +
                                  kManifestName + "); pass --overwrite or choose another folder");
        }
    }
    return write_manifest(options.output_dir, wanted);
}

// An earlier run's frame file for the preview: the matte as CV_8UC1, a cut-out as RGB(A);
// empty when unreadable.
cv::Mat read_written_frame(const std::string& path, FrameOutput output) {
    QImage image(QString::fromStdString(path));
    if (image.isNull()) return {};
    int type = CV_8UC1;
    if (output == FrameOutput::Matte) {
        image = image.convertToFormat(QImage::Format_Grayscale8);
    } else if (image.hasAlphaChannel()) {
        image = image.convertToFormat(QImage::Format_RGBA8888);
        type = CV_8UC4;
    } else {
        image = image.convertToFormat(QImage::Format_RGB888);
        type = CV_8UC3;
    }
    const cv::Mat view(image.height(), image.width(), type, image.bits(),
                       static_cast<size_t>(image.bytesPerLine()));
    return view.clone();
}

class VideoMatting {
  public:
    VideoMatting(engine::Engine& engine, const VideoMattingOptions& options)
        : engine_(engine), options_(options) {}

    Result<VideoMattingReport> run(VideoSource& source, PreviewWriter* preview,
                                   const VideoProgress& progress) {
        const auto start = std::chrono::steady_clock::now();
        const long long total = source.properties().frames;
        preview_ = preview;
        std::vector<Frame> pending;  // frames to matte, in order, at most options.batch
        for (;;) {
            const long long index = source.position();
            const bool kept = !options_.overwrite && fs::exists(frame_path(options_, index));
            // A kept frame is decoded only where something still needs its pixels.
            const bool needs_pixels = !kept || preview_ || options_.smoothing > 0;
            std::optional<cv::Mat> rgb;
            if (needs_pixels) {
                auto next = source.next();
                if (!next) return next.error();
                if (!next->has_value()) break;
                rgb = std::move(**next);
            } else if (!source.skip()) {
                break;
            }
            Frame frame{index, rgb ? std::move(*rgb) : cv::Mat(), cv::Mat(), kept};
            if (kept) {
                // Frames already waiting go first, in order.
                if (auto ok = flush(pending); !ok) return ok.error();
                if (auto ok = keep(std::move(frame)); !ok) return ok.error();
            } else {
                pending.push_back(std::move(frame));
                if (static_cast<int>(pending.size()) >= options_.batch)
                    if (auto ok = flush(pending); !ok) return ok.error();
            }
            if (progress && pending.empty()) progress(source.position(), total);
        }
        if (auto ok = flush(pending); !ok) return ok.error();
        if (progress) progress(source.position(), total);
        report_.frames = source.position();
        report_.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return report_;
    }

  private:
    // Raw mattes for frames that lack one, in one forward pass padded to the batch size.
    Status matte(std::vector<Frame*> frames) {
        std::vector<cv::Mat> rgbs;
        for (Frame* f : frames) rgbs.push_back(f->rgb);
        engine::MatteBatchOptions batch;
        batch.pad_to = options_.batch > 1 ? options_.batch : 0;
        auto future = engine_.matte_batch(std::move(rgbs), options_.model_id, batch);
        future.waitForFinished();
        auto mattes = future.result();
        if (!mattes) {
            return make_error(mattes.error().kind, options_.input + ": frame " +
                                                       std::to_string(frames[0]->index) + ": " +
                                                       mattes.error().message);
        }
        for (size_t i = 0; i < frames.size(); ++i) frames[i]->raw = std::move((*mattes)[i].matte);
        return Ok{};
    }

    Status flush(std::vector<Frame>& pending) {
        if (pending.empty()) return Ok{};
        std::vector<Frame*> need;
        // A resumed run's first frames smooth over kept frames whose raw mattes it never made.
        if (options_.smoothing > 0)
            for (Frame& f : history_)
                if (f.raw.empty()) need.push_back(&f);
        for (Frame& f : pending) need.push_back(&f);
        if (auto ok = matte(need); !ok) return ok;
        for (Frame& f : pending)
            if (auto ok = finish(std::move(f)); !ok) return ok;
        pending.clear();
        return Ok{};
    }

    Status finish(Frame frame) {
        cv::Mat matte = frame.raw;
        if (options_.smoothing > 0) {
            std::vector<cv::Mat> previous;
            for (auto it = history_.rbegin(); it != history_.rend(); ++it)
                previous.push_back(it->raw);
            matte = image::smooth_matte(frame.raw, previous, options_.smoothing);
        }
        auto cutout =
            image::remove_background(frame.rgb, matte, options_.refine, options_.background);
        if (!cutout) return cutout.error();
        const std::string path = frame_path(options_, frame.index);
        Status written = options_.output == FrameOutput::Matte ? io::write_png(path, cutout->matte)
                         : cutout->image.channels() == 4 ? io::write_rgba_png(path, cutout->image)
                                                         : io::write_png(path, cutout->image);
        if (!written) return written;
        ++report_.written;
        if (preview_) preview_->add(composite(cutout->image));
        remember(std::move(frame));
        return Ok{};
    }

    Status keep(Frame frame) {
        ++report_.resumed;
        if (preview_) {
            const cv::Mat written =
                read_written_frame(frame_path(options_, frame.index), options_.output);
            if (written.empty() || written.cols != frame.rgb.cols ||
                written.rows != frame.rgb.rows) {
                return make_error(ErrorKind::Format, frame_path(options_, frame.index) +
                                                         ": unreadable; delete it to redo the "
                                                         "frame, or pass --overwrite");
            }
            if (options_.output == FrameOutput::Matte) {
                auto cutout = image::remove_background(frame.rgb, written, {}, {});
                if (!cutout) return cutout.error();
                preview_->add(composite(cutout->image));
            } else {
                preview_->add(composite(written));
            }
        }
        remember(std::move(frame));
        return Ok{};
    }

    // The last frames, for smoothing: their raw mattes (made lazily for kept frames).
    void remember(Frame frame) {
        if (options_.smoothing <= 0) return;
        history_.push_back(std::move(frame));
        while (history_.size() > static_cast<size_t>(image::kSmoothingHistory))
            history_.pop_front();
    }

    static cv::Mat composite(const cv::Mat& image) {
        return image.channels() == 4 ? image::over_checkerboard(image) : image;
    }

    engine::Engine& engine_;
    const VideoMattingOptions& options_;
    PreviewWriter* preview_ = nullptr;
    std::deque<Frame> history_;
    VideoMattingReport report_;
};

}  // namespace

Result<VideoMattingReport> matte_video(engine::Engine& engine, const VideoMattingOptions& options,
                                       const VideoProgress& progress) {
    if (options.batch < 1) {
        return make_error(ErrorKind::InvalidArgument, "video: the batch size must be at least 1");
    }
    auto source = VideoSource::open(options.input);
    if (!source) return source.error();
    const VideoProperties& video = (*source)->properties();
    VideoRunManifest wanted = manifest_for(options, video);
    std::unique_ptr<PreviewWriter> preview;
    if (!options.preview_path.empty()) {
        auto opened =
            PreviewWriter::open(options.preview_path, video.fps, video.width, video.height);
        if (!opened) return opened.error();
        preview = std::move(*opened);
    }
    if (auto ok = prepare_folder(options, wanted); !ok) return ok.error();
    VideoMatting run(engine, options);
    auto report = run.run(**source, preview.get(), progress);
    if (!report) return report;
    if (preview)
        if (auto ok = preview->commit(); !ok) return ok.error();
    wanted.frames_done = report->frames;
    wanted.complete = true;
    if (auto ok = write_manifest(options.output_dir, wanted); !ok) return ok.error();
    return report;
}

}  // namespace ps::video
