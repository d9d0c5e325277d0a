// track_video: the prompts added to an engine tracking session, the passes propagated, every
// frame not yet stored written to the TrackStore as the device thread finishes it.
#include "video/track_run.h"

#include <opencv2/core.hpp>

#include <QElapsedTimer>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

#include "engine/embedding_cache.h"
#include "engine/engine.h"
#include "io/mapped_file.h"
#include "video/frame_source.h"
#include "video/frame_tracking.h"
#include "video/track_prompts.h"
#include "video/track_store.h"

namespace ps::video {
namespace {

// The frames the backward pass of "both" reads from the forward pass: object pointers of the
// max_obj_ptrs_in_encoder (16) frames before, memories of the num_maskmem - 1 (6) before, as
// every published SAM 2.1 configuration sets them.
constexpr long long kBackwardReadsForward = 16 + 7 - 1;

struct Pass {
    long long start = 0;  // the first frame propagated
    bool reverse = false;
    long long last = 0;  // the last frame propagated
    long long length() const { return std::llabs(last - start) + 1; }
    // The frame `steps` frames into the pass.
    long long at(long long steps) const { return reverse ? start - steps : start + steps; }
};

std::vector<Pass> plan(TrackDirection direction, const std::vector<TrackObject>& objects,
                       long long frames) {
    long long first = frames, latest = 0;
    for (const TrackObject& object : objects)
        for (const TrackPrompt& prompt : object.prompts) {
            first = std::min(first, prompt.frame);
            latest = std::max(latest, prompt.frame);
        }
    switch (direction) {
        case TrackDirection::Forward:
            return {Pass{first, false, frames - 1}};
        case TrackDirection::Backward:
            return {Pass{latest, true, 0}};
        case TrackDirection::Both:
            return {Pass{first, false, frames - 1}, Pass{first, true, 0}};
    }
    return {};
}

TrackMask mask_of(const sam2::Sam2ObjectMask& object, long long frame) {
    TrackMask out;
    out.frame = frame;
    out.object_id = object.object_id;
    const cv::Mat inside = object.logits > 0;
    out.mask = annotation::rle_encode(inside);
    out.visible = annotation::rle_area(out.mask) > 0;
    if (out.visible) {
        // Mean probability inside the mask: sigmoid(logit), averaged where the logit is > 0.
        cv::Mat probability;
        cv::exp(-object.logits, probability);
        probability = 1.0 / (1.0 + probability);
        out.score = static_cast<float>(cv::mean(probability, inside)[0]);
    }
    return out;
}

Status add_prompts(engine::TrackingSession& session, const std::vector<TrackObject>& objects,
                   const TrackSource& source) {
    for (const TrackObject& object : objects) {
        for (const TrackPrompt& prompt : object.prompts) {
            std::vector<runtime::Point> points;
            for (const TrackPoint& p : prompt.points)
                points.push_back({p.x, p.y, p.positive ? 1 : 0});
            Result<sam2::Sam2VideoMasks> shown = make_error(ErrorKind::Runtime, "no prompt");
            if (prompt.mask) {
                shown =
                    session.add_mask(prompt.frame, object.id, annotation::rle_decode(*prompt.mask))
                        .result();
            } else if (prompt.box) {
                const TrackBox& b = *prompt.box;
                shown = session.add_box(prompt.frame, object.id, {b.x0, b.y0, b.x1, b.y1}, points)
                            .result();
            } else {
                shown = session.add_points(prompt.frame, object.id, points).result();
            }
            if (!shown)
                return make_error(shown.error().kind, source.video + ": object " +
                                                          std::to_string(object.id) + " on frame " +
                                                          std::to_string(prompt.frame) + ": " +
                                                          shown.message());
        }
    }
    return Ok{};
}

// The run's state shared with the device thread's callback.
struct Writer {
    Writer(TrackStore& store, const TrackRunProgress& progress)
        : store(store), progress(progress) {}
    TrackStore& store;
    const TrackRunProgress& progress;
    long long total = 0;
    std::atomic<long long> done{0};
    std::atomic<long long> written{0}, warmed{0};
    std::atomic<bool> cancel{false};
    long long stop_after = -1;  // a warm-up that ends before the pass does: its last frame
    std::mutex mutex;
    std::optional<Error> failure;

