// Fuzz target: the JSON readers of user files, each given the same bytes: PROMPTS.json
// (sam::parse_prompts), POINTS.json (batch::read_point_file) and an image's annotation file
// (annotation::annotation_from_json, labels_from_json).
#include <cstddef>
#include <cstdint>
#include <string>

#include "annotation/project.h"
#include "batch/point_file.h"
#include "fuzz_input.h"
#include "models/sam/prompt_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)ps::sam::parse_prompts(text, "PROMPTS.json");
    (void)ps::batch::read_point_file(ps::fuzz::write_scratch_file(data, size, "-POINTS.json"));
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
