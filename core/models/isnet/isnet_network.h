// The assembled ISNetDIS on one device and dtype: input tensor in, the six sigmoid side maps out.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "models/isnet/isnet_config.h"
#include "models/runtime/layers.h"
#include "models/runtime/rsu_block.h"

namespace ps::isnet {

// sigmoid(d1) ... sigmoid(d6), each 1 x out_ch x H x W at the input's size, in the model dtype.
// d1 (the finest, from stage1d) is the prediction; the others are deep supervision.
using SideOutputs = std::array<at::Tensor, 6>;

class IsNetNetwork {
  public:
    // tensors: already on the target device and in the target floating dtype.
    IsNetNetwork(const std::map<std::string, at::Tensor>& tensors, const IsNetConfig& config,
                 const std::string& file_label);

    const IsNetConfig& config() const { return config_; }
    at::ScalarType dtype() const { return dtype_; }
    at::Device device() const { return device_; }

    // 1 x 3 x H x W float32 (normalised) -> d1..d6. Any H, W: conv_in halves (rounding up),
    // pooling rounds up, upsampling returns to each skip's exact size and the sides to H x W.
    SideOutputs forward(const at::Tensor& input) const;
    // d1 alone (what inference uses): the other five side maps are never computed.
    at::Tensor forward_d1(const at::Tensor& input) const;

  private:
    // stage1d..stage5d outputs and stage6's, decoded[k] feeding side k+1.
    std::array<at::Tensor, 6> decode(const at::Tensor& input) const;
    at::Tensor side(int k, const at::Tensor& decoded, const at::Tensor& input) const;

    IsNetConfig config_;
    at::ScalarType dtype_;
    at::Device device_;
    runtime::Conv2d conv_in_;
    std::vector<runtime::RsuBlock> stages_;  // in config_.stages order
    std::array<runtime::Conv2d, 6> sides_;   // side1..side6
};

}  // namespace ps::isnet
