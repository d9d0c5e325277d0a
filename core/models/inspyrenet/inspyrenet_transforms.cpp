// transparent-background's Remover pre- and post-processing, bit for bit where it can be.
#include "models/inspyrenet/inspyrenet_transforms.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>

#include "image/pil_resize.h"
#include "models/runtime/device_upload.h"
#include "models/runtime/matte_bytes.h"

namespace ps::inspyrenet {

at::Tensor input_for_inspyrenet(const cv::Mat& rgb, int width, int height, at::Device device,
                                at::MemoryFormat format) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        throw std::invalid_argument("InSPyReNet needs a non-empty 8-bit RGB image");
    }
    if (width <= 0 || height <= 0) throw std::invalid_argument("InSPyReNet size must be positive");
    // PIL's resize to the image's own size returns a copy: the pixels are read in place instead.
    const bool same_size = rgb.cols == width && rgb.rows == height;
    const cv::Mat resized = same_size ? rgb : image::pil_resize_bilinear(rgb, width, height);
    // Uploads through pinned memory without a host synchronisation (runtime::upload).
    const at::Tensor bytes =
        runtime::upload(at::from_blob(const_cast<uchar*>(resized.ptr<uchar>()), {height, width, 3},
                                      {static_cast<int64_t>(resized.step[0]), 3, 1}, at::kByte),
                        device);
    const at::Tensor mean = runtime::upload(at::tensor({0.485, 0.456, 0.406}, at::kDouble), device);
    const at::Tensor std_dev =
        runtime::upload(at::tensor({0.229, 0.224, 0.225}, at::kDouble), device);
    // float32 `/= 255`, then float64 `-= mean` and `/= std`, each stored as float32 (numpy's
    // in-place operations on a float32 array with float64 lists).
    const at::Tensor scaled = bytes.to(at::kFloat).div_(255.0f);
    const at::Tensor centred = (scaled.to(at::kDouble) - mean).to(at::kFloat);
    const at::Tensor normalised = (centred.to(at::kDouble) / std_dev).to(at::kFloat);
    // H x W x 3 permuted is channels-last memory already: no copy in that format.
    return normalised.permute({2, 0, 1}).unsqueeze(0).contiguous(format);
}

at::Tensor soft_matte_from_pred(const at::Tensor& pred, int height, int width) {
    if (!pred.defined() || pred.dim() != 4 || pred.size(0) != 1 || pred.size(1) != 1) {
        throw std::invalid_argument("pred must be a 1 x 1 x h x w tensor");
    }
    if (height <= 0 || width <= 0) throw std::invalid_argument("matte size must be positive");
    // align_corners=True to the same size reads every value where it is: no pass for it.
    const at::Tensor soft = pred.to(at::kFloat);
    if (soft.size(2) == height && soft.size(3) == width) return soft;
    return at::upsample_bilinear2d(soft, {height, width}, /*align_corners=*/true);
}

cv::Mat matte_from_pred(const at::Tensor& pred, int height, int width) {
    return runtime::matte_bytes(soft_matte_from_pred(pred, height, width),
                                runtime::MatteRounding::Truncate);
}

cv::Size dynamic_size(int width, int height, int long_side) {
    double w = width, h = height;
    const double L = long_side;
    if (w >= h && h > L) {
        w = w / (h / L);
        h = L;
    } else if (h > w && w > L) {
        h = h / (w / L);
        w = L;
    }
    // Python's round(): halves to even, as std::nearbyint in the default rounding mode.
    return {static_cast<int>(std::nearbyint(w / 32)) * 32,
            static_cast<int>(std::nearbyint(h / 32)) * 32};
}

}  // namespace ps::inspyrenet
