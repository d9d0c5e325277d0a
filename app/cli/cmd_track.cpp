// photosynth-cli track: SAM 2.1 objects tracked through a video from a prompts file into a
// resumable track store, then exported (video::track_video, video/track_export.h).
#include <QFuture>

#include <filesystem>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "engine/engine.h"
#include "output_checks.h"

#include "video/frame_source.h"
#include "video/track_export.h"
#include "video/track_run.h"
#include "video/track_store.h"

namespace ps::cli {

const char kTrackUsage[] =
    "usage: photosynth-cli track --model CKPT --video IN(.mp4|frames dir) --prompts P.json "
    "--out DIR [--direction forward|backward|both] [--export masks,vis,cutout] "
    "[--cutout-per-object] [--warmup N] [--device cpu|cuda|auto] [--precision fp32|bf16] "
    "[--sam2-layout image_size=N,...]";

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

int run_track(const std::vector<std::string>& argv) {
    auto args = parse_args(argv,
                           {"model", "video", "prompts", "out", "direction", "export", "warmup",
                            "device", "precision", "sam2-layout"},
                           {"cutout-per-object"});
    if (!args) return fail(args.message() + " (" + kTrackUsage + ")", 2);
    if (auto ok = require(*args, "track", {"model", "video", "prompts", "out"}); !ok)
        return fail(ok.message() + " (" + kTrackUsage + ")", 2);
    video::TrackRunOptions options;
    options.video = args->get("video");
    options.prompts = args->get("prompts");
    options.out_dir = args->get("out");
    options.model_path = args->get("model");
    auto direction = video::parse_track_direction(args->get("direction", "forward"));
    if (!direction) return fail(direction.message(), 2);
    options.direction = *direction;
    std::vector<video::TrackExportKind> exports;
    if (args->has("export")) {
        auto parsed = video::parse_track_exports(args->get("export"));
        if (!parsed) return fail("--export: " + parsed.message(), 2);
        exports = *parsed;
    }
    if (args->has("warmup")) {
        try {
            size_t used = 0;
            options.warmup_frames = std::stoll(args->get("warmup"), &used);
            if (used != args->get("warmup").size() || options.warmup_frames < 0)
                throw std::invalid_argument("");
        } catch (const std::exception&) {
            return fail("--warmup '" + args->get("warmup") + "': expected a frame count >= 0", 2);
        }
    }
    auto layout = read_sam2_layout_option(*args);
    if (!layout) return fail(layout.message(), 2);
    if (auto ok = check_output_folder("out", options.out_dir); !ok) return fail(ok.message());
    // The video and the prompts before the model: a typo in them costs no load.
    if (auto ok = video::check_track_inputs(options.video, options.prompts); !ok)
        return fail(ok.message());

    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    sam::SamOptions model_options{settings.device, settings.precision};
    if (auto ok = read_device_options(*args, model_options.device, model_options.precision); !ok)
        return fail(ok.message(), 2);
    engine::Engine engine(settings);
    auto model = engine.load_model(options.model_path, model_options, *layout).result();
    if (!model) return fail(model.message());
    if (auto ok = engine::require_family(*model, "sam2"); !ok) return fail(ok.message());
    options.model_id = model->id;
    options.precision = model->precision;

    auto report = video::track_video(engine, options, [](long long done, long long total) {
        std::cerr << "tracked " << done << "/" << total << " frames" << std::endl;
    });
    if (!report) return fail(report.message());
    if (report->already_complete) {
        std::cout << "nothing to track: " << options.out_dir << " already holds the "
                  << report->frames << " tracked frame(s)" << std::endl;
    } else {
        std::cout << "tracked " << report->written << " frame(s) into " << options.out_dir;
        if (report->kept > 0)
            std::cout << " (" << report->kept << " kept from an earlier run, " << report->warmed
                      << " re-tracked to resume)";
        std::cout << " in " << report->seconds << " s" << std::endl;
    }

    auto store = video::TrackStore::open_existing(options.out_dir);
    if (!store) return fail(store.message());
    for (video::TrackExportKind kind : exports) {
        const std::string target =
            (std::filesystem::path(options.out_dir) / video::track_export_name(kind)).string();
        // A finished run's exports stand as they are: each was committed whole.
        if (report->already_complete && std::filesystem::exists(target)) {
            std::cout << "kept " << target << std::endl;
            continue;
        }
        auto made = export_one(kind, **store, target, args->flags.count("cutout-per-object") > 0);
        if (!made) return fail(made.message());
        std::cout << "wrote " << made->path << " (" << made->files << " file(s))" << std::endl;
    }
    return 0;
}

}  // namespace ps::cli
