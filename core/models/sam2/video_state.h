// What SAM2VideoPredictor keeps per object between calls (its inference_state without the frames):
// each frame's compact output, conditioning and tracked, the outputs of prompts not yet
// propagated, and which frames were tracked in which direction.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <vector>

namespace ps::sam2 {

// _run_single_frame_inference's compact_current_out: the low-res logits (float32, 1 x 1 x 4G x
// 4G; float16 on the host once a bounded session has left the frame's memory window), the
// object pointer, the object score and the bfloat16 memory (undefined until encoded, or dropped
// outside the window). On the model's device while tracking can read them, on the host beyond
// (a bounded session). No image feature is kept.
struct Sam2FrameRecord {
    at::Tensor pred_masks;
    at::Tensor obj_ptr;
    at::Tensor object_score_logits;
    at::Tensor maskmem_features;
};

// frame -> record in insertion order, as the reference's dicts: the memory bank concatenates the
// conditioning frames in that order. Replacing a record keeps its place.
class FrameRecords {
  public:
    void put(int64_t frame, Sam2FrameRecord record);
    const Sam2FrameRecord* find(int64_t frame) const;
    Sam2FrameRecord* find(int64_t frame);
    void erase(int64_t frame);
    void clear();
    const std::vector<int64_t>& frames() const { return order_; }
    bool empty() const { return order_.empty(); }
    // The records by frame number, for range scans of long sessions (lower_bound) and walks
    // that need no look-up per frame.
    const std::map<int64_t, Sam2FrameRecord>& by_frame() const { return records_; }
    std::map<int64_t, Sam2FrameRecord>& by_frame() { return records_; }

  private:
    std::vector<int64_t> order_;
    std::map<int64_t, Sam2FrameRecord> records_;
};

struct Sam2ObjectState {
    int id = 0;
    FrameRecords cond, non_cond;              // output_dict_per_obj
    FrameRecords temp_cond, temp_non_cond;    // temp_output_dict_per_obj (prompts not propagated)
    std::map<int64_t, bool> tracked_reverse;  // frames_tracked_per_obj: frame -> reverse

    // The record a frame shows: a pending prompt's of that kind, else the conditioning one, else
    // the tracked one (_consolidate_temp_output_across_obj's order); null when none.
    const Sam2FrameRecord* shown(int64_t frame, bool is_cond) const;
    // A stored (propagated) record: conditioning first, then tracked.
    const Sam2FrameRecord* stored(int64_t frame) const;
    int64_t bytes() const;
};

struct Sam2VideoState {
    std::vector<Sam2ObjectState> objects;  // obj_id_to_idx order: first prompt first
    const Sam2ObjectState* object(int id) const;
    Sam2ObjectState* object(int id);
    Sam2ObjectState& object_or_add(int id);
    // The bytes of every stored record (the session's memory besides one frame's features).
    int64_t bytes() const;
};

}  // namespace ps::sam2
