// POINTS.json for batch annotation: per image file name, the objects to segment, each with its
// label and its points and/or box (the dataset point-preview workflow of the web services
// Photosynth replaces). Format in docs/annotation-format.md:
//   {"images": {"<name relative to the input folder>": [
//       {"label": "cat", "points": [[x, y], [x, y, 0], {"x": .., "y": .., "label": 1}],
//        "box": [x0, y0, x1, y1]}, ...]}}
// Pixels of the full-resolution image; point label 1 object (the default), 0 background; an
// object needs points, a box or both. Unknown keys, empty lists and names that leave the input
// folder are errors that name the file, the image, the object and the point.
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
