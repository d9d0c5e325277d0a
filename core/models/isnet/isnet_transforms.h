// ISNet's pre- and post-processing as DIS's IS-Net/Inference.py runs them
// (tests/data/isnet/README.md).
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

namespace ps::isnet {

// torch.tensor(im, float32).permute(2, 0, 1), F.upsample(..., [size, size], mode="bilinear")
// (align_corners=False, no antialiasing, aspect ratio not kept), .type(torch.uint8) (truncates).
// rgb: CV_8UC3. Returns 1 x 3 x size x size uint8 on the CPU, in the channels-last layout the
// reference's permute leaves it in (the upsampling kernel follows the layout); for an image of
// that size already, a view of rgb's own bytes (valid while rgb is).
at::Tensor resize_for_isnet(const cv::Mat& rgb, int size);

// torch.divide(im, 255.0), then normalize(mean 0.5, std 1.0): a 1 x 3 x H x W float32 on
// `device`. Not U²-Net's ImageNet statistics nor rembg's (mean 0.485/0.456/0.406, see README).
at::Tensor normalize_for_isnet(const at::Tensor& resized, at::Device device);

// The first side output to the image size, then min-max: F.upsample(d1, (height, width),
// bilinear) in float32, m = (x - min) / (max - min). d1: 1 x 1 x h x w, any dtype and device;
// returns 1 x 1 x height x width float32 on d1's device. A flat d1 (max == min, NaN in the
// reference) gives all zeros. (U²-Net normalises before resizing; ISNet after.)
at::Tensor soft_matte_from_d1(const at::Tensor& d1, int height, int width);

// The 8-bit matte Inference.py saves: (m * 255).astype(np.uint8), which truncates (U²-Net's
// golden rounds). Returns CV_8UC1.
cv::Mat matte_from_d1(const at::Tensor& d1, int height, int width);

}  // namespace ps::isnet
