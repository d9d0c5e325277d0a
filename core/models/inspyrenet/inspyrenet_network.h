// The assembled InSPyReNet on one device and dtype: a normalised image in, its saliency pyramid
// out (lib/InSPyReNet.py: forward_inspyre, and forward_inference's pyramid blending).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/inspyrenet/inspyrenet_blocks.h"
#include "models/inspyrenet/inspyrenet_config.h"
#include "models/inspyrenet/inspyrenet_pyramid.h"
#include "models/runtime/res2net.h"
#include "models/runtime/swin_v1.h"

namespace ps::inspyrenet {

class InSPyReNetNetwork {
  public:
    // tensors: already on the target device and in the target floating dtype.
    InSPyReNetNetwork(const std::map<std::string, at::Tensor>& tensors,
                      const InSPyReNetConfig& config, const std::string& file_label);

    const InSPyReNetConfig& config() const { return config_; }
    at::ScalarType dtype() const { return dtype_; }
    at::Device device() const { return device_; }

    // The backbone's five maps (x1..x5 of forward_inspyre), in the model dtype and the weights'
    // memory format.
    std::vector<at::Tensor> backbone(const at::Tensor& input) const;
    // forward_inspyre: 1 x 3 x H x W float32 (normalised) -> d3..d0, p2..p0 (float32). H and W
    // multiples of 32 for Swin-B (its patch merges); the reference resizes to base_size.
    SaliencyPyramid forward_pyramid(const at::Tensor& input) const;
    // forward_inference with threshold: both pyramids and their blending when H and W of
    // `high` exceed the threshold, else forward_pyramid(low) (the reference's `image_resized`).
    SaliencyPyramid forward_blended(const at::Tensor& high, const at::Tensor& low,
                                    int64_t threshold) const;
    // InSPyReNet's `pred` (min-max of sigmoid(d0)) of forward_pyramid: 1 x 1 x H x W float32.
    at::Tensor forward(const at::Tensor& input) const;

  private:
    InSPyReNetConfig config_;
    at::ScalarType dtype_;
    at::Device device_;
    // The weights' layout (channels-last in half precision on CUDA, place_conv_tensors): the input
    // is brought to it, and every map then stays in it.
    at::MemoryFormat memory_format_;
    std::optional<runtime::Res2Net> res2net_;
    std::optional<runtime::SwinV1> swin_;
    std::array<PaaE, 5> context_;
    PaaD decoder_;
    std::array<Sica, 3> attention_;  // attention0, attention1, attention2
    ImagePyramid pyramid_;
};

}  // namespace ps::inspyrenet
