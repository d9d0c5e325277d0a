// REBNCONV and the RSU blocks op for op as u2net.py and isnet.py run them, and the stage layout.
#include "models/runtime/rsu_block.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>

#include "models/runtime/layers.h"
#include "models/runtime/map_ops.h"

namespace ps::runtime {

namespace {

// cuDNN's fused convolution + bias + ReLU (one kernel instead of a convolution and a clamp) is
// on by default where it exists; RsuBlock::set_fused_relu(false) turns it off, for
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

ReBnConv ReBnConv::load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                        int64_t dilation) {
    const at::Tensor& weight = w.get(prefix + ".conv_s1.weight", {out, in, 3, 3});
    const at::Tensor& bias = w.get(prefix + ".conv_s1.bias", {out});
    const BatchNormStats norm{
        w.get(prefix + ".bn_s1.weight", {out}), w.get(prefix + ".bn_s1.bias", {out}),
        w.get(prefix + ".bn_s1.running_mean", {out}), w.get(prefix + ".bn_s1.running_var", {out})};
    FoldedConv folded = fold_batch_norm(weight, bias, norm);
    ReBnConv layer;
    layer.weight = std::move(folded.weight);
    layer.bias = std::move(folded.bias);
    layer.dilation = dilation;
    layer.fused_relu = cudnn_conv_relu_available(layer.weight);
    return layer;
}

at::Tensor ReBnConv::operator()(const at::Tensor& x) const {
    return conv2d_relu(x, weight, bias, {1, 1}, {dilation, dilation}, {dilation, dilation}, 1,
                       fused_relu);
}

at::Tensor upsample_like(const at::Tensor& x, const at::Tensor& like) {
    // F.upsample(size=...) without scale factors: the scale is in/out, as here.
    return at::upsample_bilinear2d(x, {like.size(2), like.size(3)}, /*align_corners=*/false);
}

at::Tensor upsample_concat(const at::Tensor& deeper, const at::Tensor& skip) {
    return resize_concat({{deeper}, {skip}}, skip.size(2), skip.size(3));
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

RsuBlock RsuBlock::load(const Weights& w, const RsuConfig& c) {
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
        hx[k] = encoder[k - 1](pool ? max_pool_2x2_ceil(hx[k - 1]) : hx[k - 1]);
    }
    // RSU-4F's maps all have one size, so its upsampling is the identity.
    at::Tensor d = decoder[height - 2](upsample_concat(hx[height], hx[height - 1]));
    for (int k = height - 2; k >= 1; --k) d = decoder[k - 1](upsample_concat(d, hx[k]));
    return d + input;
}

void RsuBlock::set_fused_relu(bool enabled) {
    if (enabled) return;
    in.fused_relu = false;
    for (ReBnConv& layer : encoder) layer.fused_relu = false;
    for (ReBnConv& layer : decoder) layer.fused_relu = false;
}

std::vector<RsuConfig> rsu_stage_layout() {
    return {{"stage1", 7, false},  {"stage2", 6, false},  {"stage3", 5, false},
            {"stage4", 4, false},  {"stage5", 4, true},   {"stage6", 4, true},
            {"stage5d", 4, true},  {"stage4d", 4, false}, {"stage3d", 5, false},
            {"stage2d", 6, false}, {"stage1d", 7, false}};
}

const at::Tensor& conv3x3_weight(const Weights& w, const std::string& key) {
    const at::Tensor& t = w.get(key);
    if (t.dim() != 4 || t.size(2) != 3 || t.size(3) != 3) {
        w.fail("tensor " + key + " has shape " + shape_string(t.sizes()) +
               ", expected [out, in, 3, 3]");
    }
    return t;
}

namespace {

std::string conv_key(const std::string& stage, const std::string& conv) {
    return stage + "." + conv + ".conv_s1.weight";
}

void infer_stage(const Weights& w, RsuConfig& s) {
    const at::Tensor& in = conv3x3_weight(w, conv_key(s.name, "rebnconvin"));
    s.in_ch = in.size(1);
    s.out_ch = in.size(0);
    s.mid_ch = conv3x3_weight(w, conv_key(s.name, "rebnconv1")).size(0);
    const std::string deepest = "rebnconv" + std::to_string(s.height);
    const std::string beyond = "rebnconv" + std::to_string(s.height + 1);
    if (!w.has(conv_key(s.name, deepest)) || w.has(conv_key(s.name, beyond))) {
        w.fail(s.name + " is not an RSU-" + std::to_string(s.height) + " block (expected " +
               s.name + "." + deepest + ".* and no " + s.name + "." + beyond + ".*)");
    }
}

void expect_width(const Weights& w, const std::string& what, int64_t got, int64_t expected) {
    if (got != expected) {
        w.fail(what + " reads " + std::to_string(got) + " channels, but " +
               std::to_string(expected) + " arrive there");
    }
}

void rebnconv_specs(TensorSpecs& s, const std::string& p, int64_t in, int64_t out) {
    s[p + ".conv_s1.weight"] = {{out, in, 3, 3}};
    for (const char* n : {"conv_s1.bias", "bn_s1.weight", "bn_s1.bias", "bn_s1.running_mean",
                          "bn_s1.running_var"}) {
        s[p + "." + n] = {{out}};
    }
    s[p + ".bn_s1.num_batches_tracked"] = {{}, true};
}

}  // namespace

void infer_rsu_stages(const Weights& w, std::vector<RsuConfig>& stages, int64_t input_channels) {
    if (stages.size() != 11) w.fail("an RSU encoder-decoder has 11 stages");
    for (RsuConfig& stage : stages) infer_stage(w, stage);
    expect_width(w, stages[0].name, stages[0].in_ch, input_channels);
    for (int k = 1; k < 6; ++k) {
        expect_width(w, stages[k].name, stages[k].in_ch, stages[k - 1].out_ch);
    }
    for (int k = 6; k < 11; ++k) {
        const int skip = 10 - k;  // stage5d pairs with stage5 (index 4), stage1d with stage1
        expect_width(w, stages[k].name, stages[k].in_ch,
                     stages[k - 1].out_ch + stages[skip].out_ch);
    }
}

const RsuConfig& side_source(const std::vector<RsuConfig>& stages, int k) {
    return stages.at(k == 6 ? 5 : 11 - k);
}

void add_rsu_specs(TensorSpecs& specs, const std::vector<RsuConfig>& stages) {
    for (const RsuConfig& st : stages) {
        const std::string p = st.name + ".rebnconv";
        rebnconv_specs(specs, p + "in", st.in_ch, st.out_ch);
        rebnconv_specs(specs, p + "1", st.out_ch, st.mid_ch);
        for (int k = 2; k <= st.height; ++k) {
            rebnconv_specs(specs, p + std::to_string(k), st.mid_ch, st.mid_ch);
        }
        for (int k = st.height - 1; k >= 2; --k) {
            rebnconv_specs(specs, p + std::to_string(k) + "d", 2 * st.mid_ch, st.mid_ch);
        }
        rebnconv_specs(specs, p + "1d", 2 * st.mid_ch, st.out_ch);
    }
}

}  // namespace ps::runtime
