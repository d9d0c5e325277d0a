// The 8-bit matte every background-removal family hands back: a float matte in [0, 1] times 255,
// rounded the way that family's official script rounds, clamped, and copied to the host.
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

namespace ps::runtime {

// Truncate: numpy's astype(np.uint8) and Tensor.byte() (ISNet, BiRefNet, InSPyReNet);
// Round: to nearest (the U²-Net golden data's rounding).
enum class MatteRounding { Truncate, Round };

// soft: 1 x 1 x H x W (any float dtype, any device), values in [0, 1]. Returns CV_8UC1 H x W.
cv::Mat matte_bytes(const at::Tensor& soft, MatteRounding rounding);

}  // namespace ps::runtime
