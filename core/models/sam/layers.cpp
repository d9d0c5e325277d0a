// Layer forward passes as ATen calls that mirror the PyTorch modules op for op.
#include "models/sam/layers.h"

#include <ATen/ATen.h>

namespace ps::sam {

Linear Linear::load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                    bool with_bias) {
    Linear layer;
    layer.weight = w.get(prefix + ".weight", {out, in});
    if (with_bias) layer.bias = w.get(prefix + ".bias", {out});
    return layer;
}

at::Tensor Linear::operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }

LayerNorm LayerNorm::load(const Weights& w, const std::string& prefix, int64_t dim, double eps) {
    return {w.get(prefix + ".weight", {dim}), w.get(prefix + ".bias", {dim}), eps};
}

at::Tensor LayerNorm::operator()(const at::Tensor& x) const {
    return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

LayerNorm2d LayerNorm2d::load(const Weights& w, const std::string& prefix, int64_t channels) {
    return {w.get(prefix + ".weight", {channels}), w.get(prefix + ".bias", {channels}), 1e-6};
}

at::Tensor LayerNorm2d::operator()(const at::Tensor& x) const {
    const at::Tensor mean = x.mean(1, /*keepdim=*/true);
    const at::Tensor centred = x - mean;
    const at::Tensor variance = centred.pow(2).mean(1, /*keepdim=*/true);
    const at::Tensor normalised = centred / at::sqrt(variance + eps);
    return weight.view({-1, 1, 1}) * normalised + bias.view({-1, 1, 1});
}

Conv2d Conv2d::load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                    int64_t kernel, int64_t stride, int64_t padding, int64_t groups,
                    bool with_bias) {
    Conv2d conv;
    conv.weight = w.get(prefix + ".weight", {out, in / groups, kernel, kernel});
    if (with_bias) conv.bias = w.get(prefix + ".bias", {out});
    conv.stride = stride;
    conv.padding = padding;
    conv.groups = groups;
    return conv;
}

at::Tensor Conv2d::operator()(const at::Tensor& x) const {
    return at::conv2d(x, weight, bias, {stride, stride}, {padding, padding}, {1, 1}, groups);
}

ConvTranspose2d ConvTranspose2d::load(const Weights& w, const std::string& prefix, int64_t in,
                                      int64_t out, int64_t kernel) {
    return {w.get(prefix + ".weight", {in, out, kernel, kernel}), w.get(prefix + ".bias", {out}),
            kernel};
}

at::Tensor ConvTranspose2d::operator()(const at::Tensor& x) const {
    if (x.device().is_cpu()) {
        // Kernel = stride: the output blocks do not overlap, so the layer is one matrix product
        // (pixels x in) * (in x out*k*k) and a reshuffle. ATen's CPU conv_transpose2d goes
        // through im2col/col2im at a fraction of the GEMM's speed.
        const at::Tensor input = x.scalar_type() == at::kFloat ? x : x.to(at::kFloat);
        const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
        const int64_t out = weight.size(1), k = stride;
        const at::Tensor product =
            at::matmul(input.permute({0, 2, 3, 1}).reshape({N * H * W, C}),
                       weight.to(at::kFloat).reshape({C, out * k * k}));
        const at::Tensor y = product.view({N, H, W, out, k, k})
                                 .permute({0, 3, 1, 4, 2, 5})
                                 .reshape({N, out, H * k, W * k}) +
                             bias.to(at::kFloat).view({1, out, 1, 1});
        return y.to(x.scalar_type());
    }
    return at::conv_transpose2d(x, weight, bias, {stride, stride});
}

ConvBatchNorm ConvBatchNorm::load(const Weights& w, const std::string& prefix, int64_t in,
                                  int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                                  int64_t groups) {
    ConvBatchNorm layer;
    layer.conv = Conv2d::load(w, prefix + ".c", in, out, kernel, stride, padding, groups, false);
    layer.bn_weight = w.get(prefix + ".bn.weight", {out});
    layer.bn_bias = w.get(prefix + ".bn.bias", {out});
    layer.running_mean = w.get(prefix + ".bn.running_mean", {out});
    layer.running_var = w.get(prefix + ".bn.running_var", {out});
    return layer;
}

at::Tensor ConvBatchNorm::operator()(const at::Tensor& x) const {
    return at::batch_norm(conv(x), bn_weight, bn_bias, running_mean, running_var,
                          /*training=*/false, /*momentum=*/0.1, /*eps=*/1e-5,
                          /*cudnn_enabled=*/true);
}

Mlp Mlp::load(const Weights& w, const std::string& prefix, int64_t in, int64_t hidden,
              int64_t out, int num_layers) {
    Mlp mlp;
    for (int i = 0; i < num_layers; ++i) {
        const int64_t layer_in = i == 0 ? in : hidden;
        const int64_t layer_out = i == num_layers - 1 ? out : hidden;
        mlp.layers.push_back(
            Linear::load(w, prefix + ".layers." + std::to_string(i), layer_in, layer_out));
    }
    return mlp;
}

at::Tensor Mlp::operator()(const at::Tensor& x) const {
    at::Tensor y = x;
    for (size_t i = 0; i < layers.size(); ++i) {
        y = layers[i](y);
        if (i + 1 < layers.size()) y = at::relu(y);
    }
    return y;
}


}  // namespace ps::sam
