// Where the video mode saves a video's annotation as it is made (objects, prompts, each tracked
// frame's masks) and reads it back on reopening: one small interface, so the controller does not
// depend on the file format.
#pragma once

#include <QString>

#include <map>
#include <memory>

#include "common/result.h"
#include "video_annotations.h"

namespace ps::video {
class TrackStore;
}

namespace ps::ui {

class VideoStore {
  public:
    virtual ~VideoStore() = default;
    // Everything saved so far (empty for a new video).
    virtual Result<VideoAnnotations> load() = 0;
    // Each call is on disk when it returns: a SIGKILL afterwards loses none of it.
    virtual Status save_object(const VideoObject& object) = 0;
    virtual Status delete_object(int object_id) = 0;
    virtual Status save_prompt(int64_t frame, int object_id, const FramePrompt& prompt) = 0;
    virtual Status save_masks(int64_t frame, const FrameMasks& masks) = 0;
    // The store itself, for the exports (core's track_export reads it; it locks its own state,
    // so an export on the pool may read while the window saves).
    virtual const video::TrackStore& track_store() const = 0;
};

// `<the video's folder>/.photosynth/<file name>.track`, or `<frames folder>/.photosynth/track`.
QString video_store_folder(const QString& video_path);

// The store of `video_path` (a file or a folder of frames) in `<its folder>/.photosynth/`.
Result<std::unique_ptr<VideoStore>> open_video_store(const QString& video_path, int frames,
                                                     int width, int height);

}  // namespace ps::ui
