// The residual U-blocks of U²-Net and ISNet (REBNCONV, RSU-L, RSU-4F) as plain structs of tensors,
// and the eleven-stage encoder-decoder layout that u2net.py and DIS's isnet.py both build of them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/runtime/map_ops.h"  // max_pool_2x2_ceil between RSU stages
#include "models/runtime/tensor_specs.h"
#include "models/runtime/weights.h"

namespace ps::runtime {

// One residual U-block (RSU-L or RSU-4F), as u2net.py and isnet.py define them (identical code).
struct RsuConfig {
    std::string name;      // checkpoint prefix: "stage1" ... "stage6", "stage5d" ... "stage1d"
    int height = 7;        // L: encoder convolutions rebnconv1..L
    bool dilated = false;  // RSU-4F: dilations instead of pooling (not stored in the file)
    int64_t in_ch = 0, mid_ch = 0, out_ch = 0;
};

// REBNCONV: 3x3 convolution (dilation d, padding d) + eval-mode BatchNorm + ReLU. Keys
// `<prefix>.conv_s1.*` and `<prefix>.bn_s1.*`. (ConvBatchNorm of layers.h has other key names and
// no dilation, so it does not fit.) The BatchNorm is folded into the convolution at load
// (fold_batch_norm); on CUDA the ReLU runs inside cuDNN's convolution where LibTorch offers it
// (fused_relu).
struct ReBnConv {
    at::Tensor weight, bias;  // the BatchNorm folded in
    int64_t dilation = 1;
    bool fused_relu = false;  // at::cudnn_convolution_relu: CUDA, LibTorch >= 2, not disabled
    static ReBnConv load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                         int64_t dilation);
    at::Tensor operator()(const at::Tensor& x) const;
};

// RSU-L: an L-level U-Net inside one stage, with a residual connection (RSU7..RSU4), or RSU-4F,
// which replaces pooling by growing dilations.
struct RsuBlock {
    RsuConfig config;
    ReBnConv in;
    std::vector<ReBnConv> encoder;  // rebnconv1..L
    std::vector<ReBnConv> decoder;  // rebnconv1d..(L-1)d, decoder[k - 1] is rebnconv<k>d
    static RsuBlock load(const Weights& w, const RsuConfig& config);
    at::Tensor operator()(const at::Tensor& x) const;
    void set_fused_relu(bool enabled);  // off everywhere when false (GpuSwitches::cudnn_conv_relu)
};

// _upsample_like: bilinear, align_corners=False, to the exact spatial size of `like`.
at::Tensor upsample_like(const at::Tensor& x, const at::Tensor& like);

// torch.cat((_upsample_like(deeper, skip), skip), 1): what every decoder level of an RSU block
// and every decoder stage of U²-Net and ISNet reads, in one fused pass on the GPU (map_ops.h).
at::Tensor upsample_concat(const at::Tensor& deeper, const at::Tensor& skip);

// The fixed stage layout of U2NET and ISNetDIS: encoder stage1..stage6 (RSU7, 6, 5, 4, 4F, 4F),
// then decoder stage5d..stage1d (RSU4F, 4, 5, 6, 7), the order the forward pass runs. Only the
// widths differ between the models, so only they are inferred.
std::vector<RsuConfig> rsu_stage_layout();

// Reads in/mid/out of every stage off its REBNCONV weight shapes and checks the plumbing of the
// forward pass: stage1 reads `input_channels`, encoder stages chain, decoder stage kd reads the
// deeper output concatenated with stage k's ("stage2 reads 32 channels, but 64 arrive there").
// Throws WeightError.
void infer_rsu_stages(const Weights& w, std::vector<RsuConfig>& stages, int64_t input_channels);

// The input width of side k (1..6): side k reads stage kd, side6 reads stage6.
const RsuConfig& side_source(const std::vector<RsuConfig>& stages, int k);

// A 3x3 convolution weight [out, in, 3, 3], or WeightError naming its shape.
const at::Tensor& conv3x3_weight(const Weights& w, const std::string& key);

// Every key and shape of the stages' REBNCONVs (BatchNorm buffers included).
void add_rsu_specs(TensorSpecs& specs, const std::vector<RsuConfig>& stages);

}  // namespace ps::runtime
