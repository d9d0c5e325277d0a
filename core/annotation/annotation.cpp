// Small helpers of the annotation data types.
#include "annotation/annotation.h"

#include <algorithm>

namespace ps::annotation {

const Label* LabelSet::find(const std::string& name) const {
    const int index = index_of(name);
    return index < 0 ? nullptr : &labels[static_cast<size_t>(index)];
}

int LabelSet::index_of(const std::string& name) const {
    for (size_t i = 0; i < labels.size(); ++i)
        if (labels[i].name == name) return static_cast<int>(i);
    return -1;
}

const char* to_string(ImageStatus status) {
    switch (status) {
        case ImageStatus::NotStarted:
            return "not_started";
        case ImageStatus::InProgress:
            return "in_progress";
        case ImageStatus::Done:
            return "done";
    }
    return "not_started";
}

std::optional<ImageStatus> image_status_from_string(const std::string& text) {
    for (ImageStatus status : {ImageStatus::NotStarted, ImageStatus::InProgress, ImageStatus::Done})
        if (text == to_string(status)) return status;
    return std::nullopt;
}

AnnotatedObject* ImageAnnotation::find(int object_id) {
    for (auto& object : objects)
        if (object.id == object_id) return &object;
    return nullptr;
}

const AnnotatedObject* ImageAnnotation::find(int object_id) const {
    return const_cast<ImageAnnotation*>(this)->find(object_id);
}

int ImageAnnotation::add(AnnotatedObject object) {
    // Ids are never reused, even after a delete, so exports and undo refer to one object only.
    for (const auto& existing : objects) next_object_id = std::max(next_object_id, existing.id + 1);
    object.id = next_object_id++;
    objects.push_back(std::move(object));
    return objects.back().id;
}

bool ImageAnnotation::remove(int object_id) {
    const auto it =
        std::find_if(objects.begin(), objects.end(),
                     [&](const AnnotatedObject& object) { return object.id == object_id; });
    if (it == objects.end()) return false;
    objects.erase(it);
    return true;
}

}  // namespace ps::annotation
