// Video annotations in memory: look-ups and the marks the timeline shows.
#include "video_annotations.h"

#include <algorithm>

namespace ps::ui {

const VideoObject* VideoAnnotations::object(int id) const {
    for (const VideoObject& o : objects)
        if (o.id == id) return &o;
    return nullptr;
}

VideoObject* VideoAnnotations::object(int id) {
    for (VideoObject& o : objects)
        if (o.id == id) return &o;
    return nullptr;
}

int VideoAnnotations::next_object_id() const {
    int largest = 0;
    for (const VideoObject& o : objects) largest = std::max(largest, o.id);
    return largest + 1;
}

QSet<int> VideoAnnotations::prompted_frames() const {
    QSet<int> out;
    for (const auto& [key, prompt] : prompts)
        if (!prompt.empty()) out.insert(int(key.first));
    return out;
}

QSet<int> VideoAnnotations::tracked_frames() const {
    QSet<int> out;
    for (const auto& [frame, by_object] : masks) {
        for (const auto& [id, mask] : by_object) {
            if (annotation::rle_area(mask.rle) > 0) {
                out.insert(int(frame));
                break;
            }
        }
    }
    return out;
}

void VideoAnnotations::remove_object(int id) {
    objects.erase(std::remove_if(objects.begin(), objects.end(),
                                 [id](const VideoObject& o) { return o.id == id; }),
                  objects.end());
    for (auto it = prompts.begin(); it != prompts.end();)
        it = it->first.second == id ? prompts.erase(it) : std::next(it);
    for (auto& [frame, by_object] : masks) by_object.erase(id);
}

}  // namespace ps::ui
