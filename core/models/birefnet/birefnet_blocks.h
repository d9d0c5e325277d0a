// BiRefNet's decoder blocks (models/modules/{deform_conv,aspp,decoder_blocks}.py and SimpleConvs
// of birefnet.py) as plain structs of checkpoint tensors, every eval-mode BatchNorm folded into
// the convolution before it.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <string>

#include "models/runtime/layers.h"
#include "models/runtime/weights.h"

namespace ps::birefnet {

// _ASPPModuleDeformable: DeformableConv2d (offset = offset_conv(x), modulator =
// 2 * sigmoid(modulator_conv(x)), torchvision's deform_conv2d with regular_conv's weight), then
// BatchNorm and ReLU. offset_conv and modulator_conv read the same input with the same kernel, so
// they run as one convolution of 3k² outputs.
struct DeformableBranch {
    // 2k² offset channels, k² modulator channels, on CUDA zeros up to a multiple of 8 channels;
    // without its bias, which the deformable convolution's sampling adds (with the modulator's
    // 2 * sigmoid): runtime::DeformPredictedOffsets.
    runtime::Conv2d offset_and_modulator;
    at::Tensor offset_bias, modulator_bias;
    at::Tensor weight, bias;  // regular_conv with the BatchNorm folded in
    int64_t kernel = 1, padding = 0;
    static DeformableBranch load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                                 int64_t out, int64_t kernel);
    at::Tensor operator()(const at::Tensor& x) const;
};

// ASPPDeformable(in, parallel_block_sizes [1, 3, 7]): aspp1 (a 1 x 1 deformable branch), three
// deformable branches, a global-average-pool branch (conv, BatchNorm, ReLU; its 1 x 1 map
// "interpolated" to the input size is a broadcast), concatenated, conv1 + bn1 + ReLU; the
// Dropout(0.5) is the identity in eval mode.
struct AsppDeformable {
    DeformableBranch aspp1;
    std::array<DeformableBranch, 3> deforms;
    runtime::Conv2d pool_conv, conv1;  // BatchNorms folded
    static AsppDeformable load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                               int64_t channels);
    void set_fused_relu(bool enabled);  // cuDNN's convolution + ReLU for conv1 and pool_conv
    at::Tensor operator()(const at::Tensor& x) const;
};

// BasicDecBlk: conv_in (3 x 3) + bn_in + ReLU, dec_att (ASPPDeformable), conv_out (3 x 3) +
// bn_out (no activation).
struct BasicDecBlock {
    runtime::Conv2d conv_in, conv_out;  // BatchNorms folded
    AsppDeformable attention;
    static BasicDecBlock load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                              int64_t inter, int64_t aspp_channels, int64_t out);
    // cuDNN's convolution + ReLU (runtime::Conv2d::fused_relu) for conv_in and the ASPP's.
    void set_fused_relu(bool enabled);
    at::Tensor operator()(const at::Tensor& x) const;
};

// Convolution `conv_prefix` followed by the eval-mode BatchNorm `bn_prefix`, as one convolution.
runtime::Conv2d load_conv_batch_norm(const runtime::Weights& w, const std::string& conv_prefix,
                                     const std::string& bn_prefix, int64_t in, int64_t out,
                                     int64_t kernel, int64_t padding, bool conv_bias);

}  // namespace ps::birefnet
