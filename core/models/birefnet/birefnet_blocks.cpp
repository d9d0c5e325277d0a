// BiRefNet's decoder blocks, op for op as aspp.py / decoder_blocks.py / deform_conv.py.
#include "models/birefnet/birefnet_blocks.h"

#include <ATen/ATen.h>

#include <vector>

#include "models/runtime/deform_conv2d.h"
#include "models/runtime/map_ops.h"

namespace ps::birefnet {

runtime::Conv2d load_conv_batch_norm(const runtime::Weights& w, const std::string& conv_prefix,
                                     const std::string& bn_prefix, int64_t in, int64_t out,
                                     int64_t kernel, int64_t padding, bool conv_bias) {
    runtime::Conv2d conv =
        runtime::Conv2d::load(w, conv_prefix, in, out, kernel, 1, padding, 1, conv_bias);
    const runtime::BatchNormStats norm{
        w.get(bn_prefix + ".weight", {out}), w.get(bn_prefix + ".bias", {out}),
        w.get(bn_prefix + ".running_mean", {out}), w.get(bn_prefix + ".running_var", {out})};
    runtime::FoldedConv folded = runtime::fold_batch_norm(conv.weight, conv.bias, norm);
    conv.weight = std::move(folded.weight);
    conv.bias = std::move(folded.bias);
    return conv;
}

DeformableBranch DeformableBranch::load(const runtime::Weights& w, const std::string& prefix,
                                        int64_t in, int64_t out, int64_t kernel) {
    DeformableBranch branch;
    branch.kernel = kernel;
    branch.padding = kernel / 2;
    const std::string conv = prefix + ".atrous_conv";
    const int64_t taps = kernel * kernel;
    const runtime::Conv2d offset = runtime::Conv2d::load(w, conv + ".offset_conv", in, 2 * taps,
                                                         kernel, 1, branch.padding, 1, true);
    const runtime::Conv2d modulator = runtime::Conv2d::load(w, conv + ".modulator_conv", in, taps,
                                                            kernel, 1, branch.padding, 1, true);
    branch.offset_and_modulator = offset;
    std::vector<at::Tensor> weights{offset.weight, modulator.weight};
    // On CUDA, zero filters up to a multiple of 8 outputs (3k² = 3, 27, 147 -> 8, 32, 152): cuDNN
    // pads any other count in half precision on every call (nhwcAddPadding, one launch per
    // branch). The slices in operator() never read the extra channels.
    const int64_t outputs = 3 * taps, padded = (outputs + 7) / 8 * 8;
    if (offset.weight.is_cuda() && padded > outputs) {
        weights.push_back(
            at::zeros({padded - outputs, in, kernel, kernel}, offset.weight.options()));
    }
    branch.offset_and_modulator.weight =
        at::cat(weights, 0).contiguous(offset.weight.suggest_memory_format());
    // ATen adds a convolution's bias in a pass of its own on cuDNN; the sampling adds these.
    branch.offset_and_modulator.bias = at::Tensor();
    branch.offset_bias = offset.bias;
    branch.modulator_bias = modulator.bias;
    const runtime::Conv2d regular = load_conv_batch_norm(w, conv + ".regular_conv", prefix + ".bn",
                                                         in, out, kernel, branch.padding, false);
    branch.weight = regular.weight;
    branch.bias = regular.bias;
    return branch;
}

at::Tensor DeformableBranch::operator()(const at::Tensor& x) const {
    const int64_t taps = kernel * kernel;
    const at::Tensor both = offset_and_modulator(x);
    runtime::DeformConvGeometry geometry;
    geometry.pad_h = geometry.pad_w = padding;
    geometry.relu = true;  // in the GEMM's epilogue where it can be
    // offset = offset_conv(x), modulator = 2 * sigmoid(modulator_conv(x)), the biases and the
    // sigmoid applied where the samples are taken.
    runtime::DeformPredictedOffsets predicted;
    predicted.offset_bias = offset_bias;
    predicted.mask_bias = modulator_bias;
    predicted.mask_sigmoid_scale = 2;
    return runtime::deform_conv2d(x, both.slice(1, 0, 2 * taps), weight, bias,
                                  both.slice(1, 2 * taps, 3 * taps), geometry, predicted);
}

AsppDeformable AsppDeformable::load(const runtime::Weights& w, const std::string& prefix,
                                    int64_t in, int64_t channels) {
    AsppDeformable aspp;
    aspp.aspp1 = DeformableBranch::load(w, prefix + ".aspp1", in, channels, 1);
    const int64_t sizes[3] = {1, 3, 7};
    for (int i = 0; i < 3; ++i) {
        aspp.deforms[i] = DeformableBranch::load(w, prefix + ".aspp_deforms." + std::to_string(i),
                                                 in, channels, sizes[i]);
    }
    aspp.pool_conv = load_conv_batch_norm(w, prefix + ".global_avg_pool.1",
                                          prefix + ".global_avg_pool.2", in, channels, 1, 0, false);
    aspp.conv1 =
        load_conv_batch_norm(w, prefix + ".conv1", prefix + ".bn1", 5 * channels, in, 1, 0, false);
    return aspp;
}

void AsppDeformable::set_fused_relu(bool enabled) {
    pool_conv.fused_relu = conv1.fused_relu = enabled;
}

at::Tensor AsppDeformable::operator()(const at::Tensor& x) const {
    const at::Tensor pooled = pool_conv.relu(at::adaptive_avg_pool2d(x, {1, 1}));
    const at::Tensor x1 = aspp1(x);
    // x5 = F.interpolate(pooled, size=x1's, align_corners=True): the 1 x 1 map's value
    // everywhere, written straight into the concatenation (runtime::resize_concat).
    const int64_t h = x1.size(2), w = x1.size(3);
    return conv1.relu(runtime::resize_concat(
        {{x1}, {deforms[0](x)}, {deforms[1](x)}, {deforms[2](x)}, {pooled, true}}, h, w));
}

BasicDecBlock BasicDecBlock::load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                                  int64_t inter, int64_t aspp_channels, int64_t out) {
    BasicDecBlock block;
    block.conv_in =
        load_conv_batch_norm(w, prefix + ".conv_in", prefix + ".bn_in", in, inter, 3, 1, true);
    block.attention = AsppDeformable::load(w, prefix + ".dec_att", inter, aspp_channels);
    block.conv_out =
        load_conv_batch_norm(w, prefix + ".conv_out", prefix + ".bn_out", inter, out, 3, 1, true);
    return block;
}

void BasicDecBlock::set_fused_relu(bool enabled) {
    conv_in.fused_relu = enabled;
    attention.set_fused_relu(enabled);
}

at::Tensor BasicDecBlock::operator()(const at::Tensor& x) const {
    return conv_out(attention(conv_in.relu(x)));
}

}  // namespace ps::birefnet
