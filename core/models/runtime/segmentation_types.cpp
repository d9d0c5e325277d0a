// Prompt validation shared by every segmenter (see segmentation_types.h).
#include "models/runtime/segmentation_types.h"

#include <string>

#include "io/input_limits.h"

namespace ps::runtime {

Status check_prompt(const Prompt& prompt, int width, int height) {
    io::PromptGeometry geometry;
    for (const Point& p : prompt.points) {
        if (p.label != 0 && p.label != 1) {
            return make_error(
                ErrorKind::InvalidArgument,
                "point label " + std::to_string(p.label) + " is not 1 (object) or 0 (background)");
        }
        geometry.points.push_back({p.x, p.y});
    }
    geometry.box = prompt.box;
    return io::check_prompt(geometry, width, height);
}

}  // namespace ps::runtime
