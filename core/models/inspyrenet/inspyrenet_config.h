// InSPyReNet (Kim et al. 2022, "Revisiting image pyramid structure for high resolution salient
// object detection"; transparent-background's checkpoints) architecture read off a checkpoint's
// shapes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"
#include "models/runtime/res2net.h"
#include "models/runtime/swin_v1.h"
#include "models/runtime/tensor_specs.h"

namespace at {
class Tensor;
}

namespace ps::inspyrenet {

enum class Backbone { Res2Net50, SwinB };

struct InSPyReNetConfig {
    // "inspyrenet_res2net50" (InSPyReNet_Res2Net50), "inspyrenet_swinb" (InSPyReNet_SwinB:
    // transparent-background's ckpt_base.pth and ckpt_fast.pth, the same layout), or
    // "inspyrenet_custom" for other widths.
    std::string arch;
    Backbone backbone = Backbone::SwinB;
    runtime::Res2NetConfig res2net;  // when backbone == Res2Net50
    runtime::SwinV1Config swin;      // when backbone == SwinB
    // The backbone's five maps feeding context1..context5 (SwinB: the patch embedding, then the
    // four stages; Res2Net50: the stem's pooled map, then layer1..layer4).
    std::array<int64_t, 5> in_channels{};
    int64_t depth = 64;  // InSPyReNet's `depth`: every decoder width
    // Not in the file: the square every image is resized to and from which SICA's context
    // sizes follow (base_size // 2^stage). transparent-background: "base" 1024, "fast" 384
    // (its config.yaml; the two checkpoints have identical shapes), told apart by the file name
    // (ckpt_fast.pth); InSPyReNet_Res2Net50.yaml: 384.
    int64_t base_size = 1024;
    std::string mode;  // "base", "fast" (SwinB, from the file name) or "" (Res2Net50)
    // The official high-resolution inference (InSPyReNet_SwinB.yaml: Test dynamic_resize L 1280,
    // Model threshold 512), used only when asked for (transparent-background passes
    // threshold=None and never blends).
    int64_t hr_long_side = 1280;  // dynamic_resize's L
    int64_t hr_threshold = 512;
    int64_t parameter_count = 0;
    std::string dtype;  // dtype of the floating tensors as stored, e.g. "float32"
    // runtime::GpuSwitches: SICA's convolution + ReLU pairs as one cuDNN kernel on CUDA.
    bool cudnn_conv_relu = true;

    std::string backbone_name() const;  // "Res2Net50-v1b" or "Swin-B"
    std::string describe() const;       // one line, for `info` and logs
};

// Infers the widths, or explains what the file is if it is not InSPyReNet. file_label's name
// decides the mode of a Swin-B file: "fast" in it gives 384, otherwise "base" (1024).
Result<InSPyReNetConfig> infer_inspyrenet_config(const std::map<std::string, at::Tensor>& tensors,
                                                 const std::string& file_label);

// The released variants: "inspyrenet_res2net50", "inspyrenet_swinb" (base mode; fast mode is
// the same layout at base_size 384). Throws std::invalid_argument otherwise.
InSPyReNetConfig official_inspyrenet_config(const std::string& arch);

// Every tensor name and shape of a state dict for `config`, with the official key names.
runtime::TensorSpecs inspyrenet_tensor_specs(const InSPyReNetConfig& config);

}  // namespace ps::inspyrenet
