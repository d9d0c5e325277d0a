// SAM2ImagePredictor's transforms (sam2/utils/transforms.py, SAM2Transforms with torchvision
// >= 0.17 as the official requirements pin): the RGB image to float32 in [0, 1] (ToTensor),
// resized to image_size x image_size without keeping the aspect ratio by bilinear interpolation
// on floats with antialiasing (Resize on a tensor: F.interpolate(antialias=True,
// align_corners=False)), normalised with ImageNet's mean (0.485, 0.456, 0.406) and std
// (0.229, 0.224, 0.225); prompts in original pixels scaled by image_size / width and
// image_size / height (in float32, divide then multiply as transform_coords does); the
// low-resolution logits bilinearly upsampled (no antialiasing, align_corners=False) to the
// original size and thresholded at 0 (mask_threshold; no hole / sprinkle filling, the
// predictor's defaults). Low-resolution logits handed back are clamped to ±32.
#pragma once

#include <ATen/core/Tensor.h>

#include <opencv2/core/mat.hpp>

#include <vector>

#include "models/runtime/segmentation_types.h"

namespace ps::sam2 {

// CV_8UC3 RGB -> 1 x 3 x size x size float32 on `device`.
at::Tensor preprocess_for_sam2(const cv::Mat& rgb, int64_t size, const at::Device& device);

// N x 2 original-pixel (x, y) coordinates, float32, to the model's input frame.
at::Tensor coords_to_input_frame(const at::Tensor& coords, int height, int width, int64_t size);

// _prep_prompts and _predict: the box's corners first (labels 2 and 3), then the points, in the
// input frame (coords_to_input_frame); no coordinates (undefined) when the prompt has neither.
struct Sam2PromptPoints {
    at::Tensor coords;  // N x 2 float32 on `device`
    std::vector<int> labels;
};
Sam2PromptPoints prompt_points(const runtime::Prompt& prompt, int height, int width, int64_t size,
                               const at::Device& device);

// 1 x M x h x w logits -> 1 x M x height x width float32 logits (F.interpolate bilinear).
at::Tensor upscale_logits(const at::Tensor& low_res, int height, int width);

}  // namespace ps::sam2
