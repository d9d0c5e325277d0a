// Fuzz target: the JSON readers of user files, each given the same bytes: PROMPTS.json
// (sam::parse_prompts), POINTS.json (batch::read_point_file) and an image's annotation file
// (annotation::annotation_from_json, labels_from_json). What they accept must keep the limits of
// docs/limits.md, and an accepted annotation must survive being written back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "annotation/project.h"
#include "batch/point_file.h"
#include "fuzz_input.h"
#include "io/input_limits.h"
#include "models/sam/prompt_file.h"

namespace {

using ps::fuzz::require;

void check_prompts_file(const std::string& text) {
    auto prompts = ps::sam::parse_prompts(text, "PROMPTS.json");
    if (!prompts) return;
    require(prompts->size() <= ps::io::kMaxPromptsPerFile, "PROMPTS.json: too many prompts");
    for (const ps::sam::PromptSpec& spec : *prompts) {
        require(spec.prompt.points.size() <= ps::io::kMaxPointsPerPrompt,
                "PROMPTS.json: too many points in a prompt");
        require(!spec.prompt.points.empty() || spec.prompt.box.has_value(),
                "PROMPTS.json: a prompt without points or box");
    }
}

void check_points_file(const uint8_t* data, size_t size) {
    auto points =
        ps::batch::read_point_file(ps::fuzz::write_scratch_file(data, size, "-POINTS.json"));
    if (!points) return;
    for (const auto& [image, objects] : points->images) {
        require(objects.size() <= ps::io::kMaxPromptsPerFile, "POINTS.json: too many objects");
        for (const ps::batch::PointObject& object : objects) {
            auto label = ps::io::check_label(object.label);
            require(label && *label == object.label, "POINTS.json: a label check_label refuses");
            require(object.prompts.points.size() <= ps::io::kMaxPointsPerPrompt,
                    "POINTS.json: too many points in an object");
        }
    }
}

void check_annotation(const std::string& text) {
    auto annotation = ps::annotation::annotation_from_json(text, "annotation.json");
    if (!annotation) return;
    for (const auto& object : annotation->objects) {
        auto label = ps::io::check_label(object.label);
        require(label && *label == object.label, "annotation: a label check_label refuses");
    }
    const std::string written = ps::annotation::annotation_to_json(*annotation);
    require(static_cast<bool>(ps::annotation::annotation_from_json(written, "rewritten.json")),
            "annotation: an accepted file does not survive annotation_to_json");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    check_prompts_file(text);
    check_points_file(data, size);
    check_annotation(text);
    (void)ps::annotation::labels_from_json(text, "labels.json");
    return 0;
}
