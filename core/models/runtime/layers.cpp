// Layer forward passes as ATen calls that mirror the PyTorch modules op for op.
#include "models/runtime/layers.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <atomic>

#include "models/runtime/row_layer_norm.h"

namespace ps::runtime {

namespace {
std::atomic<bool> epilogues_enabled{true};
}  // namespace

void set_gemm_epilogues(bool enabled) {
    epilogues_enabled = enabled;
}

bool half_on_gpu(const at::Tensor& x) {
    return TORCH_VERSION_MAJOR >= 2 && x.is_cuda() &&
           (x.scalar_type() == at::kBFloat16 || x.scalar_type() == at::kHalf);
}

bool gemm_epilogues(const at::Tensor& x) {
    return epilogues_enabled.load() && half_on_gpu(x);
}

Linear Linear::load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                    bool with_bias) {
    Linear layer;
    layer.weight = w.get(prefix + ".weight", {out, in});
    if (with_bias) layer.bias = w.get(prefix + ".bias", {out});
    layer.weight_t = layer.weight.t();
    return layer;
}

at::Tensor Linear::operator()(const at::Tensor& x) const {
    return at::linear(x, weight, bias);
}

at::Tensor Linear::weight_transposed() const {
    // weight_t only while it still views `weight` (a caller may have replaced the weight).
    return weight_t.defined() && weight_t.is_alias_of(weight) ? weight_t : weight.t();
}

at::Tensor Linear::flat(const at::Tensor& x) const {
    const at::Tensor transposed = weight_transposed();
    if (x.dim() == 2)
        return bias.defined() ? at::addmm(bias, x, transposed) : at::mm(x, transposed);
    std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
    sizes.back() = weight.size(0);
    const at::Tensor rows = x.reshape({-1, x.size(-1)});
    return (bias.defined() ? at::addmm(bias, rows, transposed) : at::mm(rows, transposed))
        .view(sizes);
}

at::Tensor Linear::gelu_flat(const at::Tensor& x) const {
#if TORCH_VERSION_MAJOR >= 2
    if (bias.defined() && gemm_epilogues(x)) {
        const at::Tensor transposed = weight_transposed();
        std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
        sizes.back() = weight.size(0);
        return at::_addmm_activation(bias, x.reshape({-1, x.size(-1)}), transposed, 1, 1,
                                     /*use_gelu=*/true)
            .view(sizes);
    }
#endif
    return at::gelu(flat(x));
}

at::Tensor Linear::flat_onto(const at::Tensor& x, const at::Tensor& residual,
                             bool bias_in_residual) const {
    if (!bias_in_residual || !bias.defined()) return residual + flat(x);
    const at::Tensor transposed = weight_transposed();
    const at::Tensor rows = x.reshape({-1, x.size(-1)});
    if (gemm_epilogues(x) && residual.is_contiguous()) {
        return at::addmm(residual.view({-1, residual.size(-1)}), rows, transposed)
            .view(residual.sizes());
    }
    return residual + at::mm(rows, transposed).view(residual.sizes());
}

LayerNorm LayerNorm::load(const Weights& w, const std::string& prefix, int64_t dim, double eps) {
    return {w.get(prefix + ".weight", {dim}), w.get(prefix + ".bias", {dim}), eps};
}

