// Forward passes of REBNCONV and the RSU blocks, op for op as u2net.py runs them.
#include "models/u2net/rsu_block.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>

#include "models/runtime/layers.h"

namespace ps::u2net {

namespace {

// cuDNN's fused convolution + bias + ReLU (one kernel instead of a convolution and a clamp) is
// on by default where it exists; U2NetConfig::cudnn_conv_relu turns it off (U2NetNetwork), for
// builds whose cuDNN lacks the fused kernel for a precision, and to compare the two.
bool cudnn_conv_relu_available(const at::Tensor& weight) {
#if TORCH_VERSION_MAJOR >= 2
    return weight.is_cuda();
#else
    (void)weight;
    return false;
#endif
}

}  // namespace

ReBnConv ReBnConv::load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                        int64_t out, int64_t dilation) {
    const at::Tensor& weight = w.get(prefix + ".conv_s1.weight", {out, in, 3, 3});
    const at::Tensor& bias = w.get(prefix + ".conv_s1.bias", {out});
    const runtime::BatchNormStats norm{
        w.get(prefix + ".bn_s1.weight", {out}), w.get(prefix + ".bn_s1.bias", {out}),
        w.get(prefix + ".bn_s1.running_mean", {out}), w.get(prefix + ".bn_s1.running_var", {out})};
    runtime::FoldedConv folded = runtime::fold_batch_norm(weight, bias, norm);
    ReBnConv layer;
    layer.weight = std::move(folded.weight);
    layer.bias = std::move(folded.bias);
    layer.dilation = dilation;
    layer.fused_relu = cudnn_conv_relu_available(layer.weight);
    return layer;
}

at::Tensor ReBnConv::operator()(const at::Tensor& x) const {
#if TORCH_VERSION_MAJOR >= 2
    if (fused_relu && x.is_cuda()) {
        return at::cudnn_convolution_relu(x, weight, bias, {1, 1}, {dilation, dilation},
                                          {dilation, dilation}, 1);
    }
#endif
    at::Tensor conv =
        at::conv2d(x, weight, bias, {1, 1}, {dilation, dilation}, {dilation, dilation}, 1);
    return at::relu_(conv);  // in place, as nn.ReLU(inplace=True)
}

at::Tensor pool_ceil(const at::Tensor& x) {
    return at::max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/true);
}

at::Tensor upsample_like(const at::Tensor& x, const at::Tensor& like) {
    // F.upsample(size=...) without scale factors: the scale is in/out, as here.
    return at::upsample_bilinear2d(x, {like.size(2), like.size(3)}, /*align_corners=*/false);
}

namespace {

// Dilation of rebnconv<k> (encoder) and rebnconv<k>d (decoder). RSU-L: 1 everywhere except the
// bottom (rebnconvL, dilation 2). RSU-4F: 1, 2, 4, 8 down the encoder, mirrored in the decoder.
int64_t encoder_dilation(const RsuConfig& c, int k) {
    if (c.dilated) return int64_t{1} << (k - 1);
    return k == c.height ? 2 : 1;
}

int64_t decoder_dilation(const RsuConfig& c, int k) {
    return c.dilated ? int64_t{1} << (k - 1) : 1;
}

}  // namespace

RsuBlock RsuBlock::load(const runtime::Weights& w, const RsuConfig& c) {
    RsuBlock block;
    block.config = c;
    const std::string p = c.name + ".rebnconv";
    block.in = ReBnConv::load(w, p + "in", c.in_ch, c.out_ch, 1);
    for (int k = 1; k <= c.height; ++k) {
        const int64_t in = k == 1 ? c.out_ch : c.mid_ch;
        block.encoder.push_back(
            ReBnConv::load(w, p + std::to_string(k), in, c.mid_ch, encoder_dilation(c, k)));
    }
    for (int k = 1; k < c.height; ++k) {
        const int64_t out = k == 1 ? c.out_ch : c.mid_ch;
        block.decoder.push_back(ReBnConv::load(w, p + std::to_string(k) + "d", 2 * c.mid_ch, out,
                                               decoder_dilation(c, k)));
    }
    return block;
}

at::Tensor RsuBlock::operator()(const at::Tensor& x) const {
    const int height = config.height;
    const at::Tensor input = in(x);
    // hx[k] is rebnconv<k>'s output; RSU-L pools between levels 1..L-1 but not before the
    // dilated bottom level, RSU-4F never pools.
    std::vector<at::Tensor> hx(static_cast<size_t>(height) + 1);
    hx[1] = encoder[0](input);
    for (int k = 2; k <= height; ++k) {
        const bool pool = !config.dilated && k < height;
        hx[k] = encoder[k - 1](pool ? pool_ceil(hx[k - 1]) : hx[k - 1]);
    }
    at::Tensor d = decoder[height - 2](at::cat({hx[height], hx[height - 1]}, 1));
    for (int k = height - 2; k >= 1; --k) {
        if (!config.dilated) d = upsample_like(d, hx[k]);
        d = decoder[k - 1](at::cat({d, hx[k]}, 1));
    }
    return d + input;
}

}  // namespace ps::u2net
