// U²-Net pre- and post-processing exactly as u2net_test.py and the golden README state them.
#include "models/u2net/u2net_transforms.h"

#include <ATen/ATen.h>

#include <stdexcept>

#include <opencv2/core.hpp>

#include "image/pil_resize.h"
#include "models/runtime/matte_bytes.h"

namespace ps::u2net {

cv::Mat resize_for_u2net(const cv::Mat& rgb, int size) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        throw std::invalid_argument("U²-Net needs a non-empty 8-bit RGB image");
    }
    return image::pil_resize_bilinear(rgb, size, size);
}

at::Tensor normalize_for_u2net(const cv::Mat& resized_rgb, at::Device device) {
    if (resized_rgb.empty() || resized_rgb.type() != CV_8UC3) {
        throw std::invalid_argument("U²-Net normalisation needs a non-empty 8-bit RGB image");
    }
    const at::Tensor hwc = at::from_blob(
        const_cast<uchar*>(resized_rgb.ptr<uchar>()), {resized_rgb.rows, resized_rgb.cols, 3},
        {static_cast<int64_t>(resized_rgb.step[0]), 3, 1}, at::kByte);
    const int64_t max_value = hwc.max().item<int64_t>();
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor mean = at::tensor({0.485, 0.456, 0.406}, f64);
    const at::Tensor std = at::tensor({0.229, 0.224, 0.225}, f64);
    // numpy's image / np.max(image) and (x - mean) / std run in float64; the float32 cast comes
    // last (torch.from_numpy(...).type(torch.FloatTensor)).
    const at::Tensor scaled =
        hwc.to(at::kDouble) / static_cast<double>(max_value > 0 ? max_value : 1);
    const at::Tensor normalised = (scaled - mean) / std;
    return normalised.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat).contiguous().to(device);
}

at::Tensor soft_matte_from_d0(const at::Tensor& d0, int height, int width) {
    if (!d0.defined() || d0.dim() != 4 || d0.size(0) != 1 || d0.size(1) != 1) {
        throw std::invalid_argument("d0 must be a 1 x 1 x h x w tensor");
    }
    if (height <= 0 || width <= 0) throw std::invalid_argument("matte size must be positive");
    const at::Tensor pred = d0.to(at::kFloat);
    const at::Tensor lowest = pred.min(), highest = pred.max();
    const at::Tensor range = highest - lowest;
    // A flat prediction carries no foreground; dividing by 1 keeps it all zero instead of NaN.
    const at::Tensor normalised =
        (pred - lowest) / at::where(range > 0, range, at::ones_like(range));
    return at::upsample_bilinear2d(normalised, {height, width}, /*align_corners=*/false);
}

cv::Mat matte_from_d0(const at::Tensor& d0, int height, int width) {
    return runtime::matte_bytes(soft_matte_from_d0(d0, height, width),
                                runtime::MatteRounding::Round);
}

}  // namespace ps::u2net
