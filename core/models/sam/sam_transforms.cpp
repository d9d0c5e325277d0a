// Pre- and post-processing exactly as ../shared/golden/SAM.md states it.
#include "models/sam/sam_transforms.h"

#include <ATen/ATen.h>

#include <opencv2/imgproc.hpp>

#include "image/pil_resize.h"
#include "image/prefaulted_allocator.h"
#include "models/sam/sam_types.h"

namespace ps::sam {

Size2 longest_side_size(Size2 original, int target) {
    const double scale = static_cast<double>(target) / std::max(original.height, original.width);
    return {static_cast<int>(original.height * scale + 0.5),
            static_cast<int>(original.width * scale + 0.5)};
}

cv::Mat resize_longest_side(const cv::Mat& rgb, int target) {
    const Size2 size = longest_side_size({rgb.rows, rgb.cols}, target);
    return image::pil_resize_bilinear(rgb, size.width, size.height);
}

at::Tensor normalize_and_pad(const at::Tensor& resized_hwc, int target) {
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(resized_hwc.device());
    const at::Tensor mean = at::tensor({123.675f, 116.28f, 103.53f}, opts).view({1, 3, 1, 1});
    const at::Tensor std = at::tensor({58.395f, 57.12f, 57.375f}, opts).view({1, 3, 1, 1});
    const at::Tensor chw = resized_hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
    const at::Tensor normalised = (chw - mean) / std;
    const int64_t pad_h = target - resized_hwc.size(0), pad_w = target - resized_hwc.size(1);
    return at::constant_pad_nd(normalised, {0, pad_w, 0, pad_h});
}

float scale_coord(double value, int resized_extent, int original_extent) {
    return static_cast<float>(value *
                              (static_cast<double>(resized_extent) / original_extent));
}

PromptTensors prompt_to_tensors(const SamPrompt& prompt, Size2 original, Size2 resized,
                                at::Device device) {
    PromptTensors out;
    std::vector<float> coords;
    for (const SamPoint& p : prompt.points) {
        coords.push_back(scale_coord(p.x, resized.width, original.width));
        coords.push_back(scale_coord(p.y, resized.height, original.height));
        out.labels.push_back(p.label);
    }
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    if (!coords.empty()) out.point_coords = at::tensor(coords, opts).view({-1, 2}).to(device);
    if (prompt.box) {
        // apply_boxes treats the box as two points.
        const auto& b = *prompt.box;
        out.box = at::tensor({scale_coord(b[0], resized.width, original.width),
                              scale_coord(b[1], resized.height, original.height),
                              scale_coord(b[2], resized.width, original.width),
                              scale_coord(b[3], resized.height, original.height)},
                             opts)
                      .to(device);
    }
    if (prompt.mask_input) out.mask_input = prompt.mask_input->logits;
    return out;
}

at::Tensor upscale_logits(const at::Tensor& low_res_logits, int target, Size2 resized,
                          Size2 original) {
    at::Tensor masks = at::upsample_bilinear2d(low_res_logits, {target, target}, false);
    masks = masks.slice(2, 0, resized.height).slice(3, 0, resized.width);
    return at::upsample_bilinear2d(masks, {original.height, original.width}, false);
}

std::vector<cv::Mat> threshold_masks_cpu(const at::Tensor& low_res_logits, int target,
                                         Size2 resized, Size2 original) {
    const at::Tensor logits = low_res_logits.contiguous();
    const int count = static_cast<int>(logits.size(1));
    const int h = static_cast<int>(logits.size(2)), w = static_cast<int>(logits.size(3));
    std::vector<cv::Mat> masks;
    cv::Mat square, full;
    for (int i = 0; i < count; ++i) {
        const cv::Mat low(h, w, CV_32F, logits[0][i].data_ptr<float>());
        cv::resize(low, square, {target, target}, 0, 0, cv::INTER_LINEAR);
        cv::resize(square(cv::Rect(0, 0, resized.width, resized.height)), full,
                   {original.width, original.height}, 0, 0, cv::INTER_LINEAR);
        cv::Mat mask = image::make_prefaulted_mat(original.height, original.width, CV_8UC1);
        cv::compare(full, 0.0, mask, cv::CMP_GT);
        masks.push_back(mask);
    }
    return masks;
}

}  // namespace ps::sam
