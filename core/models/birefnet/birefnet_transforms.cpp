// BiRefNet pre- and post-processing exactly as the model card and inference.py state them.
#include "models/birefnet/birefnet_transforms.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "image/pil_resize.h"
#include "models/runtime/device_upload.h"
#include "models/runtime/matte_bytes.h"

namespace ps::birefnet {

cv::Mat resize_for_birefnet(const cv::Mat& rgb, int width, int height) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        throw std::invalid_argument("BiRefNet needs a non-empty 8-bit RGB image");
    }
    if (width <= 0 || height <= 0)
        throw std::invalid_argument("BiRefNet input size must be positive");
    // Already the network's size: the image itself (Pillow's resize would copy it unchanged;
    // normalize_for_birefnet only reads it).
    if (rgb.cols == width && rgb.rows == height) return rgb;
    return image::pil_resize_bilinear(rgb, width, height);
}

cv::Mat resize_for_birefnet_dynamic(const cv::Mat& rgb, int64_t max_pixels) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        throw std::invalid_argument("BiRefNet needs a non-empty 8-bit RGB image");
    }
    double scale = 1.0;
    const double pixels = static_cast<double>(rgb.cols) * rgb.rows;
    if (max_pixels > 0 && pixels > static_cast<double>(max_pixels))
        scale = std::sqrt(static_cast<double>(max_pixels) / pixels);
    const int width = std::max(32, static_cast<int>(rgb.cols * scale) / 32 * 32);
    const int height = std::max(32, static_cast<int>(rgb.rows * scale) / 32 * 32);
    if (width == rgb.cols && height == rgb.rows) return rgb.clone();
    return image::pil_resize_bicubic(rgb, width, height);
}

at::Tensor normalize_for_birefnet(const cv::Mat& resized_rgb, at::Device device) {
    if (resized_rgb.empty() || resized_rgb.type() != CV_8UC3) {
        throw std::invalid_argument("BiRefNet normalisation needs an 8-bit RGB image");
    }
    const at::Tensor hwc = at::from_blob(
        const_cast<uchar*>(resized_rgb.ptr<uchar>()), {resized_rgb.rows, resized_rgb.cols, 3},
        {static_cast<int64_t>(resized_rgb.step[0]), 3, 1}, at::kByte);
    // The bytes travel (a quarter of the floats) and the arithmetic runs on the device, where
    // float32 division and subtraction round as on the CPU (IEEE, no fast math). Through pinned
    // memory without a host synchronisation (runtime::upload): a pageable copy of the 3 MB of a
    // 1024² image stalled the host until the GPU had caught up, three times an image.
    const at::Tensor mean =
        runtime::upload(at::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1}), device);
    const at::Tensor std =
        runtime::upload(at::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1}), device);
    // One kernel converts and transposes the bytes into the contiguous float input, then the
    // division, subtraction and division in place: the same operations in the same order (the
    // same bits) without three more full-size tensors and a final copy.
    const at::Tensor bytes = runtime::upload(hwc, device);
    at::Tensor input = at::empty({1, 3, resized_rgb.rows, resized_rgb.cols},
                                 at::TensorOptions().dtype(at::kFloat).device(device));
    input[0].copy_(bytes.permute({2, 0, 1}));
    return input.div_(255).sub_(mean).div_(std);
}

at::Tensor soft_matte_from_logits(const at::Tensor& logits, int height, int width) {
    if (!logits.defined() || logits.dim() != 4 || logits.size(0) != 1 || logits.size(1) != 1) {
        throw std::invalid_argument("BiRefNet logits must be a 1 x 1 x h x w tensor");
    }
    if (height <= 0 || width <= 0) throw std::invalid_argument("matte size must be positive");
    const at::Tensor prediction = at::sigmoid(logits).to(at::kFloat);
    return at::upsample_bilinear2d(prediction, {height, width}, /*align_corners=*/true);
}

cv::Mat matte_from_logits(const at::Tensor& logits, int height, int width) {
    return runtime::matte_bytes(soft_matte_from_logits(logits, height, width),
                                runtime::MatteRounding::Truncate);
}

}  // namespace ps::birefnet
