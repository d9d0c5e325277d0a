// `remove-bg --video`: a video's frames streamed through a matting model and the background
// pipeline, one PNG per frame (RGBA cut-out or matte) into a folder, an optional composited
// preview video, progress, and a resume that skips the frames already written. Memory is a few
// frames whatever the video's length: frames are decoded, matted and written as they come.
//
//   auto report = video::matte_video(engine, options, [](long long done, long long total) {...});
#pragma once

#include <functional>
#include <string>

#include "common/result.h"
#include "image/background.h"
#include "image/matte_refine.h"

namespace ps::engine {
class Engine;
}

namespace ps::video {

enum class FrameOutput { Cutout, Matte };

struct VideoMattingOptions {
    std::string input;           // the video
    std::string output_dir;      // created if missing; frame_000000.png, ... and the manifest
    std::string model_id;        // a matting model loaded in the engine
    std::string model_identity;  // its file name and size: a resume must use the same model
    FrameOutput output = FrameOutput::Cutout;
    std::string preview_path;  // "" for none: else the frames over `background` (a checkerboard
                               // for a transparent one), kept frames as well as new ones
    double smoothing = 0;      // image::smooth_matte's strength; 0 = off
    int batch = 1;             // frames per forward pass (Engine::matte_batch)
    bool overwrite = false;    // redo every frame, even of another run's folder
    image::RefineOptions refine;
    image::BackgroundOptions background;
    std::string pipeline_text;  // refine + background as text, for the manifest's comparison
    // One shard's share of the frames (batch::shard_range): [first_frame, end_frame), end_frame
    // -1 for the video's end. Frames before it are skipped undecoded, except, with smoothing, the
    // image::kSmoothingHistory frames just before first_frame (the warm-up): their raw mattes are
    // made again, so the share's frames are byte for byte those of a one-process run. A share
    // writes no preview and leaves the manifest's completion to the whole video's run.
    long long first_frame = 0;
    long long end_frame = -1;
    // Whether an earlier run finished frame `index` (its file `path`). Unset: the file exists
    // (every write is atomic and the manifest vouches for the folder). A shard checks its
    // journal's sizes and hashes instead.
    std::function<bool(long long index, const std::string& path)> finished;
    // Called once frame `index` is written to `path` (written) or kept from an earlier run
    // (!written); an error stops the run (a shard's journal line that could not be written).
    std::function<Status(long long index, const std::string& path, bool written)> frame_done;
    bool whole_video() const { return first_frame == 0 && end_frame < 0; }
};

struct VideoMattingReport {
    long long frames = 0;   // in the video (in the share, for one shard's)
    long long written = 0;  // made by this run
    long long resumed = 0;  // found written by an earlier run and kept
    double seconds = 0;
};

// done: frames finished so far (written or kept); total: the container's frame count (0 if
// unknown), or the share's size. Called on the caller's thread after each frame.
using VideoProgress = std::function<void(long long done, long long total)>;

// The name of frame `index` (0-based) in the output folder: frame_000042.png.
std::string frame_file_name(long long index);

// What matte_video would refuse about options.output_dir (the frames of another run, or frames
// without a manifest) and about the input, without writing anything: a shard checks it before
// it opens its journal there.
Status check_video_folder(const VideoMattingOptions& options);

Result<VideoMattingReport> matte_video(engine::Engine& engine, const VideoMattingOptions& options,
                                       const VideoProgress& progress);

// The preview video of a finished folder (every shard done), as a one-process run's --preview
// shows it, from the video its manifest names: each frame file composited as the run did, with
// the run's `refine` and `background` (the caller rebuilds them from the manifest's options; a
// written matte is already refined, so of `refine` only the colour decontamination applies).
// All or nothing: a missing or unreadable frame is an error naming it, and preview_path appears
// only whole.
Status write_preview_of_folder(const std::string& folder, const std::string& preview_path,
                               const image::RefineOptions& refine,
                               const image::BackgroundOptions& background);

}  // namespace ps::video
