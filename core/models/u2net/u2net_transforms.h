// U²-Net's pre- and post-processing, step by step (../shared/golden/README.md, "U²-NetP").
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

namespace ps::u2net {

// RescaleT(320) as the golden reference runs it: Pillow-exact BILINEAR to size x size (aspect
// ratio not kept). rgb: CV_8UC3. Returns CV_8UC3.
cv::Mat resize_for_u2net(const cv::Mat& rgb, int size);

// ToTensorLab(flag=0): divide by the maximum of the whole u8 array (not by 255), then
// (x - mean) / std with ImageNet statistics, computed in float64 as numpy does, returned as a
// 1 x 3 x H x W float32 tensor on `device`. An all-black image (maximum 0, NaN in the
// reference) is divided by 1 instead.
at::Tensor normalize_for_u2net(const cv::Mat& resized_rgb, at::Device device);

// normPRED + resize: m = (d0 - min) / (max - min) in float32, bilinear (align_corners=False) to
// height x width, 8-bit = round(m * 255). d0: 1 x 1 x h x w, any dtype and device. A flat d0
// (max == min, NaN in the reference) gives an all-zero matte. Returns CV_8UC1.
cv::Mat matte_from_d0(const at::Tensor& d0, int height, int width);

// The same matte before quantisation: 1 x 1 x height x width float32 in [0, 1], on d0's device.
at::Tensor soft_matte_from_d0(const at::Tensor& d0, int height, int width);

}  // namespace ps::u2net
