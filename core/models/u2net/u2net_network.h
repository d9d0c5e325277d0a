// The assembled U²-Net on one device and dtype: input tensor in, the seven sigmoid maps out.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "models/runtime/layers.h"
#include "models/runtime/rsu_block.h"
#include "models/u2net/u2net_config.h"

namespace ps::u2net {

// sigmoid(d0) ... sigmoid(d6), each 1 x out_ch x H x W at the input's size, in the model dtype.
using SideOutputs = std::array<at::Tensor, 7>;

class U2NetNetwork {
  public:
    // tensors: already on the target device and in the target floating dtype.
    U2NetNetwork(const std::map<std::string, at::Tensor>& tensors, const U2NetConfig& config,
                 const std::string& file_label);

    const U2NetConfig& config() const { return config_; }
    at::ScalarType dtype() const { return dtype_; }
    at::Device device() const { return device_; }

    // 1 x 3 x H x W float32 (normalised) -> d0..d6. Any H, W: pooling rounds up, upsampling
    // returns to each skip's exact size.
    SideOutputs forward(const at::Tensor& input) const;

  private:
    U2NetConfig config_;
    at::ScalarType dtype_;
    at::Device device_;
    std::vector<runtime::RsuBlock> stages_;  // in config_.stages order
    std::array<runtime::Conv2d, 6> sides_;   // side1..side6
    runtime::Conv2d outconv_;
};

}  // namespace ps::u2net
