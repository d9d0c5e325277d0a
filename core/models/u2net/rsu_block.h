// U²-Net's building blocks (REBNCONV and the residual U-blocks) as plain structs of tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "models/runtime/weights.h"
#include "models/u2net/u2net_config.h"

namespace ps::u2net {

// REBNCONV: 3x3 convolution (dilation d, padding d) + eval-mode BatchNorm + ReLU. Keys
// `<prefix>.conv_s1.*` and `<prefix>.bn_s1.*`. (runtime::ConvBatchNorm has other key names and no
// dilation, so it does not fit.) The BatchNorm is folded into the convolution at load
// (runtime::fold_batch_norm); on CUDA the ReLU runs inside cuDNN's convolution where LibTorch
// offers it (fused_relu).
struct ReBnConv {
    at::Tensor weight, bias;  // the BatchNorm folded in
    int64_t dilation = 1;
    bool fused_relu = false;  // at::cudnn_convolution_relu: CUDA, LibTorch >= 2, not disabled
    static ReBnConv load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                         int64_t out, int64_t dilation);
    at::Tensor operator()(const at::Tensor& x) const;
};

// RSU-L: an L-level U-Net inside one stage, with a residual connection (u2net.py RSU7..RSU4),
// or RSU-4F, which replaces pooling by growing dilations.
struct RsuBlock {
    RsuConfig config;
    ReBnConv in;
    std::vector<ReBnConv> encoder;  // rebnconv1..L
    std::vector<ReBnConv> decoder;  // rebnconv1d..(L-1)d, decoder[k - 1] is rebnconv<k>d
    static RsuBlock load(const runtime::Weights& w, const RsuConfig& config);
    at::Tensor operator()(const at::Tensor& x) const;
};

// nn.MaxPool2d(2, stride=2, ceil_mode=True): odd sizes keep their last row/column.
at::Tensor pool_ceil(const at::Tensor& x);

// _upsample_like: bilinear, align_corners=False, to the exact spatial size of `like`.
at::Tensor upsample_like(const at::Tensor& x, const at::Tensor& like);

}  // namespace ps::u2net
