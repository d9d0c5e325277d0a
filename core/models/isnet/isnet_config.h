// ISNet (DIS's ISNetDIS: rembg's isnet-general-use) architecture read off a checkpoint's shapes.
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

namespace ps::isnet {

struct IsNetConfig {
    std::string arch;      // "isnet" (isnet-general-use.pth and DIS's isnet.pth) or "isnet_custom"
    int64_t stem_ch = 64;  // conv_in: 3x3 stride-2 convolution from RGB to stage1's input
    // Encoder stage1..stage6, then decoder stage5d..stage1d (runtime::rsu_stage_layout).
    std::vector<runtime::RsuConfig> stages;
    std::array<int64_t, 6> side_in{};  // side k reads stage kd, side6 reads stage6
    int64_t out_ch = 1;
    // Inference.py's input_size: every image is resized to this square. Not stored in the file.
    int64_t input_size = 1024;
    int64_t parameter_count = 0;
    std::string dtype;  // dtype of the floating tensors as stored, e.g. "float32"
    // cuDNN's fused convolution + ReLU where LibTorch offers it (runtime::ReBnConv::fused_relu).
    bool cudnn_conv_relu = true;

    std::string describe() const;  // one line, for `info` and logs
};

// Infers the widths, or explains what the file is if it is not ISNetDIS
// ("u2net.pth: looks like a U²-Net checkpoint (outconv.*, no conv_in.*), not ISNet").
Result<IsNetConfig> infer_isnet_config(const std::map<std::string, at::Tensor>& tensors,
                                       const std::string& file_label);

// The released widths: "isnet" (ISNetDIS() of isnet.py). Throws std::invalid_argument otherwise.
IsNetConfig official_isnet_config(const std::string& arch);

// Every tensor name and shape of a state dict for `config`, with the official key names.
runtime::TensorSpecs isnet_tensor_specs(const IsNetConfig& config);

}  // namespace ps::isnet
