// Prompt scaling and mask selection for batch annotation (see object_decode.h).
#include "batch/object_decode.h"

#include <opencv2/core.hpp>

#include "annotation/rle.h"
#include "image/mask_export.h"
#include "io/input_limits.h"

namespace ps::batch {

Status check_prompts_inside(const annotation::ObjectPrompts& prompts, cv::Size full,
                            const std::string& where) {
    io::PromptGeometry geometry{{}, prompts.box};
    for (const auto& point : prompts.points) geometry.points.push_back({point.x, point.y});
    if (auto ok = io::check_prompt(geometry, full.width, full.height); !ok)
        return make_error(ErrorKind::InvalidArgument, where + ": " + ok.message());
    return Ok{};
}

Result<annotation::AnnotatedObject> object_from_masks(const sam::SamMaskSet& masks,
                                                      const std::string& label,
                                                      const annotation::ObjectPrompts& prompts,
                                                      const std::string& model_name, cv::Size full,
                                                      const std::string& where) {
    int best = -1;
    for (size_t i = 0; i < masks.masks.size() && i < masks.iou.size(); ++i) {
        if (cv::countNonZero(masks.masks[i]) == 0) continue;
        if (best < 0 || masks.iou[i] > masks.iou[static_cast<size_t>(best)])
            best = static_cast<int>(i);
    }
    if (best < 0)
        return make_error(ErrorKind::Runtime, where + ": the model returned only empty masks");
    const cv::Mat& work_mask = masks.masks[static_cast<size_t>(best)];
    const cv::Mat mask =
        work_mask.size() == full ? work_mask : image::upscale_mask(work_mask, full);
    annotation::AnnotatedObject object;
    object.label = label;
    object.mask = annotation::rle_encode(mask);
    object.bbox = annotation::rle_bbox(object.mask);
    object.prompts = prompts;
    object.model = model_name;
    object.predicted_iou = masks.iou[static_cast<size_t>(best)];
    object.verified = false;  // batch results wait for a person's review
    // A mask that vanished in the upscale (a speck below one work pixel) is no object either.
    if (annotation::rle_area(object.mask) == 0)
        return make_error(ErrorKind::Runtime, where + ": the mask is empty at full resolution");
    return object;
}

}  // namespace ps::batch
