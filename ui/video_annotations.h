// What the video mode knows about one video's annotation, in memory: its objects, the prompts
// clicked on frames and every frame's masks (COCO RLE, so a long video costs kilobytes a frame).
#pragma once

#include <QColor>
#include <QSet>
#include <QString>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "annotation/rle.h"
#include "models/runtime/segmentation_types.h"

namespace ps::ui {

struct VideoObject {
    int id = 0;
    QString name;
    QColor colour;
};

// One object's prompts on one frame: the points (video pixels) and an optional box.
struct FramePrompt {
    std::vector<runtime::Point> points;
    std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1
    bool empty() const { return points.empty() && !box; }
};

// One object's mask on one frame, and the model's confidence in it (mean probability inside).
struct ObjectMask {
    annotation::Rle rle;  // at the video's size
    float score = 0;
};
using FrameMasks = std::map<int, ObjectMask>;  // object id -> mask

struct VideoAnnotations {
    std::vector<VideoObject> objects;
    std::map<std::pair<int64_t, int>, FramePrompt> prompts;  // (frame, object)
    std::map<int64_t, FrameMasks> masks;                     // frame -> its masks

    const VideoObject* object(int id) const;
    VideoObject* object(int id);
    int next_object_id() const;  // one more than the largest id
    QSet<int> prompted_frames() const;
    QSet<int> tracked_frames() const;  // frames with at least one non-empty mask
    void remove_object(int id);        // with its prompts and masks
};

}  // namespace ps::ui
