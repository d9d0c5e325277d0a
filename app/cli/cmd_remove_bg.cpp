// `photosynth-cli remove-bg`: images through the engine's matting model (U²-Net, ISNet) and
// core's background pipeline (matte -> refinement -> cut-out or new background), one image or a
// folder.
#include <QDir>
#include <QFileInfo>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "batch_runner.h"
#include "cli_args.h"
#include "commands.h"
#include "engine/engine.h"
#include "engine/matte_batcher.h"
#include "image/background.h"
#include "io/image_reader.h"
#include "io/image_writer.h"
#include "output_checks.h"
#include "remove_bg_pipeline.h"
#ifdef PHOTOSYNTH_WITH_VIDEO
#include "batch/shard_journal.h"
#include "video/video_matting.h"
#include "video/video_source.h"
#endif

namespace ps::cli {

const char kRemoveBgUsage[] =
    "usage: photosynth-cli remove-bg --model CKPT --image IMG --out OUT.png [--matte MATTE.png] "
    "| --input-dir DIR --output-dir DIR [--matte-dir DIR] [--jobs N] [--batch N] [--overwrite] "
    "[--shard I/N | --shards N] "
    "| --video IN --out DIR [--frames cutout|matte] [--preview OUT.mp4] [--smooth S] [--batch N] "
    "[--overwrite] [--shard I/N | --shards N]; "
    "both: [--feather PX] [--grow PX] [--decontaminate] "
    "[--background transparent|#RRGGBB|blurred | --background-image IMG] [--device cpu|cuda|auto] "
    "[--precision fp32|fp16|bf16]";

namespace {

// Whether two paths name one file or folder (symbolic links and "a/../a" included), whether or not
// it exists yet: outputs must never land on the input or on each other.
bool same_place(const std::string& a, const std::string& b) {
    const auto resolved = [](const std::string& path) {
        const QFileInfo info(QString::fromStdString(path));
        const QString canonical = info.canonicalFilePath();
        return canonical.isEmpty() ? QDir::cleanPath(info.absoluteFilePath()) : canonical;
    };
    return resolved(a) == resolved(b);
}

// The first pair of named paths that are one place, as the one-line refusal; empty if none.
std::string clashing_outputs(const std::vector<std::pair<std::string, std::string>>& named) {
    for (size_t i = 0; i < named.size(); ++i) {
        for (size_t j = i + 1; j < named.size(); ++j) {
            if (!named[i].second.empty() && !named[j].second.empty() &&
                same_place(named[i].second, named[j].second))
                return named[i].first + " and " + named[j].first + " are both " + named[j].second +
                       ": the outputs would overwrite " + (i == 0 ? "the input" : "each other");
        }
    }
    return {};
}

template <typename T>
T wait(QFuture<T> future) {
    future.waitForFinished();
    return future.result();
}

Status write_outputs(const image::Cutout& cutout, const std::string& out,
                     const std::string& matte_path) {
    const Status written = cutout.image.channels() == 4 ? io::write_rgba_png(out, cutout.image)
                                                        : io::write_png(out, cutout.image);
    if (!written) return written;
    if (!matte_path.empty()) return io::write_png(matte_path, cutout.matte);
    return Ok{};
}

// One image already open in the engine: its matte at full resolution, then the pipeline.
Result<image::Cutout> cut_out(engine::Engine& engine, const engine::ImageInfo& image,
                              const std::string& model_id, const Pipeline& pipeline,
                              engine::MatteOptions options, engine::MatteResult* timings) {
    auto matte = wait(engine.matte(image.id, model_id, options));
    if (!matte) return matte.error();
    auto cutout = image::remove_background(engine.full_image(image.id), matte->matte,
                                           pipeline.refine, pipeline.background);
    if (timings) *timings = std::move(*matte);
    return cutout;
}

// Folder mode: one model in the engine, which runs it one image (or, with --batch N, one
// forward pass of N images) at a time on its device's thread; decoding, the pipeline and writing
// run in parallel on the batch workers.
int run_remove_bg_folder(const Args& args, const engine::EngineSettings& settings,
                         const Pipeline& pipeline, int batch_size) {
    BatchOptions batch;
    batch.command = "remove-bg";
    batch.overwrite = args.flags.count("overwrite") > 0;
    auto shard = read_shard_options(args);
    if (!shard) return fail(shard.message(), 2);
    batch.shard = *shard;
    if (args.has("jobs")) {
        auto jobs = parse_jobs(args.get("jobs"));
        if (!jobs) return fail(jobs.message(), 2);
        batch.jobs = *jobs;
    }
    // A batch fills only when N workers wait at once; twice that decode the next one meanwhile.
    if (batch_size > 1) batch.jobs = std::max(batch.jobs > 0 ? batch.jobs : 0, 2 * batch_size);
    // The folders before the model: a typo in one costs no load.
    if (!QFileInfo(QString::fromStdString(args.get("input-dir"))).isDir())
        return fail(args.get("input-dir") + ": no such folder");
    if (auto ok = check_output_folder("output-dir", args.get("output-dir")); !ok)
        return fail(ok.message());
    if (args.has("matte-dir"))
        if (auto ok = check_output_folder("matte-dir", args.get("matte-dir")); !ok)
            return fail(ok.message());
    if (const std::string clash = clashing_outputs({{"--input-dir", args.get("input-dir")},
                                                    {"--output-dir", args.get("output-dir")},
                                                    {"--matte-dir", args.get("matte-dir")}});
        !clash.empty())
        return fail(clash);
    engine::Engine engine(settings);
    auto model = wait(engine.load_model(args.get("model")));
    if (!model) return fail(model.message());
    if (auto ok = engine::require_family(*model, "matting"); !ok) return fail(ok.message());
    const QString matte_dir = QString::fromStdString(args.get("matte-dir"));
    if (!matte_dir.isEmpty() && !QDir().mkpath(matte_dir)) {
        return fail(args.get("matte-dir") + ": cannot create the folder");
    }
    const auto matte_file = [&matte_dir](const QString& out) {
        return matte_dir.isEmpty() ? std::string()
                                   : (matte_dir + "/" + QFileInfo(out).fileName()).toStdString();
    };
    batch.extra_outputs = [&](const QString& out) {
        return matte_dir.isEmpty() ? std::vector<QString>{}
                                   : std::vector<QString>{QString::fromStdString(matte_file(out))};
    };
    engine::MatteOptions options;
    options.priority = engine::Priority::Batch;
    options.cache = false;  // each image once
    std::unique_ptr<engine::MatteBatcher> batcher;
    if (batch_size > 1)
        batcher = std::make_unique<engine::MatteBatcher>(engine, model->id, batch_size);
    return run_batch(QString::fromStdString(args.get("input-dir")),
                     QString::fromStdString(args.get("output-dir")), batch,
                     [&](const QString& in, const QString& out) -> Status {
                         if (batcher) {
                             auto rgb = io::read_rgb_image(in.toStdString(), settings.image_read);
                             if (!rgb) return rgb.error();
                             auto matte = batcher->matte(*rgb);
                             if (!matte) return matte.error();
                             auto cutout = image::remove_background(
                                 *rgb, matte->matte, pipeline.refine, pipeline.background);
                             if (!cutout) return cutout.error();
                             return write_outputs(*cutout, out.toStdString(), matte_file(out));
                         }
                         auto image = wait(engine.open_image(in.toStdString()));
                         if (!image) return image.error();
                         auto cutout =
                             cut_out(engine, *image, model->id, pipeline, options, nullptr);
                         engine.close_image(image->id);
                         if (!cutout) return cutout.error();
                         return write_outputs(*cutout, out.toStdString(), matte_file(out));
                     });
}

// "--smooth" text: image::smooth_matte's strength.
Result<double> parse_smoothing(const std::string& text) {
    bool ok = false;
    const double value = QString::fromStdString(text).toDouble(&ok);
    if (!ok || value < 0 || value > 0.95) {
        return make_error(ErrorKind::InvalidArgument,
                          "--smooth '" + text + "': expected a number from 0 (off) to 0.95");
    }
    return value;
}

// Progress on stderr: a bar redrawn in place on a terminal, else a line per tenth. The rate counts
// only the frames this run makes, over the time spent making them: a resumed run passes its kept
// frames in a moment, and counting them made the rate several times what the model does.
class FrameProgress {
  public:
    using Clock = std::chrono::steady_clock;

