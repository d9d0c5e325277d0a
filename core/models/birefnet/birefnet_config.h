// BiRefNet (ZhengPeng7/BiRefNet, models/birefnet.py) architecture read off a checkpoint's shapes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"
#include "models/runtime/swin_v1.h"
#include "models/runtime/tensor_specs.h"

namespace at {
class Tensor;
}

namespace ps::birefnet {

// The published configuration (config.py): mul_scl_ipt 'cat' (the backbone also runs on the
// half-size image; each level concatenates both), cxt 3 (x1..x3 resized onto x4), squeeze
// BasicDecBlk_x1, dec_blk BasicDecBlk with dec_att ASPPDeformable, lat_blk BasicLatBlk, dec_ipt
// with split patches (SimpleConvs ipt_blk5..1), out_ref's gradient attention (gdt_convs_k,
// gdt_convs_attn_k) applied at inference; ms_supervision's conv_ms_spvn_k and gdt_convs_pred_k
// are in the file but used only in training. BatchNorm everywhere batch_size > 1 builds it.
struct BiRefNetConfig {
    // "birefnet" (Swin-L: BiRefNet, BiRefNet_HR, BiRefNet_dynamic, ... share these shapes),
    // "birefnet_lite" (Swin-T: BiRefNet_lite, BiRefNet_lite-2K), "birefnet_custom" otherwise.
    std::string arch;
    std::string backbone_name;  // "swin_v1_l", "swin_v1_t", ... or "" (custom widths)
    runtime::SwinV1Config backbone;
    // lateral_channels_in_collection: x4, x3, x2, x1 (deepest first), twice the backbone's
    // stage widths because of mul_scl_ipt 'cat'.
    std::array<int64_t, 4> channels{};
    int64_t dec_inter = 64;       // BasicDecBlk's inter_channels (dec_channels_inter 'fixed')
    int64_t aspp_channels = 256;  // ASPPDeformable's in_channelster
    int64_t ipt_inter = 64;       // SimpleConvs' inter_channels
    int64_t gdt_channels = 16;    // out_ref's _N
    // The image is resized to this (width x height) before the network; not stored in the file:
    // 1024 x 1024 (config.size) unless the file name says _HR (2048 x 2048) or 2K (2560 x 1440).
    int64_t input_width = 1024, input_height = 1024;
    // BiRefNet_dynamic (trained on 256..2304 sizes) runs at the image's own size rounded down to
    // multiples of 32, as inference.py's loader does with data_size None ("dynamic" in the file
    // name); input_width / input_height are then only the nominal 1024.
    bool dynamic_input = false;
    std::string input_size_source = "config.size default";
    int64_t parameter_count = 0;
    std::string dtype;
    // cuDNN's fused convolution + ReLU for the decoder's conv + BatchNorm + ReLU triples
    // (runtime::Conv2d::fused_relu); the load sets it (GpuSwitches::cudnn_conv_relu).
    bool cudnn_conv_relu = true;

    // ipt_blk5..ipt_blk1 input channels: 3 * (patch grid)², the image cut into 32², 16², 8², 4²
    // and 1 patches (dec_ipt_split).
    static constexpr std::array<int64_t, 5> ipt_in{3072, 768, 192, 48, 3};
    int64_t ipt_out(int i) const { return channels[i] / 8; }  // ipt_blk_out_channels[i]
    // decoder_block4..1 output channels.
    int64_t dec_out(int i) const { return i < 3 ? channels[i + 1] : channels[3] / 2; }
    int64_t dec_in(int i) const { return channels[i] + ipt_out(i > 0 ? i - 1 : 0); }
    int64_t squeeze_in() const { return channels[0] + channels[1] + channels[2] + channels[3]; }

    std::string describe() const;  // one line, for `info` and logs
    // Which published checkpoints this layout is ("BiRefNet, BiRefNet_HR, BiRefNet_dynamic and
    // the other Swin-L checkpoints (identical shapes)").
    std::string variants() const;
};

// Keys of a torch.compile'd or DataParallel model ("_orig_mod.", "module.", in either order)
// dropped, as utils.check_state_dict does before load_state_dict.
std::map<std::string, at::Tensor> strip_wrapper_prefixes(
    const std::map<std::string, at::Tensor>& tensors);

// Whether the keys are BiRefNet's (its Swin patch embedding or its decoder's output convolution,
// wrapper prefixes allowed): past that, infer_birefnet_config's error is the one that helps.
bool looks_like_birefnet(const std::map<std::string, at::Tensor>& tensors);

// Infers the widths, or explains what the file is if it is not BiRefNet. Takes the file's keys as
// they are (wrapper prefixes allowed). file_name: the input size follows it (_HR, 2K).
Result<BiRefNetConfig> infer_birefnet_config(const std::map<std::string, at::Tensor>& tensors,
                                             const std::string& file_label);

// "birefnet" (BiRefNet, general, 1024²), "birefnet_hr" (2048²), "birefnet_dynamic" (1024²),
// "birefnet_lite" (1024²), "birefnet_lite_2k" (2560 x 1440). Throws std::invalid_argument.
BiRefNetConfig official_birefnet_config(const std::string& variant);

// Every key and shape of the state dict (BatchNorm counters and relative_position_index integer).
runtime::TensorSpecs birefnet_tensor_specs(const BiRefNetConfig& config);

}  // namespace ps::birefnet
