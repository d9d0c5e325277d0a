// InSPyReNet's decoder modules, op for op as plemeri/InSPyReNet's lib/modules, in whichever memory
// format the maps arrive: contiguous NCHW runs the reference's own views; channels-last (CUDA in
// half precision) reaches the same values without copying the large maps back to NCHW.
#include "models/inspyrenet/inspyrenet_blocks.h"

#include <ATen/ATen.h>

#include <cmath>

#include "models/runtime/map_ops.h"

namespace ps::inspyrenet {
namespace {

// F.interpolate(x, size, mode='bilinear', align_corners=...); a map already h x w is returned as
// it is (the interpolation would copy every value unchanged).
at::Tensor resize(const at::Tensor& x, int64_t h, int64_t w, bool align_corners) {
    if (x.size(2) == h && x.size(3) == w) return x;
    return at::upsample_bilinear2d(x, {h, w}, align_corners);
}

bool channels_last(const at::Tensor& x) {
    return x.dim() == 4 && x.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
}

// layers.Conv2d's padding='same': (k + (k-1)(d-1)) // 2 + ((k + (k-1)(d-1)) % 2 - 1) per axis.
int64_t same_padding(int64_t kernel, int64_t dilation) {
    const int64_t size = kernel + (kernel - 1) * (dilation - 1);
    return size / 2 + (size % 2 - 1);
}

// torch.bmm(probs, x.view(b, S, -1)) of SICA: x (b x C x s x s) read as S = s² rows of C values in
// its NCHW memory order — a reinterpretation, not a transpose. probs: b x ctx x S.
at::Tensor pool_reinterpreted(const at::Tensor& probs, const at::Tensor& x) {
    const int64_t b = x.size(0), C = x.size(1), S = x.size(2) * x.size(3);
    if (!channels_last(x) || S % C != 0) return at::bmm(probs, x.reshape({b, S, C}));
    // Row i = c * P + p (P = S / C) of that view holds channel c at the positions p * C + j, j < C:
    // in channels-last memory the P blocks of C x C values [p][j][c], read in place. One C x C
    // product per block, then the sum over blocks (a reshape to NCHW order would copy the map,
    // 128 MB at full resolution for attention0 in bf16).
    const int64_t P = S / C, ctx = probs.size(1);
    const at::Tensor weights = probs.reshape({b, ctx, C, P}).permute({0, 3, 1, 2}).contiguous();
    const at::Tensor blocks = x.permute({0, 2, 3, 1}).reshape({b, P, C, C});  // a view
    return at::matmul(weights, blocks.transpose(2, 3)).sum(1);                // b x ctx x C
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
    a.gamma_value = a.gamma.to(at::kCPU, at::kDouble).item<double>();
    a.along_height = along_height;
    return a;
}

at::Tensor SelfAttention::operator()(const at::Tensor& x) const {
    if (channels_last(x) && x.size(2) == x.size(3)) return square_channels_last(x);
    const int64_t b = x.size(0), axis = along_height ? x.size(2) : x.size(3);
    // The reference's view() reinterprets contiguous NCHW memory: reshape() reads any layout in
    // that order (a view for NCHW maps, a copy of channels-last ones).
    const at::Tensor q = query(x).reshape({b, -1, axis}).permute({0, 2, 1});
    const at::Tensor k = key(x).reshape({b, -1, axis});
    const at::Tensor attention = at::softmax(at::bmm(q, k), -1);
    const at::Tensor v = value(x).reshape({b, -1, axis});
    const at::Tensor out = at::bmm(v, attention.permute({0, 2, 1})).view(x.sizes());
    return gamma * out.contiguous(x.suggest_memory_format()) + x;
}

at::Tensor SelfAttention::square_channels_last(const at::Tensor& x) const {
    // A square map (H = W = n): view(b, -1, n) has rows (c, y) over the columns x in either mode,
    // so attention[x1, x2] = sum over (c, y) of q[c, y, x1] k[c, y, x2], and
    // out[c, y, x1] = sum over x2 of v[c, y, x2] attention[x1, x2]. In channels-last memory v is
    // n rows of n x C (y, then x, c): the output is one n x n by n x C product per row y with the
    // same attention matrix, written channels-last; only the C/8-channel q and k are reordered.
    const int64_t b = x.size(0), n = x.size(3);
    const at::Tensor q = query(x).permute({0, 3, 2, 1}).reshape({b, n, -1});  // b, x, (y, c)
    const at::Tensor k = key(x).permute({0, 3, 2, 1}).reshape({b, n, -1});
    const at::Tensor attention = at::softmax(at::bmm(q, k.transpose(1, 2)), -1);
    const at::Tensor rows = value(x).permute({0, 2, 3, 1});  // b, y, x, c: a view
    std::vector<at::Tensor> images;
    for (int64_t i = 0; i < b; ++i) images.push_back(at::matmul(attention[i], rows[i]));
    const at::Tensor stacked = b == 1 ? images[0].unsqueeze(0) : at::stack(images);
    const at::Tensor out = stacked.permute({0, 3, 1, 2});  // channels-last b, c, y, x
    // gamma * out + x in one pass (one rounding instead of two).
    return at::add(x, out, gamma_value);
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
    // torch.cat of four maps of one size: one pass on the GPU (map_ops.h).
    const at::Tensor cat = runtime::resize_concat(
        {{branch0(x)}, {branches[0](x)}, {branches[1](x)}, {branches[2](x)}}, x.size(2), x.size(3));
    return at::relu_(conv_cat(cat).add_(conv_res(x)));
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
    // torch.cat(fs[::-1]): the deepest first; one fused pass on the GPU (map_ops.h).
    at::Tensor fx =
        runtime::resize_concat({{x5, true}, {x4, true}, {x3, true}}, x3.size(2), x3.size(3));
    fx = convs[0](fx);
    fx = convs[1](h_attention(fx) + w_attention(fx));
    fx = convs[3](convs[2](fx));
    return {fx, conv5(fx)};
}

Sica Sica::load(const runtime::Weights& w, const std::string& prefix, int64_t in, int64_t depth,
                bool lmap_in, int64_t stage_size, bool fused_relu) {
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
    // The convolutions over the full map; key and value see only the few context vectors, where
    // the ReLU's pass costs nothing.
    for (runtime::FoldedConv2d* conv : {&s.query[0], &s.query[1], &s.out[0], &s.out[1], &s.out[2]})
        conv->fused_relu = fused_relu;
    s.threshold = w.get(prefix + ".threshold", {1});
    if (lmap_in) s.lthreshold = w.get(prefix + ".lthreshold", {1});
    s.depth = depth;
    s.stage_size = stage_size;
    return s;
}

std::pair<at::Tensor, at::Tensor> Sica::operator()(const at::Tensor& x, const at::Tensor& smap_in,
                                                   const at::Tensor& lmap_in) const {
    const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
    // Class probabilities: foreground, background, confusion (and the Laplacian's two), each
    // b x 1 x hw, so that their concatenation is the b x ctx x hw rows the reference views
    // whatever layout the one-channel maps came in.
    const auto probability = [&](const at::Tensor& map) {
        return at::sigmoid(resize(map.to(x.scalar_type()), h, w, false)).reshape({b, 1, h * w});
    };
    const at::Tensor p = probability(smap_in) - threshold;
    std::vector<at::Tensor> prob{at::clip(p, 0, 1), at::clip(-p, 0, 1), threshold - at::abs(p)};
    if (lthreshold.defined()) {
        const at::Tensor lp = probability(lmap_in) - lthreshold;
        prob.push_back(at::clip(lp, 0, 1));
        prob.push_back(at::clip(-lp, 0, 1));
    }
    const int64_t ctx = static_cast<int64_t>(prob.size());
    const int64_t s = stage_size, area = s * s;
    // The reference views the resized B x C x s x s map as B x s² x C: a reinterpretation of
    // its memory, not a transpose. Reproduced as is (pool_reinterpreted).
    const at::Tensor probs =
        resize(at::cat(prob, 1).view({b, ctx, h, w}), s, s, false).reshape({b, ctx, area});
    const at::Tensor pooled = pool_reinterpreted(probs, resize(x, s, s, false));  // b, ctx, C
    const at::Tensor context = pooled.permute({0, 2, 1}).unsqueeze(3);            // b, C, ctx, 1
    // flatten(2) is a view in either memory format: NCHW's (c, hw) and channels-last's (hw, c).
    const at::Tensor q = query[1](query[0](x)).flatten(2).transpose(1, 2);  // b, hw, depth
    const at::Tensor k = key[1](key[0](context)).reshape({b, depth, -1});
    const at::Tensor v = value[1](value[0](context)).reshape({b, depth, -1}).permute({0, 2, 1});
    const at::Tensor sim =
        at::softmax(at::bmm(q, k) * std::pow(static_cast<double>(depth), -0.5), -1);
    // b x hw x depth is the channels-last memory of b x depth x h x w: a view there, the
    // reference's copy to NCHW otherwise.
    at::Tensor refined = at::bmm(sim, v).transpose(1, 2).view({b, -1, h, w});
    refined = out[0](refined.contiguous(x.suggest_memory_format()));
    const at::Tensor features = out[2](out[1](runtime::resize_concat({{x}, {refined}}, h, w)));
    return {features, out[3](features)};
}

}  // namespace ps::inspyrenet