    FrameProgress() : bar_(isatty(STDERR_FILENO) != 0), last_call_(Clock::now()) {}

    // `frame_done` (the shard journal's, or none) with this run's new frames counted first.
    std::function<Status(long long, const std::string&, bool)> counting(
        std::function<Status(long long, const std::string&, bool)> frame_done) {
        return [this, frame_done = std::move(frame_done)](long long index, const std::string& path,
                                                          bool written) -> Status {
            if (written) ++made_;
            return frame_done ? frame_done(index, path, written) : Status(Ok{});
        };
    }

    // done: frames finished (made or kept); matte_video calls it with no frame waiting in a
    // batch, so done - made are the kept ones.
    void operator()(long long done, long long total) {
        announced_ = total;
        // The time since the last call was spent making frames if any was made in it; else on
        // kept frames (skipped, or decoded for the preview or the smoothing).
        const Clock::time_point now = Clock::now();
        if (made_ > made_at_last_call_)
            making_seconds_ += std::chrono::duration<double>(now - last_call_).count();
        last_call_ = now;
        made_at_last_call_ = made_;
        const std::string line = describe(done, total);
        if (bar_) {
            std::fprintf(stderr, "\rremove-bg: %s   ", line.c_str());
            return;
        }
        const long long tenth = total > 0 ? done * 10 / total : done / 100;
        if (tenth == last_tenth_) return;
        last_tenth_ = tenth;
        std::fprintf(stderr, "remove-bg: %s\n", line.c_str());
    }
    ~FrameProgress() {
        if (bar_) std::fprintf(stderr, "\n");
    }
    // The container's frame count as last reported (0: none); an estimate FFmpeg reads from
    // the header, which a truncated file still carries.
    long long announced() const { return announced_; }
    // Frames per second made by this run (0 while none is made).
    double rate() const { return making_seconds_ > 0 ? made_ / making_seconds_ : 0; }

