// SAM's pre- and post-processing (SamPredictor + ResizeLongestSide), step by step.
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <vector>

#include "models/sam/sam_model.h"

namespace ps::sam {

struct Size2 {
    int height = 0, width = 0;
};

// ResizeLongestSide.get_preprocess_shape: scale the long side to `target`, round half up.
Size2 longest_side_size(Size2 original, int target);

// apply_image: Pillow-exact bilinear resize of an RGB u8 image to longest_side_size().
cv::Mat resize_longest_side(const cv::Mat& rgb, int target);

// (x - mean) / std per RGB channel in float32, then zero-pad bottom/right to target x target.
// resized_hwc: H' x W' x 3 uint8 tensor on any device. Returns 1 x 3 x target x target float.
at::Tensor normalize_and_pad(const at::Tensor& resized_hwc, int target);

// apply_coords: x * W'/W and y * H'/H in double, then rounded to float as the reference does.
float scale_coord(double value, int resized_extent, int original_extent);

// A prompt mapped into the model's input frame, as tensors on `device` (undefined when absent).
struct PromptTensors {
    at::Tensor point_coords;  // N x 2 float32
    std::vector<int> labels;
    at::Tensor box;         // [4] float32
    at::Tensor mask_input;  // 1 x 1 x 4G x 4G
};
PromptTensors prompt_to_tensors(const SamPrompt& prompt, Size2 original, Size2 resized,
                                at::Device device);

// postprocess_masks: logits (1 x M x h x w) bilinearly to target x target, crop to the resized
// image, bilinearly to the original size (align_corners=False throughout). Float in, float out.
at::Tensor upscale_logits(const at::Tensor& low_res_logits, int target, Size2 resized,
                          Size2 original);

// The same post-processing on the CPU, straight to 0/255 masks at the original size
// (logits > 0), without a full-size float image. Interpolated values are cv::resize's
// INTER_LINEAR to the bit (which maps pixel centres as align_corners=False does; only float
// rounding of the weights differs from ATen, which moves no pixel but those with |logit| ~ 1e-6);
// tiles whose logits all have one sign are filled without interpolating.
// Measured on the 2-core machine, three 2048x1536 masks from 256x256 logits, fastest of 25 on
// both cores: two cv::resize + cv::compare 5-6.7 ms; this 1.2 ms on smooth logits, 3.4 ms on
// white noise, 0.5 ms where every tile has one sign.
// low_res_logits: 1 x M x h x w float32 on the CPU. Throws std::invalid_argument otherwise, or
// when `resized` does not fit in target x target.
std::vector<cv::Mat> threshold_masks_cpu(const at::Tensor& low_res_logits, int target,
                                         Size2 resized, Size2 original);

}  // namespace ps::sam
