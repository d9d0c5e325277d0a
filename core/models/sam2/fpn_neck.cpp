// image_encoder.py's FpnNeck.forward and position_encoding.py's PositionEmbeddingSine._pe.
#include "models/sam2/fpn_neck.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace ps::sam2 {

FpnNeck::FpnNeck(const runtime::Weights& w, const Sam2Config& config)
    : top_down_levels_(config.fpn_top_down_levels) {
    for (size_t i = 0; i < config.backbone_channels.size(); ++i) {
        convs_.push_back(
            runtime::Conv2d::load(w, "image_encoder.neck.convs." + std::to_string(i) + ".conv",
                                  config.backbone_channels[i], config.d_model, 1, 1, 0, 1, true));
    }
}

std::vector<at::Tensor> FpnNeck::forward(const std::vector<at::Tensor>& trunk) const {
    const int64_t n = static_cast<int64_t>(convs_.size()) - 1;
    std::vector<at::Tensor> out(convs_.size());
    at::Tensor previous;
    for (int64_t i = n; i >= 0; --i) {
        const at::Tensor lateral = convs_[n - i](trunk[i]);
        const bool top_down = std::find(top_down_levels_.begin(), top_down_levels_.end(), i) !=
                              top_down_levels_.end();
        if (top_down && previous.defined()) {
            // The reference upsamples in float32 (prev_features.to(float32)), nearest, ×2; the
            // sum is cast back to the network's precision (the reference would promote it).
            const at::Tensor up = at::upsample_nearest2d(
                previous.to(at::kFloat), {previous.size(2) * 2, previous.size(3) * 2});
            previous = (lateral.to(at::kFloat) + up).to(lateral.scalar_type());
        } else {
            previous = lateral;
        }
        out[i] = previous;
    }
    return out;
}

at::Tensor sine_position_encoding(int64_t channels, int64_t H, int64_t W,
                                  const at::Device& device) {
    const int64_t feats = channels / 2;
    const double scale = 2 * M_PI, eps = 1e-6;
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
    at::Tensor y = at::arange(1, H + 1, opts).view({1, -1, 1}).repeat({1, 1, W});
    at::Tensor x = at::arange(1, W + 1, opts).view({1, 1, -1}).repeat({1, H, 1});
    y = y / (y.slice(1, H - 1, H) + eps) * scale;
    x = x / (x.slice(2, W - 1, W) + eps) * scale;
    at::Tensor dim_t = at::arange(feats, opts);
    dim_t = at::pow(10000.0, 2 * at::floor_divide(dim_t, 2) / static_cast<double>(feats));
    const auto encode = [&](const at::Tensor& embed) {
        const at::Tensor pos = embed.unsqueeze(-1) / dim_t;
        using at::indexing::None;
        using at::indexing::Slice;
        const at::Tensor even = pos.index({"...", Slice(0, None, 2)}).sin();
        const at::Tensor odd = pos.index({"...", Slice(1, None, 2)}).cos();
        return at::stack({even, odd}, 4).flatten(3);
    };
    return at::cat({encode(y), encode(x)}, 3).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace ps::sam2