  private:
    // "frame 14/20 (3.2 frames/s)", or for a resumed run "frame 14/20: 10 kept from an earlier
    // run, 4 new (3.2 frames/s)"; no rate before a frame is made.
    std::string describe(long long done, long long total) const {
        char rate_text[48];
        std::snprintf(rate_text, sizeof rate_text, " (%.1f frames/s)", rate());
        std::string line = "frame " + std::to_string(done);
        if (total > 0) line += "/" + std::to_string(total);
        const long long kept = done - made_;
        if (kept <= 0) return line + rate_text;
        line += ": " + std::to_string(kept) + " kept from an earlier run";
        if (made_ > 0) line += ", " + std::to_string(made_) + " new" + rate_text;
        return line;
    }

    bool bar_;
    Clock::time_point last_call_;
    long long made_ = 0, made_at_last_call_ = 0;
    double making_seconds_ = 0;
    long long last_tenth_ = -1;
    long long announced_ = 0;
};

#ifdef PHOTOSYNTH_WITH_VIDEO
// One shard of a video (--shard I/N, a Slurm array task): its contiguous share of the frames
// (batch::shard_range over the container's frame count; the last shard runs to the video's real
// end), a journal in <out>/.photosynth/shards/ whose lines vouch for finished frames by the
// video's and the frame file's size and hash, and a summary for `merge`.
class VideoShard {
  public:
    static constexpr const char* kCommand = "remove-bg --video";

    static Result<VideoShard> open(const batch::Shard& shard, video::VideoMattingOptions& options) {
        auto frames = video::video_frame_count(options.input);
        if (!frames) return frames.error();
        const batch::ItemRange range = batch::shard_range(*frames, shard);
        options.first_frame = range.first;
        options.end_frame = shard.index + 1 == shard.count ? -1 : range.end;
        // Nothing in the folder yet if it belongs to another run: the refusal comes first.
        if (auto ok = video::check_video_folder(options); !ok) return ok.error();
        auto digest = batch::digest_file(options.input);
        if (!digest) return digest.error();
        auto journal = batch::ShardJournal::open(options.output_dir, kCommand, shard,
                                                 static_cast<int>(range.size()));
        if (!journal) return journal.error();
        std::cerr << "remove-bg: shard " << batch::to_string(shard) << ": frames " << range.first
                  << " to " << (options.end_frame < 0 ? "the end" : std::to_string(range.end - 1))
                  << " of " << *frames << "\n";
        return VideoShard(std::move(*journal), *digest, range.first);
    }

    // Wires the journal into the run: it decides which frames are finished and records each.
    void attach(video::VideoMattingOptions& options) {
        options.finished = [this](long long index, const std::string&) {
            return journal_.still_finished(video::frame_file_name(index), video_digest_);
        };
        options.frame_done = [this](long long index, const std::string& path,
                                    bool written) -> Status {
            next_frame_ = index + 1;
            batch::JournalEntry entry;
            entry.input = video::frame_file_name(index);
            entry.outcome = written ? batch::EntryOutcome::Done : batch::EntryOutcome::Resumed;
            if (written) {
                entry.input_digest = video_digest_;
                auto digest = batch::digest_file(path);
                if (!digest) return digest.error();
                entry.outputs.emplace_back(journal_.relative_to_root(path), *digest);
            }
            return journal_.record(entry);
        };
    }

