// A bias-free convolution and the eval-mode BatchNorm after it, folded into one convolution at
// load: Res2Net's and InSPyReNet's every conv + bn pair. Any kernel shape, stride, padding and
// dilation (InSPyReNet's (1, k) and (k, 1) kernels, Res2Net's dilated layers).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "models/runtime/tensor_specs.h"
#include "models/runtime/weights.h"

namespace ps::runtime {

struct ConvGeometry {
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation = 1;
};

struct FoldedConv2d {
    at::Tensor weight, bias;  // bias: the BatchNorm's shift (or undefined without one)
    ConvGeometry geometry;
    bool relu = false;
    // With relu: cuDNN's fused convolution + bias + ReLU on CUDA (one kernel instead of the
    // convolution and a clamp pass over its output) where LibTorch offers it (>= 2). Off unless
    // a family turns it on (GpuSwitches::cudnn_conv_relu), as ReBnConv::fused_relu.
    bool fused_relu = false;

    // conv_key: "<prefix>.weight" of shape [out, in, kh, kw]; bn_prefix: "<prefix>" holding
    // weight, bias, running_mean, running_var ("" for a convolution without BatchNorm).
    static FoldedConv2d load(const Weights& w, const std::string& conv_key,
                             const std::string& bn_prefix, int64_t in, int64_t out,
                             const ConvGeometry& geometry, bool relu);
    at::Tensor operator()(const at::Tensor& x) const;
    int64_t out_channels() const { return weight.size(0); }
};

// The keys of such a pair: conv_key [out, in, kh, kw], and the BatchNorm's five entries
// (num_batches_tracked an integer) when bn_prefix is not empty.
void add_conv_bn_specs(TensorSpecs& specs, const std::string& conv_key,
                       const std::string& bn_prefix, int64_t in, int64_t out, int64_t kernel_h,
                       int64_t kernel_w);

}  // namespace ps::runtime
