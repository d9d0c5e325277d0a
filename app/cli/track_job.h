// What both forms of `photosynth-cli track` (one video; a folder of videos, cmd_track_batch.cpp)
// read and do alike: the tracking options, the SAM 2.1 model, and one video tracked into its
// store and exported. Both forms go through here, so a folder's video is written byte for byte
// as `track --video` writes it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli_args.h"
#include "video/track_export.h"
#include "video/track_run.h"

namespace ps::engine {
class Engine;
}

namespace ps::cli {

struct TrackJobOptions {
    video::TrackDirection direction = video::TrackDirection::Forward;
    long long warmup_frames = 16;
    std::vector<video::TrackExportKind> exports;
    bool per_object = false;  // --cutout-per-object
    // Exports rewritten even when the store was complete already and they exist: a shard whose
    // journal no longer vouches for a video's folder (an export edited or half written).
    bool refresh_exports = false;
    sam2::Sam2LayoutOverrides layout;
};

// --direction, --export, --warmup, --cutout-per-object and --sam2-layout; an error is a usage
// error naming the option.
Result<TrackJobOptions> read_track_job_options(const Args& args);

// The loaded model as the store records it.
struct TrackModel {
    std::string id, path, precision;
    std::string hash;  // the checkpoint's content hash, once for every video
};

// --model loaded with `options` (device, precision) and the layout; anything but SAM 2 is refused.
Result<TrackModel> load_track_model(engine::Engine& engine, const std::string& path,
                                    const sam::SamOptions& options, const TrackJobOptions& job);

// Tracks `video` with `prompts` into `out_dir` (video::track_video: resumed when half done,
// nothing done when complete), then writes the exports (a finished run's existing exports are
// kept unless job.refresh_exports). `say` gets each line for the user: what was tracked, each
// export.
Result<video::TrackRunReport> track_and_export(engine::Engine& engine, const TrackModel& model,
                                               const TrackJobOptions& job, const std::string& video,
                                               const std::string& prompts,
                                               const std::string& out_dir,
                                               const video::TrackRunProgress& progress,
                                               const std::function<void(const std::string&)>& say);

}  // namespace ps::cli
