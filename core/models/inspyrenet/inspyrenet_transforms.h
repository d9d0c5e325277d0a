// InSPyReNet's pre- and post-processing as transparent-background's Remover.process runs them
// on a PIL image (its CLI and its Python API with a PIL input), and the official
// InSPyReNet's dynamic resize for the high-resolution inference (tests/data/inspyrenet/README.md):
//  1. static_resize: PIL Image.resize((base, base), Image.BILINEAR) of the RGB uint8 image (PIL's
//     bilinear, antialiased when shrinking, rounded to uint8; aspect ratio not kept);
//  2. tonumpy: np.array(img, float32); normalize: img /= 255 (float32), img -= mean and
//     img /= std with mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) as numpy float64
//     lists (each step computed in float64 and stored back in float32); totensor: HWC -> CHW;
//  3. the network's pred: sigmoid(d0), (pred - min) / (max - min + 1e-8) (in the model);
//  4. F.interpolate(pred, (H, W), mode="bilinear", align_corners=True) in float32;
//  5. the alpha / "map" output: (pred * 255).astype(np.uint8), which truncates.
// (Its numpy-array input path resizes with albumentations/OpenCV instead, and its "rgba" output
// also re-estimates the foreground colours with pymatting; neither is reproduced.)
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <opencv2/core/mat.hpp>

namespace ps::inspyrenet {

// Steps 1-2: rgb (CV_8UC3) -> 1 x 3 x height x width float32 on `device` in `format` (the resize
// on the CPU; the bytes travel and the arithmetic runs on the device, in the same float32 /
// float64 steps).
at::Tensor input_for_inspyrenet(const cv::Mat& rgb, int width, int height,
                                at::Device device = at::kCPU,
                                at::MemoryFormat format = at::MemoryFormat::Contiguous);

// Steps 4-5: pred (1 x 1 x h x w, any dtype and device) -> the float matte at height x width
// (1 x 1 x H x W float32 on pred's device) ...
at::Tensor soft_matte_from_pred(const at::Tensor& pred, int height, int width);
// ... and the 8-bit one (CV_8UC1).
cv::Mat matte_from_pred(const at::Tensor& pred, int height, int width);

// The official data/custom_transforms.py dynamic_resize(L): the shorter side brought down to
// `long_side` L when it exceeds it, each side then rounded to a multiple of 32. Returns
// (width, height).
cv::Size dynamic_size(int width, int height, int long_side);

}  // namespace ps::inspyrenet