    void on_frame(const sam2::Sam2VideoMasks& masks) {
        if (store.frame_complete(masks.frame)) {
            warmed += 1;
        } else {
            for (const sam2::Sam2ObjectMask& object : masks.objects) {
                if (auto put = store.put(mask_of(object, masks.frame)); !put) {
                    std::lock_guard lock(mutex);
                    failure = put.error();
                    cancel = true;
                    return;
                }
            }
            written += 1;
            if (progress) progress(++done, total);
        }
        if (masks.frame == stop_after) cancel = true;
    }
};

// Propagates `pass` from `from`, writing what is missing; with `stop_at`, only up to that frame.
Status propagate(engine::TrackingSession& session, const Pass& pass, long long from, Writer& writer,
                 long long stop_at = -1) {
    writer.cancel = false;
    writer.stop_after = stop_at;
    sam2::Sam2PropagateOptions options;
    options.start_frame = from;
    options.reverse = pass.reverse;
    options.cancel = &writer.cancel;
    const Status status =
        session
            .propagate(options,
                       [&writer](const sam2::Sam2VideoMasks& masks) { writer.on_frame(masks); })
            .result();
    {
        std::lock_guard lock(writer.mutex);
        if (writer.failure) return *writer.failure;
    }
    if (!status && !(stop_at >= 0 && status.error().kind == ErrorKind::Cancelled)) return status;
    return Ok{};
}

Status check_same_run(const TrackStore& store, const std::vector<TrackObject>& objects,
                      const TrackRun& run, const std::string& prompts) {
    const std::string meta =
        (std::filesystem::path(store.folder()) / TrackStore::kMetaFile).string();
    const TrackRun stored = store.run();
    if (store.objects() != objects)
        return make_error(ErrorKind::Mismatch, meta + ": tracked with other prompts than " +
                                                   prompts + "; use another --out");
    if (stored.direction != run.direction || stored.precision != run.precision)
        return make_error(ErrorKind::Mismatch, meta + ": tracked " + stored.direction + " in " +
                                                   stored.precision + ", not " + run.direction +
                                                   " in " + run.precision + "; use another --out");
    return Ok{};
}

}  // namespace

Result<TrackDirection> parse_track_direction(const std::string& text) {
    if (text == "forward") return TrackDirection::Forward;
    if (text == "backward") return TrackDirection::Backward;
    if (text == "both") return TrackDirection::Both;
    return make_error(ErrorKind::InvalidArgument,
                      "--direction '" + text + "': expected forward, backward or both");
}

std::string track_direction_name(TrackDirection direction) {
    switch (direction) {
        case TrackDirection::Forward:
            return "forward";
        case TrackDirection::Backward:
            return "backward";
        case TrackDirection::Both:
            return "both";
    }
    return {};
}

Result<std::string> checkpoint_hash(const std::string& path) {
    auto mapped = io::MappedFile::map(path);
    if (!mapped) return make_error(ErrorKind::Io, path + ": " + mapped.message());
    return engine::content_hash((*mapped)->data(), (*mapped)->size());
}

Status check_track_inputs(const std::string& video, const std::string& prompts) {
    auto opened = FrameSource::open(video);
    if (!opened) return opened.error();
    const FrameSourceInfo& info = (*opened)->info();
    auto objects = read_track_prompts(prompts, {info.width, info.height, info.frames});
    if (!objects) return objects.error();
    return Ok{};
}

Result<TrackRunReport> track_video(engine::Engine& engine, const TrackRunOptions& options,
                                   const TrackRunProgress& progress) {
    QElapsedTimer clock;
    clock.start();
    // Everything that can be wrong with the inputs is found before the store is touched.
    auto opened = FrameSource::open(options.video);
    if (!opened) return opened.error();
    std::shared_ptr<FrameSource> frames = std::move(*opened);
    const FrameSourceInfo& info = frames->info();
    auto objects = read_track_prompts(options.prompts, {info.width, info.height, info.frames});
    if (!objects) return objects.error();
    Result<std::string> hash =
        options.model_hash.empty() ? checkpoint_hash(options.model_path) : options.model_hash;
    if (!hash) return hash.error();
    TrackSource source;
    source.video = std::filesystem::absolute(options.video).lexically_normal().string();
    source.width = info.width;
    source.height = info.height;
    source.frame_count = info.frames;
    source.model = std::filesystem::path(options.model_path).filename().string();
    source.model_hash = *hash;
    TrackRun run{track_direction_name(options.direction), options.precision, false};

    const bool existed =
        std::filesystem::exists(std::filesystem::path(options.out_dir) / TrackStore::kMetaFile);
    auto store = TrackStore::open(options.out_dir, source);
    if (!store) return store.error();
    // A store whose objects and run were both written is a run to resume; one killed before
    // (or just created) gets them now. Objects first: a run without objects is never resumed.
    if (existed && !(*store)->objects().empty() && !(*store)->run().direction.empty()) {
        if (auto same = check_same_run(**store, *objects, run, options.prompts); !same)
            return same.error();
    } else {
        if (existed && !(*store)->objects().empty() && (*store)->objects() != *objects)
            return make_error(
                ErrorKind::Mismatch,
                (std::filesystem::path(options.out_dir) / TrackStore::kMetaFile).string() +
                    ": tracked with other prompts than " + options.prompts + "; use another --out");
        if (auto set = (*store)->set_objects(*objects); !set) return set.error();
        if (auto set = (*store)->set_run(run); !set) return set.error();
    }

    TrackRunReport report;
    const std::vector<Pass> passes = plan(options.direction, *objects, info.frames);
    std::set<long long> covered;
    for (const Pass& pass : passes)
        for (long long step = 0; step < pass.length(); ++step) covered.insert(pass.at(step));
    report.frames = static_cast<long long>(covered.size());
    for (long long frame : covered) report.kept += (*store)->frame_complete(frame) ? 1 : 0;
    if (report.kept == report.frames) {
        report.already_complete = true;
        if (!(*store)->run().complete) {
            run.complete = true;
            if (auto set = (*store)->set_run(run); !set) return set.error();
        }
        report.seconds = clock.elapsed() / 1000.0;
        return report;
    }

    // Every tracked mask goes to the store as it is made and is never read back from the
    // session, so the session keeps none beyond what tracking reads: memory stays flat however
    // long the video (with the default a 10,000-frame video held 1.3 GB of float16 logits).
    sam2::Sam2VideoOptions session_options;
    session_options.keep_tracked_masks = false;
    auto session = open_tracking(engine, options.model_id, frames, session_options).result();
    if (!session) return session.error();
    if (auto added = add_prompts(**session, *objects, source); !added) return added.error();
    Writer writer{**store, progress};
    writer.total = report.frames;
    writer.done = report.kept;
    bool forward_tracked = false;  // by this process, so its session holds the forward frames
    for (size_t p = 0; p < passes.size(); ++p) {
        const Pass& pass = passes[p];
        long long missing = -1;  // steps into the pass of its first frame not stored
        for (long long step = 0; step < pass.length(); ++step)
            if (!(*store)->frame_complete(pass.at(step))) {
                missing = step;
                break;
            }
        if (missing < 0) continue;
        // sam2's propagate_in_video tracks nothing backward from frame 0, not even that prompted
        // frame itself (the predictor keeps the quirk): this pass's one frame comes from one
        // forward step, as a forward pass gives its prompted first frame.
        if (pass.reverse && pass.start == 0) {
            if (auto done = propagate(**session, Pass{0, false, 0}, 0, writer, /*stop_at=*/0);
                !done)
                return done.error();
            continue;
        }
        // The backward pass of "both" reads the forward pass's first frames: when this process
        // did not track them, re-track them (stored already, so nothing is written).
        if (p == 1 && !forward_tracked) {
            const Pass& forward = passes[0];
            const long long stop = std::min(forward.last, forward.start + kBackwardReadsForward);
            if (auto done = propagate(**session, forward, forward.start, writer, stop); !done)
                return done.error();
        }
        const long long from = pass.at(std::max<long long>(0, missing - options.warmup_frames));
        if (auto done = propagate(**session, pass, from, writer); !done) return done.error();
        forward_tracked = forward_tracked || !pass.reverse;
    }
    if (auto flushed = (*store)->flush(); !flushed) return flushed.error();
    run.complete = true;
    if (auto set = (*store)->set_run(run); !set) return set.error();
    report.written = writer.written;
    report.warmed = writer.warmed;
    report.seconds = clock.elapsed() / 1000.0;
    return report;
}

}  // namespace ps::video
