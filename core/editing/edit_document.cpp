// EditDocument: plain state with change signals.
#include "editing/edit_document.h"

#include <algorithm>

namespace ps::editing {
namespace {
// Answers of prompt states far back in the undo history are dropped; undoing that far asks the
// decoder again (a few milliseconds), so memory stays bounded on long sessions.
constexpr size_t kKeptAnswers = 64;
}  // namespace

EditDocument::EditDocument(QObject* parent) : QObject(parent) {}

void EditDocument::set_prompts(const PromptState& state) {
    prompts_ = state;
    emit prompts_changed();
}

void EditDocument::store_candidates(uint64_t generation, sam::SamMaskSet masks, QString segmenter) {
    answers_[generation] = {std::move(masks), std::move(segmenter)};
    while (answers_.size() > kKeptAnswers) answers_.erase(answers_.begin());
    if (generation == prompts_.generation) emit candidates_changed();
}

const sam::SamMaskSet* EditDocument::candidates(uint64_t generation) const {
    auto it = answers_.find(generation);
    return it == answers_.end() ? nullptr : &it->second.masks;
}

int EditDocument::current_candidate_index() const {
    const sam::SamMaskSet* set = current_candidates();
    if (!set || set->masks.empty()) return -1;
    const int chosen = prompts_.chosen_candidate;
    return chosen >= 0 && chosen < int(set->masks.size()) ? chosen : set->best_index;
}

cv::Mat EditDocument::current_mask() const {
    const int index = current_candidate_index();
    return index < 0 ? cv::Mat() : current_candidates()->masks[index];
}

QString EditDocument::current_segmenter() const {
    auto it = answers_.find(prompts_.generation);
    return it == answers_.end() ? QString() : it->second.segmenter;
}

const SegmentObject* EditDocument::object(int id) const {
    for (const SegmentObject& o : objects_) {
        if (o.id == id) return &o;
    }
    return nullptr;
}

int EditDocument::object_position(int id) const {
    for (size_t i = 0; i < objects_.size(); ++i) {
        if (objects_[i].id == id) return int(i);
    }
    return -1;
}

void EditDocument::insert_object(const SegmentObject& object, int position) {
    if (position < 0 || position > int(objects_.size())) position = int(objects_.size());
    objects_.insert(objects_.begin() + position, object);
    emit objects_changed();
}

void EditDocument::remove_object(int id) {
    const int position = object_position(id);
    if (position < 0) return;
    objects_.erase(objects_.begin() + position);
    emit objects_changed();
}

void EditDocument::update_object(const SegmentObject& object) {
    const int position = object_position(object.id);
    if (position < 0) return;
    objects_[position] = object;
    emit objects_changed();
}

void EditDocument::load_objects(std::vector<SegmentObject> objects, int next_object_id) {
    objects_ = std::move(objects);
    int highest = next_object_id - 1;
    for (const SegmentObject& object : objects_) highest = std::max(highest, object.id);
    object_counter_ = std::max(object_counter_, highest);
    emit objects_changed();
}

void EditDocument::clear() {
    prompts_ = {};
    answers_.clear();
    objects_.clear();
    // Object ids are per image (an annotation file numbers its own objects); the generation
    // counter is not reset, so a late answer for the previous image can never match a prompt.
    object_counter_ = 0;
    emit prompts_changed();
    emit objects_changed();
}

}  // namespace ps::editing
