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
    std::string preview_path;  // "" for none: else the frames over a checkerboard or background
    double smoothing = 0;      // image::smooth_matte's strength; 0 = off
    int batch = 1;             // frames per forward pass (Engine::matte_batch)
    bool overwrite = false;    // redo every frame, even of another run's folder
    image::RefineOptions refine;
    image::BackgroundOptions background;
    std::string pipeline_text;  // refine + background as text, for the manifest's comparison
};

struct VideoMattingReport {
    long long frames = 0;   // in the video
    long long written = 0;  // made by this run
    long long resumed = 0;  // found written by an earlier run and kept
    double seconds = 0;
};

// done: frames finished so far (written or kept); total: the container's frame count (0 if
// unknown). Called on the caller's thread after each frame.
using VideoProgress = std::function<void(long long done, long long total)>;

// The name of frame `index` (0-based) in the output folder: frame_000042.png.
std::string frame_file_name(long long index);

Result<VideoMattingReport> matte_video(engine::Engine& engine, const VideoMattingOptions& options,
                                       const VideoProgress& progress);

}  // namespace ps::video
