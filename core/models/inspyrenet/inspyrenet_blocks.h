// InSPyReNet's decoder modules as plain structs of folded convolutions, named after the
// checkpoint: SelfAttention (lib/modules/layers.py), PAA_kernel and PAA_e (context_module.py),
// PAA_d (decoder_module.py) and SICA (attention_module.py).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/runtime/folded_conv.h"
#include "models/runtime/weights.h"

namespace ps::inspyrenet {

// layers.Conv2d: a bias-free convolution padded 'same', an optional BatchNorm (folded) and ReLU.
runtime::FoldedConv2d load_conv(const runtime::Weights& w, const std::string& prefix, int64_t in,
                                int64_t out, int64_t kernel_h, int64_t kernel_w,
                                int64_t dilation = 1, bool bn = true, bool relu = false);

// Axial self-attention: mode 'h' or 'w' picks the length of the rows the map is viewed as
// (x.view(b, -1, h) or (b, -1, w) of the contiguous NCHW map, as the reference does). Any memory
// format in, the same format out.
struct SelfAttention {
    runtime::FoldedConv2d query, key, value;
    at::Tensor gamma;
    double gamma_value = 0;  // gamma's one value, read once at load
    bool along_height = true;
    static SelfAttention load(const runtime::Weights& w, const std::string& prefix, int64_t c,
                              bool along_height);
    at::Tensor operator()(const at::Tensor& x) const;

  private:
    // The same values for a square channels-last map without reordering the map itself.
    at::Tensor square_channels_last(const at::Tensor& x) const;
};

struct PaaKernel {
    runtime::FoldedConv2d conv0, conv1, conv2, conv3;
    SelfAttention h_attention, w_attention;
    static PaaKernel load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                          int64_t out, int64_t receptive_size);
    at::Tensor operator()(const at::Tensor& x) const;
};

// The context module on each backbone map.
struct PaaE {
    runtime::FoldedConv2d branch0, conv_cat, conv_res;
    std::array<PaaKernel, 3> branches;  // receptive sizes 3, 5, 7
    static PaaE load(const runtime::Weights& w, const std::string& prefix, int64_t in, int64_t out);
    at::Tensor operator()(const at::Tensor& x) const;
};

// The decoder on the three deepest context maps: (f3, d3).
struct PaaD {
    std::array<runtime::FoldedConv2d, 4> convs;  // conv1..conv4
    runtime::FoldedConv2d conv5;                 // no BatchNorm: d3's logits
    SelfAttention h_attention, w_attention;
    static PaaD load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                     int64_t depth);
    // x3, x4, x5: x4 and x5 are upsampled (bilinear, align_corners=True) to x3's size.
    std::pair<at::Tensor, at::Tensor> operator()(const at::Tensor& x3, const at::Tensor& x4,
                                                 const at::Tensor& x5) const;
};

// Scale-invariant context attention: refines a feature map with the foreground, background and
// uncertain regions of the coarser saliency map (and the Laplacian map, lmap_in). Any memory
// format in, the same format out.
struct Sica {
    std::array<runtime::FoldedConv2d, 2> query, key, value;
    std::array<runtime::FoldedConv2d, 4> out;  // conv_out1..conv_out4
    at::Tensor threshold, lthreshold;          // lthreshold undefined without lmap_in
    int64_t depth = 64;
    int64_t stage_size = 0;  // base_size // 2^stage: the square the context is pooled at
    // fused_relu: the convolutions over the map that a ReLU follows use cuDNN's fused kernel on
    // CUDA (runtime::FoldedConv2d::fused_relu).
    static Sica load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                     int64_t depth, bool lmap_in, int64_t stage_size, bool fused_relu = false);
    // Returns (x, out): the refined features and the 1-channel Laplacian logits.
    std::pair<at::Tensor, at::Tensor> operator()(const at::Tensor& x, const at::Tensor& smap,
                                                 const at::Tensor& lmap) const;
};

}  // namespace ps::inspyrenet
