// U²-Net architecture read off a checkpoint's tensor shapes (U²-Net, U²-NetP and their retrains).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/rsu_block.h"
#include "models/runtime/tensor_specs.h"

namespace at {
class Tensor;
}

namespace ps::u2net {

using runtime::RsuConfig;

struct U2NetConfig {
    std::string arch;  // "u2net", "u2netp" or "u2net_custom"
    // Encoder stage1..stage6, then decoder stage5d..stage1d: the order the forward pass runs.
    std::vector<RsuConfig> stages;
    // Input widths of side1..side6 (side k reads stage kd, side6 reads stage6).
    std::array<int64_t, 6> side_in{};
    int64_t out_ch = 1;        // channels of each side output (1 for every released model)
    int64_t input_size = 320;  // the official test-time resolution (RescaleT(320))
    int64_t parameter_count = 0;
    std::string dtype;  // dtype of the floating tensors as stored, e.g. "float32"
    // cuDNN's fused convolution + ReLU where LibTorch offers it (ReBnConv::fused_relu); false
    // for builds whose cuDNN lacks it, and to compare (U2NetOptions::gpu.cudnn_conv_relu).
    bool cudnn_conv_relu = true;

    const RsuConfig& stage(const std::string& name) const;
    std::string describe() const;  // one line, for `info` and logs
};

// Infers the widths, or explains what the file is if it is not U²-Net
// ("sam_vit_b.pth: looks like a Segment Anything checkpoint (image_encoder.*), not U²-Net").
Result<U2NetConfig> infer_u2net_config(const std::map<std::string, at::Tensor>& tensors,
                                       const std::string& file_label);

// The released widths: "u2net" (u2net.pth, u2net_human_seg.pth, u2net_portrait.pth) and
// "u2netp". Throws std::invalid_argument on other names.
U2NetConfig official_u2net_config(const std::string& arch);

// Every tensor name and shape of a state dict for `config`, with the official key names.
std::map<std::string, runtime::TensorSpec> u2net_tensor_specs(const U2NetConfig& config);

}  // namespace ps::u2net
