// InSPyReNet's decoder modules, op for op as plemeri/InSPyReNet's lib/modules.
#include "models/inspyrenet/inspyrenet_blocks.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ps::inspyrenet {
namespace {

// F.interpolate(x, size, mode='bilinear', align_corners=...).
at::Tensor resize(const at::Tensor& x, int64_t h, int64_t w, bool align_corners) {
    return at::upsample_bilinear2d(x, {h, w}, align_corners);
}

// layers.Conv2d's padding='same': (k + (k-1)(d-1)) // 2 + ((k + (k-1)(d-1)) % 2 - 1) per axis.
int64_t same_padding(int64_t kernel, int64_t dilation) {
    const int64_t size = kernel + (kernel - 1) * (dilation - 1);
    return size / 2 + (size % 2 - 1);
}

}  // namespace

runtime::FoldedConv2d load_conv(const runtime::Weights& w, const std::string& prefix, int64_t in,
                                int64_t out, int64_t kernel_h, int64_t kernel_w, int64_t dilation,
                                bool bn, bool relu) {
    const runtime::ConvGeometry geometry{
        kernel_h, kernel_w, 1, same_padding(kernel_h, dilation), same_padding(kernel_w, dilation),
        dilation};
    return runtime::FoldedConv2d::load(w, prefix + ".conv.weight", bn ? prefix + ".bn" : "", in,
                                       out, geometry, relu);
}

SelfAttention SelfAttention::load(const runtime::Weights& w, const std::string& prefix, int64_t c,
                                  bool along_height) {
    SelfAttention a;
    a.query = load_conv(w, prefix + ".query_conv", c, c / 8, 1, 1);
    a.key = load_conv(w, prefix + ".key_conv", c, c / 8, 1, 1);
    a.value = load_conv(w, prefix + ".value_conv", c, c, 1, 1);
    a.gamma = w.get(prefix + ".gamma", {1});
    a.along_height = along_height;
    return a;
}

at::Tensor SelfAttention::operator()(const at::Tensor& input) const {
    // The reference's view() reinterprets contiguous NCHW memory; other layouts would not.
    const at::Tensor x = input.contiguous();
    const int64_t b = x.size(0), axis = along_height ? x.size(2) : x.size(3);
    // .contiguous(): with NHWC weights (half precision on CUDA) a convolution answers in
    // channels-last memory, which the reinterpreting view must not see.
    const at::Tensor q = query(x).contiguous().view({b, -1, axis}).permute({0, 2, 1});
    const at::Tensor k = key(x).contiguous().view({b, -1, axis});
    const at::Tensor attention = at::softmax(at::bmm(q, k), -1);
    const at::Tensor v = value(x).contiguous().view({b, -1, axis});
    const at::Tensor out = at::bmm(v, attention.permute({0, 2, 1})).view(x.sizes());
    return gamma * out + x;
}

PaaKernel PaaKernel::load(const runtime::Weights& w, const std::string& prefix, int64_t in,
                          int64_t out, int64_t receptive_size) {
    PaaKernel k;
    k.conv0 = load_conv(w, prefix + ".conv0", in, out, 1, 1);
    k.conv1 = load_conv(w, prefix + ".conv1", out, out, 1, receptive_size);
    k.conv2 = load_conv(w, prefix + ".conv2", out, out, receptive_size, 1);
    k.conv3 = load_conv(w, prefix + ".conv3", out, out, 3, 3, receptive_size);
    k.h_attention = SelfAttention::load(w, prefix + ".Hattn", out, true);
    k.w_attention = SelfAttention::load(w, prefix + ".Wattn", out, false);
    return k;
}

at::Tensor PaaKernel::operator()(const at::Tensor& input) const {
    const at::Tensor x = conv2(conv1(conv0(input)));
    return conv3(h_attention(x) + w_attention(x));
}

PaaE PaaE::load(const runtime::Weights& w, const std::string& prefix, int64_t in, int64_t out) {
    PaaE e;
    e.branch0 = load_conv(w, prefix + ".branch0", in, out, 1, 1);
    for (int b = 0; b < 3; ++b) {
        e.branches[b] =
            PaaKernel::load(w, prefix + ".branch" + std::to_string(b + 1), in, out, 2 * b + 3);
    }
    e.conv_cat = load_conv(w, prefix + ".conv_cat", 4 * out, out, 3, 3);
    e.conv_res = load_conv(w, prefix + ".conv_res", in, out, 1, 1);
    return e;
}

at::Tensor PaaE::operator()(const at::Tensor& x) const {
    const at::Tensor cat = at::cat({branch0(x), branches[0](x), branches[1](x), branches[2](x)}, 1);
    return at::relu(conv_cat(cat) + conv_res(x));
}

