// The tracking options, the model and one video's track and exports, shared by track's forms.
#include "track_job.h"

#include <QFuture>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "engine/engine.h"
#include "video/frame_source.h"
#include "video/track_store.h"

namespace ps::cli {
namespace {

Result<video::TrackExportSummary> export_one(video::TrackExportKind kind,
                                             const video::TrackStore& store,
                                             const std::string& target, bool per_object) {
    const auto progress = [&target](long long done, long long total) {
        if (done == total || done % 100 == 0)
            std::cerr << "export " << std::filesystem::path(target).filename().string() << ": "
                      << done << "/" << total << std::endl;
    };
    switch (kind) {
        case video::TrackExportKind::Masks:
            return video::export_track_masks(store, target, progress);
        case video::TrackExportKind::YouTubeVis: {
            // A folder's own frame names; a video file's frames get the dataset's "clip/00042.jpg".
            video::YouTubeVisOptions options;
            if (std::filesystem::is_directory(store.source().video))
                if (auto frames = video::FrameSource::open(store.source().video))
                    options.file_names = (*frames)->frame_names();
            return video::export_track_youtube_vis(store, target, options);
        }
        case video::TrackExportKind::Cutout: {
            auto frames = video::FrameSource::open(store.source().video);
            if (!frames) return frames.error();
            video::FrameSource& source = **frames;
            return video::export_track_cutouts(
                store, [&source](long long index) { return source.frame(index); }, target,
                {per_object}, progress);
        }
    }
    return make_error(ErrorKind::InvalidArgument, "unknown export");
}

}  // namespace

Result<TrackJobOptions> read_track_job_options(const Args& args) {
    TrackJobOptions job;
    auto direction = video::parse_track_direction(args.get("direction", "forward"));
    if (!direction) return direction.error();
    job.direction = *direction;
    if (args.has("export")) {
        auto parsed = video::parse_track_exports(args.get("export"));
        if (!parsed) return make_error(ErrorKind::InvalidArgument, "--export: " + parsed.message());
        job.exports = *parsed;
    }
    if (args.has("warmup")) {
        try {
            size_t used = 0;
            job.warmup_frames = std::stoll(args.get("warmup"), &used);
            if (used != args.get("warmup").size() || job.warmup_frames < 0)
                throw std::invalid_argument("");
        } catch (const std::exception&) {
            return make_error(ErrorKind::InvalidArgument,
                              "--warmup '" + args.get("warmup") + "': expected a frame count >= 0");
        }
    }
    job.per_object = args.flags.count("cutout-per-object") > 0;
    auto layout = read_sam2_layout_option(args);
    if (!layout) return layout.error();
    job.layout = *layout;
    return job;
}

Result<TrackModel> load_track_model(engine::Engine& engine, const std::string& path,
                                    const sam::SamOptions& options, const TrackJobOptions& job) {
    auto model = engine.load_model(path, options, job.layout).result();
    if (!model) return model.error();
    if (auto ok = engine::require_family(*model, "sam2"); !ok) return ok.error();
    auto hash = video::checkpoint_hash(path);
    if (!hash) return hash.error();
    return TrackModel{model->id, path, model->precision, *hash};
}

Result<video::TrackRunReport> track_and_export(engine::Engine& engine, const TrackModel& model,
                                               const TrackJobOptions& job, const std::string& video,
                                               const std::string& prompts,
                                               const std::string& out_dir,
                                               const video::TrackRunProgress& progress,
                                               const std::function<void(const std::string&)>& say) {
    video::TrackRunOptions options;
    options.video = video;
    options.prompts = prompts;
    options.out_dir = out_dir;
    options.model_path = model.path;
    options.model_id = model.id;
    options.model_hash = model.hash;
    options.precision = model.precision;
    options.direction = job.direction;
    options.warmup_frames = job.warmup_frames;
    auto report = video::track_video(engine, options, progress);
    if (!report) return report.error();
    std::ostringstream line;
    if (report->already_complete) {
        line << "nothing to track: " << out_dir << " already holds the " << report->frames
             << " tracked frame(s)";
    } else {
        line << "tracked " << report->written << " frame(s) into " << out_dir;
        if (report->kept > 0)
            line << " (" << report->kept << " kept from an earlier run, " << report->warmed
                 << " re-tracked to resume)";
        line << " in " << report->seconds << " s";
    }
    say(line.str());

    auto store = video::TrackStore::open_existing(out_dir);
    if (!store) return store.error();
    for (video::TrackExportKind kind : job.exports) {
        const std::string target =
            (std::filesystem::path(out_dir) / video::track_export_name(kind)).string();
        // A finished run's exports stand as they are: each was committed whole.
        if (report->already_complete && !job.refresh_exports && std::filesystem::exists(target)) {
            say("kept " + target);
            continue;
        }
        auto made = export_one(kind, **store, target, job.per_object);
        if (!made) return made.error();
        say("wrote " + made->path + " (" + std::to_string(made->files) + " file(s))");
    }
    return report;
}

}  // namespace ps::cli
