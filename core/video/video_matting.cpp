// The streaming loop of remove-bg --video: decode, batch, matte, smooth, pipeline, write.
#include "video/video_matting.h"

#include <QImage>

#include <algorithm>
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
#include "io/temp_name.h"
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

// The index of the frame that `name` (frame_000042.png) names, or -1.
long long frame_index_of(const std::string& name) {
    long long index = -1;
    if (std::sscanf(name.c_str(), "frame_%lld", &index) != 1 || index < 0 ||
        frame_file_name(index) != name)
        return -1;
    return index;
}

// A killed run leaves the temporary file of the frame it was writing. A shard removes only
// those of its own frames: other shards write theirs into the same folder meanwhile, from other
// nodes whose pids mean nothing here.
void remove_stale_frames(const VideoMattingOptions& options) {
    if (options.whole_video()) {
        io::remove_stale_temp_files(options.output_dir);
        return;
    }
    std::error_code ec;
    std::vector<fs::path> stale;
    for (const auto& entry : fs::directory_iterator(options.output_dir, ec)) {
        const auto temp = io::parse_temp_name(entry.path().filename().string());
        if (!temp) continue;
        const long long index = frame_index_of(temp->target_name);
        if (index >= options.first_frame && (options.end_frame < 0 || index < options.end_frame))
            stale.push_back(entry.path());
    }
    for (const fs::path& path : stale) fs::remove(path, ec);
}

// The folder may be new, this run's own (resume) or, with overwrite, anything; never another
// run's frames mixed with this one's.
Status folder_conflict(const VideoMattingOptions& options, const VideoRunManifest& wanted) {
    if (options.overwrite) return Ok{};
    auto existing = read_manifest(options.output_dir);
    if (!existing) return existing.error();
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
    return Ok{};
}

