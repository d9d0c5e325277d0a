// ISNet pre- and post-processing exactly as IS-Net/Inference.py (DIS) states them.
#include "models/isnet/isnet_transforms.h"

#include <ATen/ATen.h>

#include <stdexcept>

#include "models/runtime/device_upload.h"
#include "models/runtime/matte_bytes.h"

namespace ps::isnet {

at::Tensor resize_for_isnet(const cv::Mat& rgb, int size) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        throw std::invalid_argument("ISNet needs a non-empty 8-bit RGB image");
    }
    if (size <= 0) throw std::invalid_argument("ISNet input size must be positive");
    const at::Tensor hwc =
        at::from_blob(const_cast<uchar*>(rgb.ptr<uchar>()), {rgb.rows, rgb.cols, 3},
                      {static_cast<int64_t>(rgb.step[0]), 3, 1}, at::kByte);
    // Already the network's size: F.upsample to its own size returns every value as it is, so
    // the bytes go straight through (no float copy of the image), in the image's own H x W x 3
    // order: 1 x 3 x H x W in channels-last strides, which is how the GPU's half-precision
    // network takes its input (no transpose on the host, none on the device). A view of `rgb`,
    // which normalize_for_isnet copies at once.
    if (rgb.rows == size && rgb.cols == size && rgb.isContinuous())
        return hwc.permute({2, 0, 1}).unsqueeze(0);
    // A contiguous H x W x 3 float tensor viewed as 1 x 3 x H x W: channels last, as in the
    // reference, so that ATen runs the same upsampling kernel.
    const at::Tensor image = hwc.to(at::kFloat).contiguous().permute({2, 0, 1}).unsqueeze(0);
    const at::Tensor resized =
        at::upsample_bilinear2d(image, {size, size}, /*align_corners=*/false);
    return resized.to(at::kByte);  // float -> uint8 truncates toward zero, as .type(torch.uint8)
}

at::Tensor normalize_for_isnet(const at::Tensor& resized, at::Device device) {
    if (!resized.defined() || resized.dim() != 4 || resized.size(1) != 3 ||
        resized.scalar_type() != at::kByte) {
        throw std::invalid_argument("ISNet normalisation needs a 1 x 3 x H x W uint8 tensor");
    }
    // torch.divide(uint8, 255.0) is float32; normalize subtracts 0.5 and divides by 1.0
    // (exact, left out). On the device: the bytes travel (a quarter of the floats) and the
    // division rounds the same there (IEEE, no fast math). Through pinned memory without a host
    // synchronisation (runtime::upload).
    return at::div(runtime::upload(resized, device), 255.0) - 0.5;
}

at::Tensor soft_matte_from_d1(const at::Tensor& d1, int height, int width) {
    if (!d1.defined() || d1.dim() != 4 || d1.size(0) != 1 || d1.size(1) != 1) {
        throw std::invalid_argument("d1 must be a 1 x 1 x h x w tensor");
    }
    if (height <= 0 || width <= 0) throw std::invalid_argument("matte size must be positive");
    const at::Tensor resized =
        at::upsample_bilinear2d(d1.to(at::kFloat), {height, width}, /*align_corners=*/false);
    const at::Tensor lowest = resized.min(), highest = resized.max();
    const at::Tensor range = highest - lowest;
    // A flat prediction carries no foreground; dividing by 1 keeps it all zero instead of NaN.
    return (resized - lowest) / at::where(range > 0, range, at::ones_like(range));
}

cv::Mat matte_from_d1(const at::Tensor& d1, int height, int width) {
    return runtime::matte_bytes(soft_matte_from_d1(d1, height, width),
                                runtime::MatteRounding::Truncate);
}

}  // namespace ps::isnet
