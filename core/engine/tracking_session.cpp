// TrackingSession: each call one job on the model's device thread, at one priority so that the
// device thread runs a session's calls in the order they were made.
#include "engine/tracking_session.h"

#include <chrono>
#include <mutex>

#include "engine/device_thread.h"
#include "engine/job_scheduler.h"
#include "engine/metrics.h"
#include "engine/model_registry.h"

namespace ps::engine {

struct TrackingSession::State {
    std::shared_ptr<LoadedModel> model;  // first: outlives the predictor, which uses its weights
    std::unique_ptr<sam2::Sam2VideoPredictor> predictor;
};

TrackingSession::TrackingSession(std::shared_ptr<LoadedModel> model,
                                 std::unique_ptr<sam2::Sam2VideoPredictor> predictor,
                                 JobScheduler& scheduler, DeviceThread& device, Metrics& metrics)
    : state_(std::make_shared<State>(State{std::move(model), std::move(predictor)})),
      scheduler_(scheduler),
      device_(device),
      metrics_(metrics) {}
TrackingSession::~TrackingSession() = default;

const sam2::Sam2VideoInfo& TrackingSession::video() const {
    return state_->predictor->video();
}

// The job holds the state, so a session released with calls still queued finishes them safely.
template <typename T, typename F>
QFuture<Result<T>> TrackingSession::on_device(F&& call) {
    return scheduler_.submit_on<T>(
        device_.starter(), Priority::Interactive, nullptr,
        [state = state_, call = std::forward<F>(call)]() mutable -> Result<T> {
            std::lock_guard<std::mutex> model_lock(state->model->run_mutex);
            return call(*state->predictor);
        });
}

QFuture<Result<sam2::Sam2VideoMasks>> TrackingSession::add_points(
    int64_t frame, int object_id, std::vector<runtime::Point> points) {
    return on_device<sam2::Sam2VideoMasks>(
        [frame, object_id, points = std::move(points)](sam2::Sam2VideoPredictor& p) {
            return p.add_points(frame, object_id, points);
        });
}

QFuture<Result<sam2::Sam2VideoMasks>> TrackingSession::add_box(int64_t frame, int object_id,
                                                               sam2::Sam2VideoBox box,
                                                               std::vector<runtime::Point> points) {
    return on_device<sam2::Sam2VideoMasks>(
        [frame, object_id, box, points = std::move(points)](sam2::Sam2VideoPredictor& p) {
            return p.add_box(frame, object_id, box, points);
        });
}

QFuture<Result<sam2::Sam2VideoMasks>> TrackingSession::add_mask(int64_t frame, int object_id,
                                                                cv::Mat mask) {
    return on_device<sam2::Sam2VideoMasks>(
        [frame, object_id, mask = std::move(mask)](sam2::Sam2VideoPredictor& p) {
            return p.add_mask(frame, object_id, mask);
        });
}

QFuture<Result<sam2::Sam2VideoMasks>> TrackingSession::clear_prompts(int64_t frame, int object_id) {
    return on_device<sam2::Sam2VideoMasks>([frame, object_id](sam2::Sam2VideoPredictor& p) {
        return p.clear_prompts(frame, object_id);
    });
}

QFuture<Result<sam2::Sam2VideoMasks>> TrackingSession::masks(int64_t frame) {
    return on_device<sam2::Sam2VideoMasks>(
        [frame](sam2::Sam2VideoPredictor& p) { return p.masks(frame); });
}

QFuture<Status> TrackingSession::propagate(
    sam2::Sam2PropagateOptions options, std::function<void(const sam2::Sam2VideoMasks&)> on_frame) {
    return on_device<Ok>([options, on_frame = std::move(on_frame),
                          metrics = &metrics_](sam2::Sam2VideoPredictor& p) {
        using Clock = std::chrono::steady_clock;
        auto last = Clock::now();
        return p.propagate(options, [&](const sam2::Sam2VideoMasks& masks) {
            metrics->record(Stage::TrackFrame,
                            std::chrono::duration<double, std::milli>(Clock::now() - last).count());
            if (on_frame) on_frame(masks);
            last = Clock::now();  // the caller's own time not counted
        });
    });
}

QFuture<Status> TrackingSession::reset() {
    return on_device<Ok>([](sam2::Sam2VideoPredictor& p) -> Status {
        p.reset();
        return Ok{};
    });
}

}  // namespace ps::engine