Status prepare_folder(const VideoMattingOptions& options, const VideoRunManifest& wanted) {
    if (auto made = io::make_directories(options.output_dir); !made) return made;
    remove_stale_frames(options);
    if (auto ok = folder_conflict(options, wanted); !ok) return ok;
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

cv::Mat composite(const cv::Mat& image) {
    return image.channels() == 4 ? image::over_checkerboard(image) : image;
}

// What of `refine` a written matte does not hold: the file is the matte after every matte step
// (grow, feather, ...), which must not run twice, but the colour decontamination the run
// composited with is not in it and is made again from that matte.
image::RefineOptions colour_steps(const image::RefineOptions& refine) {
    image::RefineOptions colours;
    colours.decontaminate = refine.decontaminate;
    colours.decontaminate_large_radius_px = refine.decontaminate_large_radius_px;
    colours.decontaminate_small_radius_px = refine.decontaminate_small_radius_px;
    return colours;
}

// The preview's picture of a frame written earlier (its file `path`), as the run's own preview
// shows a frame it makes: a cut-out as written (RGBA over the checkerboard, or already over the
// background), or a matte composited with the decoded frame `rgb` over `background`. `refine`
// is the run's (only its colour step applies). `remedy` ends the error.
Result<cv::Mat> preview_of_written(const std::string& path, const cv::Mat& rgb, FrameOutput output,
                                   const image::RefineOptions& refine,
                                   const image::BackgroundOptions& background,
                                   const std::string& remedy) {
    const cv::Mat written = read_written_frame(path, output);
    if (written.empty() || written.cols != rgb.cols || written.rows != rgb.rows)
        return make_error(ErrorKind::Format, path + ": missing or unreadable; " + remedy);
    if (output == FrameOutput::Cutout) return composite(written);
    auto cutout = image::remove_background(rgb, written, colour_steps(refine), background);
    if (!cutout) return cutout.error();
    return composite(cutout->image);
}

class VideoMatting {
  public:
    VideoMatting(engine::Engine& engine, const VideoMattingOptions& options)
        : engine_(engine), options_(options) {}

    Result<VideoMattingReport> run(VideoSource& source, PreviewWriter* preview,
                                   const VideoProgress& progress) {
        const auto start = std::chrono::steady_clock::now();
        const long long first = options_.first_frame, end = options_.end_frame;
        const long long container = source.properties().frames;
        const long long total =
            end >= 0 ? end - first : (container > 0 ? std::max(0LL, container - first) : 0);
        preview_ = preview;
        if (auto ok = warm_up(source); !ok) return ok.error();
        std::vector<Frame> pending;  // frames to matte, in order, at most options.batch
        while (end < 0 || source.position() < end) {
            const long long index = source.position();
            const std::string path = frame_path(options_, index);
            const bool kept =
                !options_.overwrite &&
                (options_.finished ? options_.finished(index, path) : fs::exists(path));
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
            if (progress && pending.empty()) progress(source.position() - first, total);
        }
        if (auto ok = flush(pending); !ok) return ok.error();
        if (progress) progress(std::max(0LL, source.position() - first), total);
        report_.frames = std::max(0LL, source.position() - first);
        report_.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return report_;
    }

  private:
    // The frames before the share are skipped, but with smoothing the last kSmoothingHistory of
    // them are decoded into the history: the share's first frames smooth over their raw mattes
    // (made when first needed), exactly as a one-process run's do. The smoothing is not
    // recursive (temporal_smoothing.h), so these few frames are its whole memory.
    Status warm_up(VideoSource& source) {
        const long long first = options_.first_frame;
        const long long decoded_from =
            options_.smoothing > 0 ? std::max(0LL, first - image::kSmoothingHistory) : first;
        while (source.position() < decoded_from)
            if (!source.skip()) return Ok{};  // the video ends before the share starts
        while (source.position() < first) {
            const long long index = source.position();
            auto next = source.next();
            if (!next) return next.error();
            if (!next->has_value()) return Ok{};
            remember(Frame{index, std::move(**next), cv::Mat(), true});
        }
        return Ok{};
    }

    // Raw mattes for frames that lack one, options.batch frames per forward pass (padded to
    // it): the passes of a one-process run have that shape too, so a frame matted again for a
    // resume or a shard's warm-up gets the same bytes.
    Status matte(const std::vector<Frame*>& frames) {
        const size_t step = static_cast<size_t>(options_.batch);
        for (size_t begin = 0; begin < frames.size(); begin += step) {
            const size_t stop = std::min(frames.size(), begin + step);
            std::vector<cv::Mat> rgbs;
            for (size_t i = begin; i < stop; ++i) rgbs.push_back(frames[i]->rgb);
            engine::MatteBatchOptions batch;
            batch.pad_to = options_.batch > 1 ? options_.batch : 0;
            auto future = engine_.matte_batch(std::move(rgbs), options_.model_id, batch);
            future.waitForFinished();
            auto mattes = future.result();
            if (!mattes) {
                return make_error(mattes.error().kind, options_.input + ": frame " +
                                                           std::to_string(frames[begin]->index) +
                                                           ": " + mattes.error().message);
            }
            for (size_t i = begin; i < stop; ++i)
                frames[i]->raw = std::move((*mattes)[i - begin].matte);
        }
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
        if (options_.frame_done)
            if (auto ok = options_.frame_done(frame.index, path, true); !ok) return ok;
        if (preview_) preview_->add(composite(cutout->image));
        remember(std::move(frame));
        return Ok{};
    }

    Status keep(Frame frame) {
        ++report_.resumed;
        if (options_.frame_done)
            if (auto ok =
                    options_.frame_done(frame.index, frame_path(options_, frame.index), false);
                !ok)
                return ok;
        if (preview_) {
            auto shown = preview_of_written(frame_path(options_, frame.index), frame.rgb,
                                            options_.output, options_.refine, options_.background,
                                            "delete it to redo the frame, or pass --overwrite");
            if (!shown) return shown.error();
            preview_->add(*shown);
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

    engine::Engine& engine_;
    const VideoMattingOptions& options_;
    PreviewWriter* preview_ = nullptr;
    std::deque<Frame> history_;
    VideoMattingReport report_;
};

}  // namespace

Status check_video_folder(const VideoMattingOptions& options) {
    auto source = VideoSource::open(options.input);
    if (!source) return source.error();
    return folder_conflict(options, manifest_for(options, (*source)->properties()));
}

Result<VideoMattingReport> matte_video(engine::Engine& engine, const VideoMattingOptions& options,
                                       const VideoProgress& progress) {
    if (options.batch < 1) {
        return make_error(ErrorKind::InvalidArgument, "video: the batch size must be at least 1");
    }
    if (!options.preview_path.empty() && !options.whole_video()) {
        return make_error(ErrorKind::InvalidArgument,
                          options.preview_path + ": a preview needs every frame, not one share");
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
    // A share's completion is its shard summary's; the manifest speaks for the whole video.
    if (!options.whole_video()) return report;
    wanted.frames_done = report->frames;
    wanted.complete = true;
    if (auto ok = write_manifest(options.output_dir, wanted); !ok) return ok.error();
    return report;
}

Status write_preview_of_folder(const std::string& folder, const std::string& preview_path,
                               const image::RefineOptions& refine,
                               const image::BackgroundOptions& background) {
    auto read = read_manifest(folder);
    if (!read) return read.error();
    if (!read->found)
        return make_error(ErrorKind::InvalidArgument,
                          folder + ": no " + kManifestName + "; not a remove-bg --video folder");
    const VideoRunManifest& made = read->manifest;
    std::error_code ec;
    if (static_cast<long long>(fs::file_size(made.input, ec)) != made.input_bytes)
        return make_error(ErrorKind::Mismatch,
                          made.input + ": not the video the frames of " + folder + " were made of");
    auto source = VideoSource::open(made.input);
    if (!source) return source.error();
    const VideoProperties& video = (*source)->properties();
    if (video.width != made.width || video.height != made.height)
        return make_error(ErrorKind::Mismatch,
                          made.input + ": not the video the frames of " + folder + " were made of");
    auto preview = PreviewWriter::open(preview_path, video.fps, video.width, video.height);
    if (!preview) return preview.error();
    const FrameOutput output = made.outputs == "matte" ? FrameOutput::Matte : FrameOutput::Cutout;
    for (;;) {
        const long long index = (*source)->position();
        auto next = (*source)->next();
        if (!next) return next.error();
        if (!next->has_value()) break;
        auto shown = preview_of_written((fs::path(folder) / frame_file_name(index)).string(),
                                        **next, output, refine, background, "run its shard again");
        if (!shown) return shown.error();
        (*preview)->add(*shown);
    }
    return (*preview)->commit();
}

}  // namespace ps::video