at::Tensor LayerNorm::operator()(const at::Tensor& x) const {
    if (at::Tensor fused = layer_norm_rows(x, weight, bias, eps); fused.defined()) return fused;
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

at::Tensor LayerNorm2d::channels_last(const at::Tensor& x) const {
    if (at::Tensor fused = layer_norm_channels(x, weight, bias, eps); fused.defined()) return fused;
    return at::layer_norm(x.permute({0, 2, 3, 1}), {weight.size(0)}, weight, bias, eps);
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

at::Tensor conv2d_relu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                       at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                       int64_t groups, bool fused) {
#if TORCH_VERSION_MAJOR >= 2
    if (fused && x.is_cuda() && bias.defined())
        return at::cudnn_convolution_relu(x, weight, bias, stride, padding, dilation, groups);
#else
    (void)fused;
#endif
    at::Tensor y = at::conv2d(x, weight, bias, stride, padding, dilation, groups);
    return at::relu_(y);
}

at::Tensor Conv2d::relu(const at::Tensor& x) const {
    return conv2d_relu(x, weight, bias, {stride, stride}, {padding, padding}, {1, 1}, groups,
                       fused_relu);
}

ConvTranspose2d ConvTranspose2d::load(const Weights& w, const std::string& prefix, int64_t in,
                                      int64_t out, int64_t kernel) {
    ConvTranspose2d layer;
    layer.weight = w.get(prefix + ".weight", {in, out, kernel, kernel});
    layer.bias = w.get(prefix + ".bias", {out});
    layer.stride = kernel;
    if (layer.weight.device().is_cpu()) {
        layer.gemm_weight =
            layer.weight.to(at::kFloat).permute({0, 2, 3, 1}).reshape({in, -1}).contiguous();
        layer.gemm_bias = layer.bias.to(at::kFloat).repeat({kernel * kernel});
    }
    return layer;
}

at::Tensor ConvTranspose2d::forward_pixels(const at::Tensor& pixels, int64_t H, int64_t W) const {
    const int64_t k = stride, out = weight.size(1);
    const at::Tensor product = at::addmm(gemm_bias, pixels, gemm_weight);  // (H*W) x (k*k*out)
    return product.view({H, W, k, k, out}).permute({0, 2, 1, 3, 4}).reshape({H * k * W * k, out});
}

at::Tensor ConvTranspose2d::operator()(const at::Tensor& x) const {
    if (x.device().is_cpu()) {
        // In fp32 even for reduced precision: LibTorch 1.13's bf16 CPU kernel is wrong.
        const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
        std::vector<at::Tensor> images;
        for (int64_t n = 0; n < N; ++n) {
            const at::Tensor pixels = x[n].to(at::kFloat).permute({1, 2, 0}).reshape({H * W, C});
            images.push_back(
                forward_pixels(pixels, H, W).view({H * stride, W * stride, -1}).permute({2, 0, 1}));
        }
        return at::stack(images).to(x.scalar_type());
    }
    return at::conv_transpose2d(x, weight, bias, {stride, stride});
}

FoldedConv fold_batch_norm(const at::Tensor& weight, const at::Tensor& bias,
                           const BatchNormStats& norm) {
    // float64 on the CPU: the checkpoint may already be in bf16 on the GPU, and the fold should
    // add no rounding of its own before the one cast back.
    const auto wide = [](const at::Tensor& t) { return t.to(at::kCPU, at::kDouble); };
    const at::Tensor scale = wide(norm.weight) / at::sqrt(wide(norm.running_var) + norm.eps);
    const at::Tensor shift =
        bias.defined() ? wide(bias) - wide(norm.running_mean) : -wide(norm.running_mean);
    std::vector<int64_t> per_channel(static_cast<size_t>(weight.dim()), 1);
    per_channel[0] = -1;
    const at::Tensor folded_weight = wide(weight) * scale.view(per_channel);
    const at::Tensor folded_bias = shift * scale + wide(norm.bias);
    const at::TensorOptions like_weight = weight.options();
    return {folded_weight.to(like_weight).contiguous(weight.suggest_memory_format()),
            folded_bias.to(like_weight)};
}

FoldedConv fold_pointwise(const at::Tensor& weight, const at::Tensor& bias,
                          const at::Tensor& pointwise, const at::Tensor& pointwise_bias) {
    const auto wide = [](const at::Tensor& t) { return t.to(at::kCPU, at::kDouble); };
    const at::Tensor mix = wide(pointwise).flatten(1);  // out x mid
    const at::Tensor folded_weight =
        at::tensordot(mix, wide(weight), {1}, {0});  // out x in x kh x kw
    at::Tensor folded_bias = at::zeros({mix.size(0)}, mix.options());
    if (bias.defined()) folded_bias += at::mv(mix, wide(bias));
    if (pointwise_bias.defined()) folded_bias += wide(pointwise_bias);
    const at::TensorOptions like_weight = weight.options();
    return {folded_weight.to(like_weight).contiguous(weight.suggest_memory_format()),
            folded_bias.to(like_weight)};
}

ConvBatchNorm ConvBatchNorm::load(const Weights& w, const std::string& prefix, int64_t in,
                                  int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                                  int64_t groups) {
    ConvBatchNorm layer;
    layer.conv = Conv2d::load(w, prefix + ".c", in, out, kernel, stride, padding, groups, false);
    const BatchNormStats norm{
        w.get(prefix + ".bn.weight", {out}), w.get(prefix + ".bn.bias", {out}),
        w.get(prefix + ".bn.running_mean", {out}), w.get(prefix + ".bn.running_var", {out})};
    FoldedConv folded = fold_batch_norm(layer.conv.weight, at::Tensor(), norm);
    layer.conv.weight = std::move(folded.weight);
    layer.conv.bias = std::move(folded.bias);
    return layer;
}

Mlp Mlp::load(const Weights& w, const std::string& prefix, int64_t in, int64_t hidden, int64_t out,
              int num_layers) {
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

at::Tensor Mlp::flat(const at::Tensor& x) const {
    at::Tensor y = x;
    for (size_t i = 0; i < layers.size(); ++i) {
        y = layers[i].flat(y);
        if (i + 1 < layers.size()) y = at::relu_(y);  // the product's own output: in place
    }
    return y;
}

}  // namespace ps::runtime
