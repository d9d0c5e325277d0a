// video::open_tracking: a FrameSource as the engine's frame callback.
#include "video/frame_tracking.h"

namespace ps::video {

QFuture<Result<std::shared_ptr<engine::TrackingSession>>> open_tracking(
    engine::Engine& engine, const std::string& model_id, std::shared_ptr<FrameSource> frames,
    sam2::Sam2VideoOptions options) {
    using Out = std::shared_ptr<engine::TrackingSession>;
    if (!frames) {
        return QtFuture::makeReadyFuture(
            Result<Out>(make_error(ErrorKind::InvalidArgument, "tracking needs frames")));
    }
    const FrameSourceInfo& info = frames->info();
    const sam2::Sam2VideoInfo video{info.frames, info.width, info.height};
    return engine.open_tracking(
        model_id, video,
        [frames = std::move(frames)](int64_t index) { return frames->frame(index); }, options);
}

}  // namespace ps::video
