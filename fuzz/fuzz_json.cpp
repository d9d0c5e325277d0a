// Fuzz target: the JSON readers of user files, each given the same bytes: PROMPTS.json
// (sam::parse_prompts), POINTS.json (batch::read_point_file) and an image's annotation file
// (annotation::annotation_from_json, labels_from_json).
#include <cstddef>
#include <cstdint>
#include <string>

#include "annotation/project.h"
#include "batch/point_file.h"
#include "fuzz_input.h"
#include "io/input_limits.h"
#include "models/sam/prompt_file.h"

namespace {

void check_prompts(const std::string& text) {
    auto prompts = ps::sam::parse_prompts(text, "PROMPTS.json");
    if (!prompts) return;
    ps::fuzz::require(prompts->size() <= ps::io::kMaxPromptsPerFile, "too many prompts accepted");
    for (const ps::sam::PromptSpec& spec : *prompts) {
        ps::fuzz::require(spec.prompt.points.size() <= ps::io::kMaxPointsPerPrompt,
                          "too many points accepted");
        ps::fuzz::require(!spec.prompt.points.empty() || spec.prompt.box.has_value(),
                          "prompt without points or box accepted");
    }
}

void check_points(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch_file(data, size, "-POINTS.json");
    auto points = ps::batch::read_point_file(path);
    if (!points) return;
    for (const auto& [image, objects] : points->images) {
        ps::fuzz::require(objects.size() <= ps::io::kMaxPromptsPerFile,
                          "too many objects accepted");
        for (const ps::batch::PointObject& object : objects) {
            ps::fuzz::require(static_cast<bool>(ps::io::check_label(object.label)),
                              "invalid label accepted");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    check_prompts(text);
    check_points(data, size);
    if (auto annotation = ps::annotation::annotation_from_json(text, "annotation.json")) {
        // What the reader accepts, the writer must write back in a form the reader accepts.
        const std::string written = ps::annotation::annotation_to_json(*annotation);
        ps::fuzz::require(
            static_cast<bool>(ps::annotation::annotation_from_json(written, "rewritten.json")),
            "an accepted annotation does not survive annotation_to_json");
    }
    (void)ps::annotation::labels_from_json(text, "labels.json");
    return 0;
}