    // The run's end in the journal: the share's real size, or the frame that stopped it.
    Status finish(const Result<video::VideoMattingReport>& report) {
        if (report) {
            journal_.set_inputs(static_cast<int>(report->frames));
        } else {
            batch::JournalEntry failed;
            failed.input = video::frame_file_name(next_frame_);
            failed.outcome = batch::EntryOutcome::Failed;
            failed.reason = report.message();
            if (auto ok = journal_.record(failed); !ok) return ok;
        }
        return journal_.finish();
    }

  private:
    VideoShard(batch::ShardJournal journal, batch::FileDigest video_digest, long long first)
        : journal_(std::move(journal)), video_digest_(video_digest), next_frame_(first) {}

    batch::ShardJournal journal_;
    batch::FileDigest video_digest_;
    long long next_frame_;  // the frame after the last one finished: where a failure stopped
};
#endif

int run_remove_bg_video(const Args& args, const engine::EngineSettings& settings,
                        const Pipeline& pipeline, int batch) {
#ifdef PHOTOSYNTH_WITH_VIDEO
    video::VideoMattingOptions options;
    options.input = args.get("video");
    options.output_dir = args.get("out");
    options.preview_path = args.get("preview");
    options.overwrite = args.flags.count("overwrite") > 0;
    options.batch = batch;
    options.refine = pipeline.refine;
    options.background = pipeline.background;
    options.pipeline_text = pipeline_text(args);
    if (args.has("frames")) {
        const std::string frames = args.get("frames");
        if (frames != "cutout" && frames != "matte")
            return fail("--frames '" + frames + "': expected cutout or matte", 2);
        options.output = frames == "matte" ? video::FrameOutput::Matte : video::FrameOutput::Cutout;
    }
    if (args.has("smooth")) {
        auto smoothing = parse_smoothing(args.get("smooth"));
        if (!smoothing) return fail(smoothing.message(), 2);
        options.smoothing = *smoothing;
    }
    auto shard = read_shard_options(args);
    if (!shard) return fail(shard.message(), 2);
    if (*shard && (*shard)->count > 1 && !options.preview_path.empty())
        return fail("--preview needs every frame, and shard " + batch::to_string(**shard) +
                        " makes a share of them: drop it and write the preview once the shards "
                        "are done with `photosynth-cli merge --project " +
                        options.output_dir + " --preview " + options.preview_path + "`",
                    2);
    if (QFileInfo(QString::fromStdString(options.output_dir)).isFile())
        return fail(options.output_dir + ": a file; --out names a folder for a video's frames");
    std::error_code ec;
    options.model_identity = std::filesystem::path(args.get("model")).filename().string() + ";" +
                             std::to_string(std::filesystem::file_size(args.get("model"), ec));
    std::optional<VideoShard> video_shard;
    if (*shard) {
        auto opened = VideoShard::open(**shard, options);
        if (!opened) return fail(opened.message());
        video_shard.emplace(std::move(*opened));
        video_shard->attach(options);
    }
    engine::Engine engine(settings);
    auto model = wait(engine.load_model(args.get("model")));
    if (!model) return fail(model.message());
    if (auto ok = engine::require_family(*model, "matting"); !ok) return fail(ok.message());
    options.model_id = model->id;
    video::VideoMattingReport report;
    long long announced = 0;
    double rate = 0;
    {
        FrameProgress progress;
        options.frame_done = progress.counting(std::move(options.frame_done));
        auto done = video::matte_video(engine, options, std::ref(progress));
        if (video_shard)
            if (auto ok = video_shard->finish(done); !ok) return fail(ok.message());
        if (!done) return fail(done.message());
        report = *done;
        announced = progress.announced();
        rate = progress.rate();
    }
    // Every decodable frame is done, but fewer than the header promised: say so rather than let
    // a cut-off download pass for the whole video (the count is an estimate, so not an error).
    if (!video_shard && announced > report.frames)
        std::cerr << "photosynth-cli: warning: " << args.get("video") << ": its header announces "
                  << announced << " frames, " << report.frames
                  << " could be decoded (a truncated or damaged file?)\n";
    std::cout << "wrote " << report.written << " frame(s) to " << options.output_dir << ", kept "
              << report.resumed << " from an earlier run, " << report.frames << " in all ("
              << model->arch << " on " << model->device << ", " << rate << " frames/s)\n";
    if (!options.preview_path.empty()) std::cout << "wrote " << options.preview_path << "\n";
    return 0;
#else
    (void)settings, (void)pipeline, (void)batch;
    return fail(args.get("video") +
                ": this build has no video support (OpenCV's videoio was not found at build time)");
#endif
}

}  // namespace

int run_remove_bg(const std::vector<std::string>& argv) {
    auto args = parse_args(
        argv,
        with_shard_options({"model", "image", "out", "matte", "device", "precision", "input-dir",
                            "output-dir", "matte-dir", "jobs", "feather", "grow", "background",
                            "background-image", "video", "frames", "preview", "smooth", "batch"}),
        {"overwrite", "decontaminate"});
    if (!args) return fail(args.message() + " (" + kRemoveBgUsage + ")", 2);
    const bool folder_mode = args->has("input-dir");
    const bool video_mode = args->has("video");
    if (folder_mode && video_mode)
        return fail(
            "--input-dir and --video exclude each other (" + std::string(kRemoveBgUsage) + ")", 2);
    const std::vector<std::string> required =
        folder_mode  ? std::vector<std::string>{"model", "input-dir", "output-dir"}
        : video_mode ? std::vector<std::string>{"model", "video", "out"}
                     : std::vector<std::string>{"model", "image", "out"};
    for (const char* key : {"frames", "preview", "smooth"})
        if (args->has(key) && !video_mode)
            return fail("--" + std::string(key) + " applies to --video only", 2);
    // A folder splits by file, a video into runs of frames; one image does not split.
    for (const char* key : {"shard", "shards"})
        if (args->has(key) && !folder_mode && !video_mode)
            return fail("--" + std::string(key) + " applies to --input-dir or --video", 2);
    if (auto ok = require(*args, "remove-bg", required); !ok) {
        return fail(ok.message() + " (" + kRemoveBgUsage + ")", 2);
    }
    // Same defaults as `segment`: PHOTOSYNTH_DEVICE / PHOTOSYNTH_PRECISION, then the options.
    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    if (auto ok = read_device_options(*args, settings.device, settings.precision); !ok) {
        return fail(ok.message(), 2);
    }
    auto pipeline = read_pipeline(*args);
    if (!pipeline) return fail(pipeline.message() + " (" + kRemoveBgUsage + ")", 2);

    int batch = 1;
    if (args->has("batch")) {
        if (!folder_mode && !video_mode)
            return fail("--batch applies to --input-dir or --video", 2);
        auto n = read_whole_number(*args, "batch", 1, 64);
        if (!n) return fail(n.message(), 2);
        batch = *n;
    }
    if (video_mode) return run_remove_bg_video(*args, settings, *pipeline, batch);
    if (folder_mode) return run_remove_bg_folder(*args, settings, *pipeline, batch);

    if (auto ok = check_output_file("out", args->get("out")); !ok) return fail(ok.message());
    if (args->has("matte"))
        if (auto ok = check_output_file("matte", args->get("matte")); !ok)
            return fail(ok.message());
    if (const std::string clash = clashing_outputs({{"--image", args->get("image")},
                                                    {"--out", args->get("out")},
                                                    {"--matte", args->get("matte")}});
        !clash.empty())
        return fail(clash);
    engine::Engine engine(settings);
    // The image first: a typo in its path should not cost a model load.
    auto image = wait(engine.open_image(args->get("image")));
    if (!image) return fail(image.message());
    auto model = wait(engine.load_model(args->get("model")));
    if (!model) return fail(model.message());
    if (auto ok = engine::require_family(*model, "matting"); !ok) return fail(ok.message());
    engine::MatteResult timings;
    engine::MatteOptions options;
    options.cache = false;  // one image, one matte
    auto cutout = cut_out(engine, *image, model->id, *pipeline, options, &timings);
    if (!cutout) return fail(cutout.message());
    if (auto ok = write_outputs(*cutout, args->get("out"), args->get("matte")); !ok)
        return fail(ok.message());
    std::cout << "wrote " << args->get("out") << " (" << model->arch << " on " << model->device
              << ": preprocess " << timings.preprocess_ms << " ms, forward " << timings.forward_ms
              << " ms, postprocess " << timings.postprocess_ms << " ms)\n";
    return 0;
}

}  // namespace ps::cli
