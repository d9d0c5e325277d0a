// ISNetDIS.forward of DIS's isnet.py: U²-Net's RSU encoder-decoder behind a stride-2 stem, each
// side map upsampled to the input before its sigmoid, no fusing outconv.
#include "models/isnet/isnet_network.h"

#include <ATen/ATen.h>

namespace ps::isnet {

IsNetNetwork::IsNetNetwork(const std::map<std::string, at::Tensor>& tensors,
                           const IsNetConfig& config, const std::string& file_label)
    : config_(config), dtype_(at::kFloat), device_(at::kCPU) {
    const runtime::Weights w(tensors, file_label);
    const at::Tensor& first = w.get("conv_in.weight");
    dtype_ = first.scalar_type();
    device_ = first.device();
    conv_in_ = runtime::Conv2d::load(w, "conv_in", 3, config.stem_ch, 3, 2, 1, 1, true);
    for (const runtime::RsuConfig& stage : config.stages) {
        stages_.push_back(runtime::RsuBlock::load(w, stage));
        stages_.back().set_fused_relu(config.cudnn_conv_relu);
    }
    for (int k = 0; k < 6; ++k) {
        sides_[k] = runtime::Conv2d::load(w, "side" + std::to_string(k + 1), config.side_in[k],
                                          config.out_ch, 3, 1, 1, 1, true);
    }
}

std::array<at::Tensor, 6> IsNetNetwork::decode(const at::Tensor& input) const {
    // Encoder: stage1 on conv_in's half-size map (pool_in is built but not used in the
    // reference), then stage2..stage6 with a ceil-mode pool between consecutive stages.
    std::array<at::Tensor, 6> encoded;
    encoded[0] = stages_[0](conv_in_(input.to(dtype_)));
    for (int k = 1; k < 6; ++k) encoded[k] = stages_[k](runtime::max_pool_2x2_ceil(encoded[k - 1]));
    // Decoder: stage5d..stage1d, each on the deeper output upsampled to its skip's size.
    std::array<at::Tensor, 6> decoded;
    decoded[5] = encoded[5];
    for (int k = 4; k >= 0; --k) {
        decoded[k] = stages_[10 - k](runtime::upsample_concat(decoded[k + 1], encoded[k]));
    }
    return decoded;
}

at::Tensor IsNetNetwork::side(int k, const at::Tensor& decoded, const at::Tensor& input) const {
    // d_k = _upsample_like(side_k(hx_kd), x), then F.sigmoid: bilinear on logits, not on
    // probabilities.
    return at::sigmoid(runtime::upsample_like(sides_[k](decoded), input));
}

SideOutputs IsNetNetwork::forward(const at::Tensor& input) const {
    const std::array<at::Tensor, 6> decoded = decode(input);
    SideOutputs out;
    for (int k = 0; k < 6; ++k) out[k] = side(k, decoded[k], input);
    return out;
}

at::Tensor IsNetNetwork::forward_d1(const at::Tensor& input) const {
    return side(0, decode(input)[0], input);
}

}  // namespace ps::isnet
