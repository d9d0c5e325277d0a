// U2NET.forward / U2NETP.forward of u2net.py (the two differ only in widths).
#include "models/u2net/u2net_network.h"

#include <ATen/ATen.h>

namespace ps::u2net {

U2NetNetwork::U2NetNetwork(const std::map<std::string, at::Tensor>& tensors,
                           const U2NetConfig& config, const std::string& file_label)
    : config_(config), dtype_(at::kFloat), device_(at::kCPU) {
    const runtime::Weights w(tensors, file_label);
    const at::Tensor& first = w.get("stage1.rebnconvin.conv_s1.weight");
    dtype_ = first.scalar_type();
    device_ = first.device();
    for (const RsuConfig& stage : config.stages) {
        stages_.push_back(runtime::RsuBlock::load(w, stage));
        stages_.back().set_fused_relu(config.cudnn_conv_relu);
    }
    for (int k = 0; k < 6; ++k) {
        sides_[k] = runtime::Conv2d::load(w, "side" + std::to_string(k + 1), config.side_in[k],
                                          config.out_ch, 3, 1, 1, 1, true);
    }
    outconv_ =
        runtime::Conv2d::load(w, "outconv", 6 * config.out_ch, config.out_ch, 1, 1, 0, 1, true);
}

SideOutputs U2NetNetwork::forward(const at::Tensor& input) const {
    // Encoder: stage1..stage6 with a ceil-mode pool between consecutive stages.
    std::array<at::Tensor, 6> encoded;
    at::Tensor x = input.to(dtype_);
    for (int k = 0; k < 6; ++k) {
        encoded[k] = stages_[k](k == 0 ? x : runtime::max_pool_2x2_ceil(encoded[k - 1]));
    }
    // Decoder: stage5d..stage1d, each on the deeper output upsampled to its skip's size.
    // decoded[k] is stage<k+1>d's output; decoded[5] stands for stage6 (side6 reads it).
    std::array<at::Tensor, 6> decoded;
    decoded[5] = encoded[5];
    for (int k = 4; k >= 0; --k) {
        decoded[k] = stages_[10 - k](runtime::upsample_concat(decoded[k + 1], encoded[k]));
    }
    // Side outputs, all brought to side1's size, fused by the 1x1 outconv.
    std::array<at::Tensor, 6> sides;
    sides[0] = sides_[0](decoded[0]);
    for (int k = 1; k < 6; ++k) sides[k] = runtime::upsample_like(sides_[k](decoded[k]), sides[0]);
    const at::Tensor fused =
        outconv_(at::cat({sides[0], sides[1], sides[2], sides[3], sides[4], sides[5]}, 1));
    SideOutputs out;
    out[0] = at::sigmoid(fused);
    for (int k = 0; k < 6; ++k) out[k + 1] = at::sigmoid(sides[k]);
    return out;
}

}  // namespace ps::u2net
