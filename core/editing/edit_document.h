// The state of one image being edited: the prompts, the candidate masks the decoder returned
// for each prompt state, and the accepted objects. Widgets show it; undo commands change it.
#pragma once

#include <QColor>
#include <QObject>
#include <QString>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "models/sam/sam_model.h"

namespace ps::editing {

struct PromptState {
    std::vector<sam::SamPoint> points;         // work-image pixels
    std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1
    int chosen_candidate = -1;                 // -1: the one with the best predicted IoU
    uint64_t generation = 0;                   // identifies this state's decoder answer

    bool empty() const { return points.empty() && !box; }
};

struct SegmentObject {
    int id = 0;
    QString name;
    QColor colour;
    cv::Mat mask;  // CV_8UC1 0/255 at the work image's size
    bool visible = true;
    PromptState prompts;  // what made it (for re-running with another model)
    float iou = 0;
    QString segmenter;     // "sam_vit_tiny.pth", "GrabCut (built-in)" or "brush"
    bool verified = true;  // a person accepted it; batch results start unverified
};

class EditDocument : public QObject {
    Q_OBJECT
  public:
    explicit EditDocument(QObject* parent = nullptr);

    const PromptState& prompts() const { return prompts_; }
    // Replaces the prompt state (keeps its generation: undo returns to an earlier one).
    void set_prompts(const PromptState& state);
    uint64_t next_generation() { return ++generation_counter_; }

    // Decoder answers, kept per generation so that undo/redo show masks at once.
    void store_candidates(uint64_t generation, sam::SamMaskSet masks, QString segmenter);
    const sam::SamMaskSet* candidates(uint64_t generation) const;
    const sam::SamMaskSet* current_candidates() const { return candidates(prompts_.generation); }
    // The displayed mask: the chosen candidate, else the best; empty when none.
    cv::Mat current_mask() const;
    int current_candidate_index() const;
    QString current_segmenter() const;

    const std::vector<SegmentObject>& objects() const { return objects_; }
    const SegmentObject* object(int id) const;
    void insert_object(const SegmentObject& object, int position = -1);
    void remove_object(int id);
    void update_object(const SegmentObject& object);  // by id
    int next_object_id() { return ++object_counter_; }
    // Replaces the objects (a saved annotation loaded for this image), without undo. Ids below
    // `next_object_id` are never handed out again, so a new object never takes a saved one's id.
    void load_objects(std::vector<SegmentObject> objects, int next_object_id);
    int object_position(int id) const;

    void clear();  // a new image

  signals:
    void prompts_changed();
    void candidates_changed();
    void objects_changed();

  private:
    struct Answer {
        sam::SamMaskSet masks;
        QString segmenter;
    };
    PromptState prompts_;
    std::map<uint64_t, Answer> answers_;
    std::vector<SegmentObject> objects_;
    uint64_t generation_counter_ = 0;
    int object_counter_ = 0;
};

}  // namespace ps::editing
