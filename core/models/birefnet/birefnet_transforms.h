// BiRefNet's pre- and post-processing (tests/data/birefnet/README.md): the pre-processing of the
// official tutorial notebook and model card (tutorials/BiRefNet_inference.ipynb, transform_image),
// the post-processing of the repository's inference.py.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

namespace ps::birefnet {

// transforms.Resize((height, width)) on the PIL image: Image.resize((width, height),
// Image.BILINEAR), Pillow's bilinear with its antialiasing support when shrinking, on uint8,
// aspect ratio not kept (image::pil_resize_bilinear, bit-exact). rgb: CV_8UC3.
cv::Mat resize_for_birefnet(const cv::Mat& rgb, int width, int height);

// BiRefNet_dynamic at the image's own resolution, as dataset.py's MyData serves inference.py
// (data_size None): the size rounded down to multiples of 32 (at least 32: upstream would fail
// on a smaller image), Image.resize(size_div_32) with Pillow's default filter for RGB, bicubic
// (image::pil_resize_bicubic, bit-exact), when the size differs. Past `max_pixels` (upstream has
// no bound: a 48-megapixel photo would need tens of gigabytes) the image is first brought down,
// aspect ratio kept, to the largest multiples of 32 within it: by default 2304², the largest
// resolution of the model's dynamic-resolution training (its model card: 256² to 2304²).
constexpr int64_t kBiRefNetDynamicMaxPixels = int64_t{2304} * 2304;
cv::Mat resize_for_birefnet_dynamic(const cv::Mat& rgb,
                                    int64_t max_pixels = kBiRefNetDynamicMaxPixels);

// transforms.ToTensor (uint8 -> float32 / 255, HWC -> CHW) and Normalize(mean [0.485, 0.456,
// 0.406], std [0.229, 0.224, 0.225]: sub then div, in float32): 1 x 3 x H x W on `device`.
at::Tensor normalize_for_birefnet(const cv::Mat& resized_rgb, at::Device device);

// inference.py: scaled_preds[-1].sigmoid().to(float32) (the sigmoid in the model's dtype),
// F.interpolate(size=(height, width), mode='bilinear', align_corners=True), then
// save_tensor_img's ToPILImage: mul(255).byte(), which truncates. logits: 1 x 1 x h x w, any dtype
// and device. Returns the float matte 1 x 1 x height x width (float32, logits' device)...
at::Tensor soft_matte_from_logits(const at::Tensor& logits, int height, int width);
// ... and the 8-bit one (CV_8UC1).
cv::Mat matte_from_logits(const at::Tensor& logits, int height, int width);

}  // namespace ps::birefnet
