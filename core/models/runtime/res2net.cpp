// Res2Net-v1b forward, op for op as Res2Net_v1b.py (Bottle2neck.forward, Res2Net.forward).
#include "models/runtime/res2net.h"

#include <ATen/ATen.h>

#include <sstream>

namespace ps::runtime {
namespace {

std::string join(const std::vector<int64_t>& values) {
    std::ostringstream out;
    for (size_t i = 0; i < values.size(); ++i) out << (i ? "/" : "") << values[i];
    return out.str();
}

std::string layer_prefix(const std::string& prefix, size_t layer, int64_t block) {
    return prefix + "layer" + std::to_string(layer + 1) + "." + std::to_string(block) + ".";
}

ConvGeometry square(int64_t kernel, int64_t stride, int64_t padding, int64_t dilation = 1) {
    return {kernel, kernel, stride, padding, padding, dilation};
}

}  // namespace

std::string Res2NetConfig::describe() const {
    std::ostringstream out;
    out << "stem " << stem_mid << "/" << stem_out << ", blocks " << join(blocks) << ", widths "
        << join(widths) << " x" << scale << ", outputs " << join(out_channels);
    return out.str();
}

Res2NetConfig official_res2net50_v1b_config() {
    return Res2NetConfig{};
}

Res2NetConfig infer_res2net_config(const Weights& w, const std::string& prefix) {
    Res2NetConfig c;
    const at::Tensor& stem0 = w.get(prefix + "conv1.0.weight");
    if (stem0.dim() != 4 || stem0.size(1) != 3) {
        w.fail("tensor " + prefix + "conv1.0.weight has shape " + shape_string(stem0.sizes()) +
               ", expected [out, 3, 3, 3]");
    }
    c.stem_mid = stem0.size(0);
    c.stem_out = w.get(prefix + "conv1.6.weight").size(0);
    c.blocks.clear();
    c.widths.clear();
    c.out_channels.clear();
    for (int layer = 1; layer <= 4; ++layer) {
        const std::string p = prefix + "layer" + std::to_string(layer);
        const int count = w.count_children(p);
        if (count == 0) w.fail("missing tensor " + p + ".0.conv1.weight");
        c.blocks.push_back(count);
        c.widths.push_back(w.get(p + ".0.convs.0.weight").size(0));
        c.out_channels.push_back(w.get(p + ".0.conv3.weight").size(0));
    }
    c.scale = w.count_children(prefix + "layer1.0.convs") + 1;
    return c;
}

void add_res2net_specs(TensorSpecs& s, const std::string& prefix, const Res2NetConfig& c) {
    add_conv_bn_specs(s, prefix + "conv1.0.weight", prefix + "conv1.1", 3, c.stem_mid, 3, 3);
    add_conv_bn_specs(s, prefix + "conv1.3.weight", prefix + "conv1.4", c.stem_mid, c.stem_mid, 3,
                      3);
    add_conv_bn_specs(s, prefix + "conv1.6.weight", prefix + "bn1", c.stem_mid, c.stem_out, 3, 3);
    int64_t in = c.stem_out;
    for (size_t layer = 0; layer < c.blocks.size(); ++layer) {
        const int64_t width = c.widths[layer], out = c.out_channels[layer];
        for (int64_t b = 0; b < c.blocks[layer]; ++b) {
            const std::string p = layer_prefix(prefix, layer, b);
            add_conv_bn_specs(s, p + "conv1.weight", p + "bn1", in, width * c.scale, 1, 1);
            for (int64_t i = 0; i + 1 < c.scale; ++i) {
                const std::string n = std::to_string(i);
                add_conv_bn_specs(s, p + "convs." + n + ".weight", p + "bns." + n, width, width, 3,
                                  3);
            }
            add_conv_bn_specs(s, p + "conv3.weight", p + "bn3", width * c.scale, out, 1, 1);
            if (b == 0) {
                add_conv_bn_specs(s, p + "downsample.1.weight", p + "downsample.2", in, out, 1, 1);
            }
            in = out;
        }
    }
}

Res2Net Res2Net::load(const Weights& w, const std::string& prefix, const Res2NetConfig& c) {
    Res2Net net;
    net.config_ = c;
    net.stem_[0] = FoldedConv2d::load(w, prefix + "conv1.0.weight", prefix + "conv1.1", 3,
                                      c.stem_mid, square(3, 2, 1), true);
    net.stem_[1] = FoldedConv2d::load(w, prefix + "conv1.3.weight", prefix + "conv1.4", c.stem_mid,
                                      c.stem_mid, square(3, 1, 1), true);
    net.stem_[2] = FoldedConv2d::load(w, prefix + "conv1.6.weight", prefix + "bn1", c.stem_mid,
                                      c.stem_out, square(3, 1, 1), true);
    int64_t in = c.stem_out;
    for (size_t layer = 0; layer < c.blocks.size(); ++layer) {
        const int64_t width = c.widths[layer], out = c.out_channels[layer];
        const int64_t stride = c.strides[layer], dilation = c.dilations[layer];
        std::vector<Block> blocks;
        for (int64_t b = 0; b < c.blocks[layer]; ++b) {
            const std::string p = layer_prefix(prefix, layer, b);
            // _make_layer: the first block strides; the others dilate by dilation * grid[b]
            // (grid only in the last layer).
            const int64_t grid =
                layer == 3 && b < static_cast<int64_t>(c.last_grid.size()) ? c.last_grid[b] : 1;
            const int64_t d = b == 0 ? dilation : dilation * grid;
            Block block;
            block.stage = b == 0;
            block.stride = b == 0 ? stride : 1;
            block.width = width;
            block.conv1 = FoldedConv2d::load(w, p + "conv1.weight", p + "bn1", in, width * c.scale,
                                             square(1, 1, 0), true);
            for (int64_t i = 0; i + 1 < c.scale; ++i) {
                const std::string n = std::to_string(i);
                block.convs.push_back(FoldedConv2d::load(w, p + "convs." + n + ".weight",
                                                         p + "bns." + n, width, width,
                                                         square(3, block.stride, d, d), true));
            }
            block.conv3 = FoldedConv2d::load(w, p + "conv3.weight", p + "bn3", width * c.scale, out,
                                             square(1, 1, 0), false);
            // `stride != 1 or inplanes != planes * expansion`: every layer's first block here.
            block.has_downsample = w.has(p + "downsample.1.weight");
            if (block.has_downsample) {
                block.downsample =
                    FoldedConv2d::load(w, p + "downsample.1.weight", p + "downsample.2", in, out,
                                       square(1, 1, 0), false);
            }
            blocks.push_back(std::move(block));
            in = out;
        }
        net.layers_.push_back(std::move(blocks));
    }
    return net;
}

at::Tensor Res2Net::run_block(const Block& block, const at::Tensor& x) const {
    const at::Tensor out = block.conv1(x);
    const std::vector<at::Tensor> splits = at::split(out, block.width, 1);
    const size_t nums = block.convs.size();
    std::vector<at::Tensor> pieces;
    at::Tensor sp;
    for (size_t i = 0; i < nums; ++i) {
        sp = (i == 0 || block.stage) ? splits[i] : sp + splits[i];
        sp = block.convs[i](sp);
        pieces.push_back(sp);
    }
    // The last split passes through ('normal') or through a 3x3 average pool with the block's
    // stride ('stage'; count_include_pad: the zero padding counts, as nn.AvgPool2d's default).
    pieces.push_back(
        block.stage ? at::avg_pool2d(splits[nums], {3, 3}, {block.stride, block.stride}, {1, 1})
                    : splits[nums]);
    at::Tensor y = block.conv3(at::cat(pieces, 1));
    at::Tensor residual = x;
    if (block.has_downsample) {
        // nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False), then conv + bn.
        const at::Tensor pooled =
            block.stride == 1 ? x
                              : at::avg_pool2d(x, {block.stride, block.stride},
                                               {block.stride, block.stride}, {0, 0},
                                               /*ceil_mode=*/true, /*count_include_pad=*/false);
        residual = block.downsample(pooled);
    }
    return at::relu_(y.add_(residual));
}

std::vector<at::Tensor> Res2Net::forward(const at::Tensor& x) const {
    at::Tensor y = stem_[2](stem_[1](stem_[0](x)));
    y = at::max_pool2d(y, {3, 3}, {2, 2}, {1, 1});
    std::vector<at::Tensor> outs{y};
    for (const std::vector<Block>& layer : layers_) {
        for (const Block& block : layer) y = run_block(block, y);
        outs.push_back(y);
    }
    return outs;
}

}  // namespace ps::runtime
