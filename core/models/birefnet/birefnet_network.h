// The assembled BiRefNet on one device and dtype: the normalised image in, the last prediction's
// logits out (BiRefNet.forward in eval mode, scaled_preds[-1]).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <string>

#include "models/birefnet/birefnet_blocks.h"
#include "models/birefnet/birefnet_config.h"
#include "models/runtime/layers.h"
#include "models/runtime/swin_v1.h"

namespace ps::birefnet {

// The checkpoints of one forward (the golden files hold the same names).
struct BiRefNetSteps {
    at::Tensor x1, x2, x3, x4;  // forward_enc: both scales concatenated, x4 with the cxt maps
    at::Tensor x4_squeezed;     // squeeze_module(x4)
    at::Tensor logits;          // decoder's p1_out: 1 x 1 x H x W, before the sigmoid
};

class BiRefNetNetwork {
  public:
    // tensors: the state dict (wrapper prefixes "_orig_mod." / "module." allowed), on the target
    // device and in the target floating dtype.
    BiRefNetNetwork(const std::map<std::string, at::Tensor>& tensors, const BiRefNetConfig& config,
                    const std::string& file_label);

    const BiRefNetConfig& config() const { return config_; }
    at::ScalarType dtype() const { return dtype_; }
    at::Device device() const { return device_; }

    // input: N x 3 x H x W (H, W multiples of 32: the decoder cuts the image into 32 x 32, 16 x 16,
    // 8 x 8 and 4 x 4 patches, as image2patches requires) -> logits N x 1 x H x W in the model
    // dtype. Throws std::invalid_argument for other sizes.
    at::Tensor forward(const at::Tensor& input) const;
    BiRefNetSteps forward_steps(const at::Tensor& input) const;

  private:
    struct Level {  // one decoder level k = 4..2: out_ref's gradient attention on its output
        BasicDecBlock block;
        runtime::Conv2d gdt_conv, gdt_attention;  // gdt_convs_k (BatchNorm folded), .._attn_k
        runtime::Conv2d lateral;                  // lateral_block(k): the skip into level k-1
    };
    std::array<at::Tensor, 4> encode(const at::Tensor& x) const;
    at::Tensor decode(const at::Tensor& x, const std::array<at::Tensor, 4>& features) const;
    // ipt_blk(k): the image cut into patches of height x width and run through SimpleConvs.
    at::Tensor image_patches(int k, const at::Tensor& x, int64_t height, int64_t width) const;

    BiRefNetConfig config_;
    at::ScalarType dtype_;
    at::Device device_;
    runtime::SwinV1 backbone_;
    BasicDecBlock squeeze_;
    std::array<runtime::Conv2d, 5> ipt_conv1_, ipt_conv_out_;  // ipt_blk5..ipt_blk1
    std::array<Level, 3> levels_;                              // decoder_block4..2 and their skips
    BasicDecBlock block1_;                                     // decoder_block1
    // decoder.conv_out1 split over its input's two parts (it is 1 x 1): head_decoder_ meets
    // decoder_block1's output before the resize, head_patches_ is ipt_blk1.conv_out with
    // conv_out1's share folded in.
    runtime::Conv2d head_decoder_, head_patches_;
    // ipt_blk1.conv1 without its bias (a broadcast pass of its own over 64 channels at the
    // image's size on cuDNN), which head_patches_ carries instead: in its bias the bias's value
    // through head_patches_'s 3 x 3 taps, and on the border ring, where those taps read zero
    // padding instead, the outside taps' share subtracted (BorderCorrection).
    struct BorderCorrection {
        double top = 0, bottom = 0, left = 0, right = 0;  // the taps beyond each edge
        std::array<double, 4> corners{};  // the corner tap, subtracted twice: TL, TR, BL, BR
    };
    runtime::Conv2d head_input_;
    BorderCorrection head_border_;
    at::Tensor patches_head(const at::Tensor& x) const;  // head_patches_(ipt_blk1.conv1(x))
};

}  // namespace ps::birefnet
