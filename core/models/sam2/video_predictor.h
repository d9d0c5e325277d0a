// SAM 2.1's video predictor (sam2/sam2_video_predictor.py, SAM2VideoPredictor with
// build_sam2_video_predictor's overrides): prompts on frames of a video, propagated through the
// memory bank. Frames come on demand from a callback; only the current frame's features are
// kept, and per frame and object only the compact output (64x64 logits, pointer, score, bf16
// memory). No ATen in this header.
//
// Usage:
//   auto predictor = Sam2VideoPredictor::load("sam2.1_hiera_tiny.pt", {}, {frames, w, h}, source);
//   // or over a loaded model, sharing its weights (the engine):
//   auto shared = Sam2VideoPredictor::create(*Sam2VideoModel::load(image_model, path), ...);
//   auto shown = (*predictor)->add_points(0, /*object*/ 1, {{30, 38, 1}});
//   (*predictor)->propagate({}, [](const Sam2VideoMasks& masks) { ... });
#pragma once

#include <opencv2/core/mat.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/segmentation_types.h"
#include "models/sam2/sam2_model.h"
#include "models/sam2/video_model.h"

namespace ps::sam2 {

struct Sam2VideoInfo {
    int64_t num_frames = 0;
    int width = 0, height = 0;  // every frame's size in pixels
};

// Frame `index` as CV_8UC3 RGB at the video's size, or why it cannot be read.
using Sam2FrameSource = std::function<Result<cv::Mat>(int64_t index)>;

struct Sam2ObjectMask {
    int object_id = 0;
    cv::Mat logits;  // CV_32FC1 height x width; -1024 where the object has no output yet
    cv::Mat mask() const { return logits > 0; }
};

// Every object's mask on one frame, in the order objects were first prompted.
struct Sam2VideoMasks {
    int64_t frame = 0;
    std::vector<Sam2ObjectMask> objects;
    // How long the host waited for these masks to come down from the GPU (~0 on the CPU): near 0
    // a frame, the host's own work sets propagation's pace; near the frame's time, the GPU's.
    double gpu_wait_ms = 0;
};

struct Sam2VideoBox {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // video pixels
};

// How much the session keeps. The reference keeps every tracked frame's memory for the whole
// session; by default only those a later step can read without a new prompt far away are kept.
struct Sam2VideoOptions {
    // false: a tracked frame more than num_maskmem - 1 frames from the last tracked frame
    // drops its memory (bf16, mem_dim x G x G: 512 KB at 1024²) and keeps its low-res logits
    // (4G x 4G: 256 KB in float32) in float16 (2^-11 relative: a mask shown later changes only
    // at pixels whose logit is that close to 0). A session then
    // holds at most 2 (num_maskmem - 1) tracked memories per object besides its conditioning
    // frames'. Tracking reads only the num_maskmem - 1 frames before (or after, in reverse) the
    // current one: the same results, except a later pass that starts far from the last tracked
    // frame (it would have read dropped memories) or a correction click far from it (its mask
    // prompt is the float16 logits). Pointers (1 KB) are all kept. true: as the reference.
    bool keep_all_memories = false;
    // false (with keep_all_memories false): such a frame drops its low-res logits too, so that
    // masks() shows it as having no output (-1024) and a session holds ~1 KB per tracked frame
    // and object (the pointer) whatever the length: for callers that take each frame's masks
    // from propagate's callback (the tracking benchmark, streamed exports). A correction click
    // there then has no previous mask as its mask prompt.
    bool keep_tracked_masks = true;
    // true: the objects tracked on a frame whose memory layouts match (the same memory frames
    // and pointers: objects prompted together) go through memory attention, the mask decoder,
    // the pointer and the memory encoder as one batch; the rest in smaller groups. The same
    // results up to the float rounding of larger matrix products. false: one object at a time
    // (the reference's loop), for comparison.
    bool batch_objects = true;
};

struct Sam2PropagateOptions {
    std::optional<int64_t> start_frame;  // default: the first conditioning frame
    bool reverse = false;
    const std::atomic<bool>* cancel = nullptr;  // checked before each frame
};

struct Sam2VideoState;
class TrackStep;

class Sam2VideoPredictor {
  public:
    static Result<std::unique_ptr<Sam2VideoPredictor>> load(const std::string& checkpoint_path,
                                                            const Sam2Options& options,
                                                            const Sam2VideoInfo& video,
                                                            Sam2FrameSource frames,
                                                            const Sam2VideoOptions& session = {});
    // A session over an already loaded video model (shared, kept alive by the session).
    static Result<std::unique_ptr<Sam2VideoPredictor>> create(
        std::shared_ptr<const Sam2VideoModel> model, const Sam2VideoInfo& video,
        Sam2FrameSource frames, const Sam2VideoOptions& session = {});
    ~Sam2VideoPredictor();
    Sam2VideoPredictor(const Sam2VideoPredictor&) = delete;
    Sam2VideoPredictor& operator=(const Sam2VideoPredictor&) = delete;

    // add_new_points_or_box (clear_old_points): the frame's masks of every object.
    Result<Sam2VideoMasks> add_points(int64_t frame, int object_id,
                                      const std::vector<runtime::Point>& points);
    Result<Sam2VideoMasks> add_box(int64_t frame, int object_id, const Sam2VideoBox& box,
                                   const std::vector<runtime::Point>& points = {});
    // add_new_mask: mask CV_8UC1 at the video's size, nonzero inside.
    Result<Sam2VideoMasks> add_mask(int64_t frame, int object_id, const cv::Mat& mask);

    // propagate_in_video: each frame's masks to `on_frame` as it is done. A cancel or a frame
    // the source cannot give stops it with an error; the frames done so far stay tracked.
    Status propagate(const Sam2PropagateOptions& options,
                     const std::function<void(const Sam2VideoMasks&)>& on_frame);

    // clear_all_prompts_in_frame: the object's prompts on the frame gone; a conditioning output
    // there stays as a tracked one. The frame's masks of every object.
    Result<Sam2VideoMasks> clear_prompts(int64_t frame, int object_id);

    // A frame's masks as they stand: pending prompts first, then propagated outputs; -1024 for an
    // object with neither.
    Result<Sam2VideoMasks> masks(int64_t frame) const;

    // reset_state: every prompt and output gone, the model kept.
    void reset();

    const Sam2VideoInfo& video() const;
    const Sam2Model& model() const;
    // The per-object records, for tests and memory accounting.
    const Sam2VideoState& state() const;

    struct Impl;

  private:
    explicit Sam2VideoPredictor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::sam2
