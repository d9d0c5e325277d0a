// The video predictor's per-object records.
#include "models/sam2/video_state.h"

#include <algorithm>

namespace ps::sam2 {

void FrameRecords::put(int64_t frame, Sam2FrameRecord record) {
    if (records_.count(frame) == 0) order_.push_back(frame);
    records_[frame] = std::move(record);
}

const Sam2FrameRecord* FrameRecords::find(int64_t frame) const {
    auto it = records_.find(frame);
    return it == records_.end() ? nullptr : &it->second;
}

Sam2FrameRecord* FrameRecords::find(int64_t frame) {
    auto it = records_.find(frame);
    return it == records_.end() ? nullptr : &it->second;
}

void FrameRecords::erase(int64_t frame) {
    if (records_.erase(frame) == 0) return;
    order_.erase(std::find(order_.begin(), order_.end(), frame));
}

void FrameRecords::clear() {
    order_.clear();
    records_.clear();
}

const Sam2FrameRecord* Sam2ObjectState::shown(int64_t frame, bool is_cond) const {
    if (const Sam2FrameRecord* r = (is_cond ? temp_cond : temp_non_cond).find(frame)) return r;
    return stored(frame);
}

const Sam2FrameRecord* Sam2ObjectState::stored(int64_t frame) const {
    if (const Sam2FrameRecord* r = cond.find(frame)) return r;
    return non_cond.find(frame);
}

namespace {
int64_t tensor_bytes(const at::Tensor& t) {
    return t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
}
int64_t records_bytes(const FrameRecords& records) {
    int64_t total = 0;
    for (int64_t frame : records.frames()) {
        const Sam2FrameRecord* r = records.find(frame);
        total += tensor_bytes(r->pred_masks) + tensor_bytes(r->obj_ptr) +
                 tensor_bytes(r->object_score_logits) + tensor_bytes(r->maskmem_features);
    }
    return total;
}
}  // namespace

int64_t Sam2ObjectState::bytes() const {
    return records_bytes(cond) + records_bytes(non_cond) + records_bytes(temp_cond) +
           records_bytes(temp_non_cond);
}

const Sam2ObjectState* Sam2VideoState::object(int id) const {
    for (const Sam2ObjectState& o : objects)
        if (o.id == id) return &o;
    return nullptr;
}

Sam2ObjectState* Sam2VideoState::object(int id) {
    for (Sam2ObjectState& o : objects)
        if (o.id == id) return &o;
    return nullptr;
}

Sam2ObjectState& Sam2VideoState::object_or_add(int id) {
    for (Sam2ObjectState& o : objects)
        if (o.id == id) return o;
    objects.emplace_back();
    objects.back().id = id;
    return objects.back();
}

int64_t Sam2VideoState::bytes() const {
    int64_t total = 0;
    for (const Sam2ObjectState& o : objects) total += o.bytes();
    return total;
}

}  // namespace ps::sam2
