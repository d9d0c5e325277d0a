// POINTS.json for batch annotation: per image file name, the objects to segment, each with its
// label and its points and/or box (the dataset point-preview workflow of the web services
// Photosynth replaces). Format in docs/annotation-format.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "common/result.h"

namespace ps::batch {

struct PointObject {
    std::string label;
    annotation::ObjectPrompts prompts;  // image pixels
};

struct PointFile {
    std::map<std::string, std::vector<PointObject>> images;  // file name -> objects
};

Result<PointFile> read_point_file(const std::string& path);

}  // namespace ps::batch
