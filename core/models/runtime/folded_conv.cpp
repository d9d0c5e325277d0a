// Convolution + BatchNorm folded at load (fold_batch_norm), with the general geometry.
#include "models/runtime/folded_conv.h"

#include <ATen/ATen.h>

#include "models/runtime/layers.h"

namespace ps::runtime {

FoldedConv2d FoldedConv2d::load(const Weights& w, const std::string& conv_key,
                                const std::string& bn_prefix, int64_t in, int64_t out,
                                const ConvGeometry& geometry, bool relu) {
    FoldedConv2d conv;
    conv.weight = w.get(conv_key, {out, in, geometry.kernel_h, geometry.kernel_w});
    conv.geometry = geometry;
    conv.relu = relu;
    if (!bn_prefix.empty()) {
        const BatchNormStats norm{
            w.get(bn_prefix + ".weight", {out}), w.get(bn_prefix + ".bias", {out}),
            w.get(bn_prefix + ".running_mean", {out}), w.get(bn_prefix + ".running_var", {out})};
        FoldedConv folded = fold_batch_norm(conv.weight, at::Tensor(), norm);
        conv.weight = std::move(folded.weight);
        conv.bias = std::move(folded.bias);
    }
    return conv;
}

at::Tensor FoldedConv2d::operator()(const at::Tensor& x) const {
    const ConvGeometry& g = geometry;
    if (relu)
        return conv2d_relu(x, weight, bias, {g.stride, g.stride}, {g.pad_h, g.pad_w},
                           {g.dilation, g.dilation}, 1, fused_relu);
    return at::conv2d(x, weight, bias, {g.stride, g.stride}, {g.pad_h, g.pad_w},
                      {g.dilation, g.dilation});
}

void add_conv_bn_specs(TensorSpecs& specs, const std::string& conv_key,
                       const std::string& bn_prefix, int64_t in, int64_t out, int64_t kernel_h,
                       int64_t kernel_w) {
    specs[conv_key] = {{out, in, kernel_h, kernel_w}};
    if (bn_prefix.empty()) return;
    for (const char* name : {".weight", ".bias", ".running_mean", ".running_var"}) {
        specs[bn_prefix + name] = {{out}};
    }
    specs[bn_prefix + ".num_batches_tracked"] = {{}, true};
}

}  // namespace ps::runtime
