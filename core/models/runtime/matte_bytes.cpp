#include "models/runtime/matte_bytes.h"

#include <ATen/ATen.h>

#include <cstring>
#include <stdexcept>

#include "models/runtime/host_masks.h"

namespace ps::runtime {

cv::Mat matte_bytes(const at::Tensor& soft, MatteRounding rounding) {
    if (!soft.defined() || soft.dim() != 4 || soft.size(0) != 1 || soft.size(1) != 1) {
        throw std::invalid_argument("matte_bytes: the matte must be a 1 x 1 x H x W tensor");
    }
    at::Tensor scaled = soft * 255.0f;
    if (rounding == MatteRounding::Round) scaled = at::round(scaled);
    // The float -> uint8 conversion truncates toward zero; clamped first so nothing wraps.
    const at::Tensor device_bytes = scaled.clamp_(0, 255).to(at::kByte);
    // From a GPU the DMA writes a pinned Mat directly (masks_to_host), instead of a pageable
    // copy through the driver's staging buffer and a memcpy into the Mat.
    if (device_bytes.is_cuda()) return masks_to_host(device_bytes).front();
    const at::Tensor bytes = device_bytes.contiguous();
    const int height = static_cast<int>(soft.size(2)), width = static_cast<int>(soft.size(3));
    cv::Mat matte(height, width, CV_8UC1);
    std::memcpy(matte.data, bytes.data_ptr<uint8_t>(), static_cast<size_t>(height) * width);
    return matte;
}

}  // namespace ps::runtime
