// A FrameSource tracked through the engine: Engine::open_tracking with the source's frames. Here
// and not in the engine because core/video uses the engine, never the other way round.
//
//   auto frames = video::FrameSource::open("clip.mp4");
//   auto session = video::open_tracking(engine, model_id, std::move(*frames)).result();
#pragma once

#include <QFuture>

#include <memory>
#include <string>

#include "common/result.h"
#include "engine/engine.h"
#include "engine/tracking_session.h"
#include "video/frame_source.h"

namespace ps::video {

// The session reads `frames` on the model's device thread and keeps it alive; don't use
// `frames` from another thread while the session lives.
QFuture<Result<std::shared_ptr<engine::TrackingSession>>> open_tracking(
    engine::Engine& engine, const std::string& model_id, std::shared_ptr<FrameSource> frames,
    sam2::Sam2VideoOptions options = {});

}  // namespace ps::video
