// SAM2Transforms of sam2/utils/transforms.py and the predictor's prompt preparation.
#include "models/sam2/sam2_transforms.h"

#include <ATen/ATen.h>

#include <stdexcept>

#include "models/runtime/device_upload.h"

namespace ps::sam2 {

at::Tensor preprocess_for_sam2(const cv::Mat& rgb, int64_t size, const at::Device& device) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        throw std::invalid_argument("SAM 2 expects a non-empty 8-bit RGB image (CV_8UC3)");
    }
    const cv::Mat contiguous = rgb.isContinuous() ? rgb : rgb.clone();
    // Through pinned memory without a host synchronisation (runtime::upload): a pageable copy
    // waits for every kernel queued before it, as did the two small ones of the mean and std.
    const at::Tensor bytes = runtime::upload(
        at::from_blob(contiguous.data, {contiguous.rows, contiguous.cols, 3}, at::kByte), device);
    // ToTensor: HWC uint8 -> CHW float32 / 255.
    const at::Tensor unit = bytes.permute({2, 0, 1}).to(at::kFloat).div(255).unsqueeze(0);
    // torchvision's Resize returns an image already of the size as it is.
    const bool same_size = contiguous.rows == size && contiguous.cols == size;
    const at::Tensor resized =
        same_size ? unit : at::_upsample_bilinear2d_aa(unit, {size, size}, /*align_corners=*/false);
    const at::Tensor mean =
        runtime::upload(at::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1}), device);
    const at::Tensor std =
        runtime::upload(at::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1}), device);
    return resized.sub(mean).div(std);
}

at::Tensor coords_to_input_frame(const at::Tensor& coords, int height, int width, int64_t size) {
    at::Tensor c = coords.to(at::kFloat).clone();
    c.select(-1, 0).div_(width);
    c.select(-1, 1).div_(height);
    return c * size;
}

Sam2PromptPoints prompt_points(const runtime::Prompt& prompt, int height, int width, int64_t size,
                               const at::Device& device) {
    std::vector<float> xy;
    Sam2PromptPoints out;
    if (prompt.box) {
        for (double v : *prompt.box) xy.push_back(static_cast<float>(v));
        out.labels = {2, 3};
    }
    for (const runtime::Point& p : prompt.points) {
        xy.push_back(static_cast<float>(p.x));
        xy.push_back(static_cast<float>(p.y));
        out.labels.push_back(p.label);
    }
    if (out.labels.empty()) return out;
    const at::Tensor pixels =
        at::from_blob(xy.data(), {static_cast<int64_t>(out.labels.size()), 2}, at::kFloat).clone();
    out.coords = coords_to_input_frame(pixels, height, width, size).to(device);
    return out;
}

at::Tensor upscale_logits(const at::Tensor& low_res, int height, int width) {
    return at::upsample_bilinear2d(low_res.to(at::kFloat), {height, width},
                                   /*align_corners=*/false);
}

}  // namespace ps::sam2
