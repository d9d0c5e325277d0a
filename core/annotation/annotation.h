// The data of an annotation project: labels, and per image the objects with their masks, the
// prompts that made them and the model that answered. Plain values; storage is project.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "annotation/rle.h"

namespace ps::annotation {

struct Label {
    std::string name;                        // unique within a project
    std::array<uint8_t, 3> colour{0, 0, 0};  // RGB
    std::string hotkey;                      // a QKeySequence string ("1", "Q"); may be empty
};

struct LabelSet {
    std::vector<Label> labels;
    const Label* find(const std::string& name) const;
    int index_of(const std::string& name) const;  // -1 when absent
};

struct PromptPoint {
    double x = 0, y = 0;   // full-resolution image pixels
    bool positive = true;  // object (true) or background (false)
};

// What made an object, kept so that a re-run with another model can regenerate it. The decoder's
// prompt (runtime::Prompt) is made from it, and it from the decoder's, only by
// core/annotating/sam_prompt.h.
struct ObjectPrompts {
    std::vector<PromptPoint> points;
    std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1 in image pixels
    bool empty() const { return points.empty() && !box; }
};

struct AnnotatedObject {
    int id = 0;                    // unique within the image, never reused
    std::string label;             // a LabelSet name
    Rle mask;                      // at the image's full resolution
    std::array<double, 4> bbox{};  // COCO: x, y, width, height of the mask
    ObjectPrompts prompts;         // empty for hand-drawn or imported objects
    std::string model;             // "sam_vit_b.pth", "brush", "import:coco"...
    double predicted_iou = 0;
    bool verified = false;  // a person accepted it (batch results start unverified)
    bool hidden = false;
};

enum class ImageStatus { NotStarted, InProgress, Done };
const char* to_string(ImageStatus status);
std::optional<ImageStatus> image_status_from_string(const std::string& text);

struct ImageAnnotation {
    std::string image_file;  // relative to the project's image root, '/' separated
    int width = 0, height = 0;
    ImageStatus status = ImageStatus::NotStarted;
    std::vector<AnnotatedObject> objects;
    int next_object_id = 1;

    AnnotatedObject* find(int object_id);
    const AnnotatedObject* find(int object_id) const;
    // Assigns the next id, returns it.
    int add(AnnotatedObject object);
    bool remove(int object_id);
};

}  // namespace ps::annotation
