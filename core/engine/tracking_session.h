// SAM 2.1's video predictor through the engine: every model call on the model's device thread,
// results as QFutures, the model the engine already holds (no second copy of its weights).
//
//   auto session = video::open_tracking(engine, model_id, frames).result();  // core/video
//   // or, frames from any callback: engine.open_tracking(model_id, {count, width, height}, read)
//   auto shown = (*session)->add_points(0, /*object*/ 1, {{30, 38, 1}}).result();
//   std::atomic<bool> cancel{false};
//   (*session)->propagate({0, false, &cancel}, [](const sam2::Sam2VideoMasks& m) { ... });
#pragma once

#include <QFuture>

#include <functional>
#include <memory>
#include <vector>

#include "common/result.h"
#include "models/runtime/segmentation_types.h"
#include "models/sam2/video_predictor.h"

namespace ps::engine {

class DeviceThread;
class JobScheduler;
class Metrics;
struct LoadedModel;

// Calls are queued on the model's device thread in the order made, at interactive priority.
// The session keeps its model alive (unloading it in the engine does not end the session); it
// must be released before the Engine that opened it.
class TrackingSession {
  public:
    ~TrackingSession();
    TrackingSession(const TrackingSession&) = delete;
    TrackingSession& operator=(const TrackingSession&) = delete;

    const sam2::Sam2VideoInfo& video() const;

    // The frame's masks of every object after the prompt (Sam2VideoPredictor's).
    QFuture<Result<sam2::Sam2VideoMasks>> add_points(int64_t frame, int object_id,
                                                     std::vector<runtime::Point> points);
    QFuture<Result<sam2::Sam2VideoMasks>> add_box(int64_t frame, int object_id,
                                                  sam2::Sam2VideoBox box,
                                                  std::vector<runtime::Point> points = {});
    // mask: CV_8UC1 at the video's size, nonzero inside.
    QFuture<Result<sam2::Sam2VideoMasks>> add_mask(int64_t frame, int object_id, cv::Mat mask);
    QFuture<Result<sam2::Sam2VideoMasks>> clear_prompts(int64_t frame, int object_id);
    // A frame's masks as they stand (-1024 logits for an object with no output there).
    QFuture<Result<sam2::Sam2VideoMasks>> masks(int64_t frame);

    // on_frame runs on the device thread as each frame is done (copy what you need, return
    // fast); each frame's time, on_frame's own left out, goes to the engine's metrics as
    // Stage::TrackFrame. options.cancel (owned by the caller, alive until the future resolves)
    // stops it between frames with a Cancelled error; the frames done stay tracked. Resolves when
    // done, cancelled or failed.
    QFuture<Status> propagate(sam2::Sam2PropagateOptions options,
                              std::function<void(const sam2::Sam2VideoMasks&)> on_frame);
    // Every prompt and output gone; the model and the frames kept.
    QFuture<Status> reset();

    struct State;  // the predictor and what keeps its model alive

  private:
    friend class Engine;
    TrackingSession(std::shared_ptr<LoadedModel> model,
                    std::unique_ptr<sam2::Sam2VideoPredictor> predictor, JobScheduler& scheduler,
                    DeviceThread& device, Metrics& metrics);
    template <typename T, typename F>
    QFuture<Result<T>> on_device(F&& call);

    std::shared_ptr<State> state_;
    JobScheduler& scheduler_;
    DeviceThread& device_;
    Metrics& metrics_;
};

}  // namespace ps::engine