PaaD PaaD::load(const runtime::Weights& w, const std::string& prefix, int64_t in, int64_t depth) {
    PaaD d;
    d.convs[0] = load_conv(w, prefix + ".conv1", in, depth, 3, 3);
    for (int k = 1; k < 4; ++k) {
        d.convs[k] = load_conv(w, prefix + ".conv" + std::to_string(k + 1), depth, depth, 3, 3);
    }
    d.conv5 = load_conv(w, prefix + ".conv5", depth, 1, 3, 3, 1, /*bn=*/false);
    d.h_attention = SelfAttention::load(w, prefix + ".Hattn", depth, true);
    d.w_attention = SelfAttention::load(w, prefix + ".Wattn", depth, false);
    return d;
}

std::pair<at::Tensor, at::Tensor> PaaD::operator()(const at::Tensor& x3, const at::Tensor& x4,
                                                   const at::Tensor& x5) const {
    const int64_t h = x3.size(2), w = x3.size(3);
    // torch.cat(fs[::-1]): the deepest first.
    at::Tensor fx = at::cat({resize(x5, h, w, true), resize(x4, h, w, true), x3}, 1);
    fx = convs[0](fx);
    fx = convs[1](h_attention(fx) + w_attention(fx));
    fx = convs[3](convs[2](fx));
    return {fx, conv5(fx)};
}

Sica Sica::load(const runtime::Weights& w, const std::string& prefix, int64_t in, int64_t depth,
                bool lmap_in, int64_t stage_size) {
    Sica s;
    s.query[0] = load_conv(w, prefix + ".conv_query.0", in, depth, 3, 3, 1, true, true);
    s.query[1] = load_conv(w, prefix + ".conv_query.1", depth, depth, 3, 3, 1, true, true);
    s.key[0] = load_conv(w, prefix + ".conv_key.0", in, depth, 1, 1, 1, true, true);
    s.key[1] = load_conv(w, prefix + ".conv_key.1", depth, depth, 1, 1, 1, true, true);
    s.value[0] = load_conv(w, prefix + ".conv_value.0", in, depth, 1, 1, 1, true, true);
    s.value[1] = load_conv(w, prefix + ".conv_value.1", depth, depth, 1, 1, 1, true, true);
    s.out[0] = load_conv(w, prefix + ".conv_out1", depth, depth, 3, 3, 1, true, true);
    s.out[1] = load_conv(w, prefix + ".conv_out2", in + depth, depth, 3, 3, 1, true, true);
    s.out[2] = load_conv(w, prefix + ".conv_out3", depth, depth, 3, 3, 1, true, true);
    s.out[3] = load_conv(w, prefix + ".conv_out4", depth, 1, 1, 1);
    s.threshold = w.get(prefix + ".threshold", {1});
    if (lmap_in) s.lthreshold = w.get(prefix + ".lthreshold", {1});
    s.depth = depth;
    s.stage_size = stage_size;
    return s;
}

std::pair<at::Tensor, at::Tensor> Sica::operator()(const at::Tensor& input,
                                                   const at::Tensor& smap_in,
                                                   const at::Tensor& lmap_in) const {
    const at::Tensor x = input.contiguous();
    const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
    // Class probabilities: foreground, background, confusion (and the Laplacian's two).
    const at::Tensor smap = at::sigmoid(resize(smap_in.to(x.scalar_type()), h, w, false));
    const at::Tensor p = smap - threshold;
    std::vector<at::Tensor> prob{at::clip(p, 0, 1), at::clip(-p, 0, 1), threshold - at::abs(p)};
    if (lthreshold.defined()) {
        const at::Tensor lmap = at::sigmoid(resize(lmap_in.to(x.scalar_type()), h, w, false));
        const at::Tensor lp = lmap - lthreshold;
        prob.push_back(at::clip(lp, 0, 1));
        prob.push_back(at::clip(-lp, 0, 1));
    }
    const int64_t ctx = static_cast<int64_t>(prob.size());
    const int64_t s = stage_size, area = s * s;
    // The reference views the resized B x C x s x s map as B x s² x C: a reinterpretation of
    // its memory, not a transpose. Reproduced as is.
    const at::Tensor f = resize(x, s, s, false).contiguous().view({b, area, -1});
    const at::Tensor probs =
        resize(at::cat(prob, 1), s, s, false).contiguous().view({b, ctx, area});
    const at::Tensor context = at::bmm(probs, f).permute({0, 2, 1}).unsqueeze(3);  // b, c, ctx, 1
    const at::Tensor q = query[1](query[0](x)).contiguous().view({b, depth, -1}).permute({0, 2, 1});
    const at::Tensor k = key[1](key[0](context)).contiguous().view({b, depth, -1});
    const at::Tensor v =
        value[1](value[0](context)).contiguous().view({b, depth, -1}).permute({0, 2, 1});
    const at::Tensor sim =
        at::softmax(at::bmm(q, k) * std::pow(static_cast<double>(depth), -0.5), -1);
    at::Tensor refined = at::bmm(sim, v).permute({0, 2, 1}).contiguous().view({b, -1, h, w});
    refined = out[0](refined);
    const at::Tensor features = out[2](out[1](at::cat({x, refined}, 1)));
    return {features, out[3](features)};
}

}  // namespace ps::inspyrenet
