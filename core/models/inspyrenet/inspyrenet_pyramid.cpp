// Laplacian pyramid, transition band and pyramid blending, op for op as lib/modules/layers.py
// and lib/InSPyReNet.py.
#include "models/inspyrenet/inspyrenet_pyramid.h"

#include <ATen/ATen.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <limits>

namespace ps::inspyrenet {

ImagePyramid::ImagePyramid(at::Device device) {
    // cv2.getGaussianKernel(7, 1) is float64; np.outer in float64, then .float().
    cv::Mat g = cv::getGaussianKernel(7, 1.0, CV_64F);
    const at::Tensor column = at::from_blob(g.ptr<double>(), {7}, at::kDouble).clone();
    const at::Tensor kernel = at::outer(column, column).to(at::kFloat);
    kernel_x4_ = (kernel * 4).view({1, 1, 7, 7}).to(device);
}

at::Tensor ImagePyramid::expand(const at::Tensor& input) const {
    const at::Tensor x = input.to(at::kFloat);
    const at::Tensor z = at::zeros_like(x);
    at::Tensor y = at::pixel_shuffle(at::cat({x, z, z, z}, 1), 2);
    y = at::reflection_pad2d(y, {3, 3, 3, 3});
    return at::conv2d(y, kernel_x4_);
}

at::Tensor ImagePyramid::reconstruct(const at::Tensor& x, const at::Tensor& laplacian) const {
    const at::Tensor expanded = expand(x);
    // layers.py compares a shape with a tensor (always unequal), so the Laplacian is always
    // interpolated, to its own size where it already matches.
    const at::Tensor resized = at::upsample_bilinear2d(
        laplacian.to(at::kFloat), {expanded.size(2), expanded.size(3)}, /*align_corners=*/true);
    return expanded + resized;
}

namespace {

// Max over the ellipse's pixels inside the image (kornia's geodesic border): one horizontal max
// pool per row offset of the ellipse, shifted vertically.
at::Tensor dilate(const at::Tensor& x, const cv::Mat& ellipse) {
    const int64_t k = ellipse.rows, r = k / 2, H = x.size(2);
    const double lowest = -std::numeric_limits<double>::infinity();
    at::Tensor out = at::full_like(x, lowest);
    for (int64_t row = 0; row < k; ++row) {
        const int64_t dy = row - r;
        int64_t half = -1;
        for (int64_t col = 0; col < k; ++col) {
            if (ellipse.at<uchar>(static_cast<int>(row), static_cast<int>(col))) {
                half = std::max(half, std::abs(col - r));
            }
        }
        if (half < 0 || std::abs(dy) >= H) continue;
        const at::Tensor pooled =
            half == 0 ? x : at::max_pool2d(x, {1, 2 * half + 1}, {1, 1}, {0, half});
        // out[y] = max(out[y], pooled[y + dy]) where y + dy lies inside the image.
        const int64_t from = std::max<int64_t>(0, -dy), to = std::min(H, H - dy);
        at::Tensor target = out.narrow(2, from, to - from);
        target.copy_(at::maximum(target, pooled.narrow(2, from + dy, to - from)));
    }
    return out;
}

}  // namespace

at::Tensor transition(const at::Tensor& input, int kernel_size) {
    const cv::Mat ellipse =
        cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(kernel_size, kernel_size));
    const at::Tensor x = at::sigmoid(input.to(at::kFloat));
    const at::Tensor dilated = dilate(x, ellipse);
    const at::Tensor eroded = -dilate(-x, ellipse);
    return ((dilated - eroded) > 0.5).to(at::kFloat);
}

SaliencyPyramid blend_pyramids(const ImagePyramid& pyramid, const SaliencyPyramid& low,
                               const SaliencyPyramid& high) {
    const auto resize_like = [](const at::Tensor& x, const at::Tensor& target) {
        return at::upsample_bilinear2d(x.to(at::kFloat), {target.size(2), target.size(3)},
                                       /*align_corners=*/false);
    };
    SaliencyPyramid out;
    out.d[0] = resize_like(low.d[3], high.d[0]);
    const int sizes[3] = {5, 9, 17};  // transition2, transition1, transition0
    for (int level = 0; level < 3; ++level) {
        const at::Tensor& hr_p = high.p[level];
        const at::Tensor band = resize_like(transition(out.d[level], sizes[level]), hr_p);
        out.p[level] = band * hr_p.to(at::kFloat);
        out.d[level + 1] = pyramid.reconstruct(out.d[level], out.p[level]);
    }
    return out;
}

at::Tensor prediction(const at::Tensor& d0) {
    const at::Tensor pred = at::sigmoid(d0.to(at::kFloat));
    return (pred - pred.min()) / (pred.max() - pred.min() + 1e-8);
}

}  // namespace ps::inspyrenet
