// InSPyReNet.forward_inspyre and forward_inference of lib/InSPyReNet.py.
#include "models/inspyrenet/inspyrenet_network.h"

#include <ATen/ATen.h>

#include "models/runtime/map_ops.h"

namespace ps::inspyrenet {

InSPyReNetNetwork::InSPyReNetNetwork(const std::map<std::string, at::Tensor>& tensors,
                                     const InSPyReNetConfig& config, const std::string& file_label)
    : config_(config),
      dtype_(at::kFloat),
      device_(at::kCPU),
      memory_format_(at::MemoryFormat::Contiguous),
      pyramid_(tensors.at("decoder.conv1.conv.weight").device()) {
    const runtime::Weights w(tensors, file_label);
    const at::Tensor& first = w.get("decoder.conv1.conv.weight");
    dtype_ = first.scalar_type();
    device_ = first.device();
    memory_format_ = first.suggest_memory_format();
    if (config.backbone == Backbone::SwinB) {
        swin_ = runtime::SwinV1::load(w, "backbone.", config.swin);
    } else {
        res2net_ = runtime::Res2Net::load(w, "backbone.", config.res2net);
    }
    const int64_t d = config.depth, base = config.base_size;
    for (int k = 0; k < 5; ++k) {
        context_[k] = PaaE::load(w, "context" + std::to_string(k + 1), config.in_channels[k], d);
    }
    decoder_ = PaaD::load(w, "decoder", 3 * d, d);
    const bool fused = config.cudnn_conv_relu;
    attention_[0] = Sica::load(w, "attention0", d, d, true, base, fused);
    attention_[1] = Sica::load(w, "attention1", 2 * d, d, true, base / 2, fused);
    attention_[2] = Sica::load(w, "attention2", 2 * d, d, false, base / 4, fused);
}

std::vector<at::Tensor> InSPyReNetNetwork::backbone(const at::Tensor& input) const {
    const at::Tensor x = input.to(dtype_).contiguous(memory_format_);
    if (res2net_) return res2net_->forward(x);
    runtime::SwinV1Features f = swin_->forward(x);
    std::vector<at::Tensor> maps{f.patch_embed};
    for (at::Tensor& stage : f.stages) maps.push_back(stage);
    return maps;
}

SaliencyPyramid InSPyReNetNetwork::forward_pyramid(const at::Tensor& input) const {
    const int64_t H = input.size(2), W = input.size(3);
    std::vector<at::Tensor> x = backbone(input);
    for (int k = 0; k < 5; ++k) x[k] = context_[k](x[k]);
    auto [f3, d3] = decoder_(x[2], x[3], x[4]);

    // The Laplacian reconstructions are float32 (ImagePyramid); the attention modules take
    // them back in the model dtype. Each F.interpolate + torch.cat below is one pass on the GPU
    // (map_ops.h; bilinear, align_corners=False).
    SaliencyPyramid out;
    out.d[0] = d3.to(at::kFloat);
    auto [f2, p2] =
        attention_[2](runtime::resize_concat({{x[1]}, {f3}}, H / 4, W / 4), d3, at::Tensor());
    out.p[0] = p2.to(at::kFloat);
    out.d[1] = pyramid_.reconstruct(out.d[0], out.p[0]);

    auto [f1, p1] = attention_[1](runtime::resize_concat({{x[0]}, {f2}}, H / 2, W / 2),
                                  out.d[1].to(dtype_), p2);
    out.p[1] = p1.to(at::kFloat);
    out.d[2] = pyramid_.reconstruct(out.d[1], out.p[1]);

    f1 = runtime::resize_concat({{f1}}, H, W);
    const at::Tensor p0 = attention_[0](f1, out.d[2].to(dtype_), p1).second;
    out.p[2] = p0.to(at::kFloat);
    out.d[3] = pyramid_.reconstruct(out.d[2], out.p[2]);
    return out;
}

SaliencyPyramid InSPyReNetNetwork::forward_blended(const at::Tensor& high, const at::Tensor& low,
                                                   int64_t threshold) const {
    // `H <= threshold or W <= threshold`: the low-resolution input alone.
    if (high.size(2) <= threshold || high.size(3) <= threshold) return forward_pyramid(low);
    const SaliencyPyramid lr = forward_pyramid(low);
    const SaliencyPyramid hr = forward_pyramid(high);
    return blend_pyramids(pyramid_, lr, hr);
}

at::Tensor InSPyReNetNetwork::forward(const at::Tensor& input) const {
    return prediction(forward_pyramid(input).d[3]);
}

}  // namespace ps::inspyrenet
