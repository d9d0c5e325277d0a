// `photosynth-cli track`'s work: a video's objects tracked from a prompts file through the
// engine's SAM 2.1 session into a TrackStore, frame by frame as they are done, resumable.
//
// Passes: forward runs from the earliest prompted frame to the last frame; backward from the
// latest prompted frame to frame 0; both runs forward from the earliest prompted frame, then
// backward from it to frame 0. A frame is written once every object has its mask there.
//
// Resume (a rerun into the same folder after a kill): frames already stored are never
// recomputed nor rewritten. The tracking memory is rebuilt by adding the prompts again and
// re-tracking, without writing, the `warmup_frames` frames of the pass before the first missing
// one (from the pass's start when it is nearer). When the warm-up reaches the pass's start the
// later frames are the uninterrupted run's exactly (same calls in the same order); else their
// memory misses what lies before the warm-up, which SAM 2 mostly forgets within a few frames.
// Resuming inside the backward pass of "both" first re-tracks the forward frames whose object
// pointers and memories the backward pass reads (the first 22 = 16 pointers + 7 memories - 1),
// as the predictor had kept them. A store made for another video, model, prompts, direction or
// precision is refused in one line.
//
//   auto report = video::track_video(engine, options, [](long long done, long long total) {});
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace ps::engine {
class Engine;
}

namespace ps::video {

enum class TrackDirection { Forward, Backward, Both };
Result<TrackDirection> parse_track_direction(const std::string& text);
std::string track_direction_name(TrackDirection direction);

struct TrackRunOptions {
    std::string model_id;    // a sam2 model loaded in the engine
    std::string model_path;  // its checkpoint: name and content hash go into the store
    // The checkpoint's engine::content_hash when the caller has it already (a batch of videos
    // hashes the file once); empty: hashed here.
    std::string model_hash;
    std::string precision;  // the model's, as the engine reports it ("fp32", "bf16")
    std::string video;      // a video file or a folder of frames
    std::string prompts;    // the prompts file (docs/track-prompts.md)
    std::string out_dir;    // the store (track.json, masks.pstrack), created when absent
    TrackDirection direction = TrackDirection::Forward;
    long long warmup_frames = 16;  // re-tracked without writing before a resume point
};

struct TrackRunReport {
    long long frames = 0;           // frames the run's passes cover
    long long written = 0;          // frames tracked and stored by this run
    long long kept = 0;             // frames found stored by an earlier run
    long long warmed = 0;           // frames re-tracked without writing to resume
    bool already_complete = false;  // nothing left to do
    double seconds = 0;
};

// done: frames of the run stored so far (kept + written); total: the run's frames. Called on
// the engine's device thread as each frame is stored.
using TrackRunProgress = std::function<void(long long done, long long total)>;

// The checkpoint's content hash, as the store records it (engine::content_hash of the file).
Result<std::string> checkpoint_hash(const std::string& path);

// The video opens and the prompts file is valid for it (what track_video checks first): lets a
// caller refuse bad input before it loads a model.
Status check_track_inputs(const std::string& video, const std::string& prompts);

// The video and the prompts are checked before anything is written.
Result<TrackRunReport> track_video(engine::Engine& engine, const TrackRunOptions& options,
                                   const TrackRunProgress& progress = {});

}  // namespace ps::video
