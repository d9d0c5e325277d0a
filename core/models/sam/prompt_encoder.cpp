// segment_anything/modeling/prompt_encoder.py, op for op.
#include "models/sam/prompt_encoder.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ps::sam {

PromptEncoder::PromptEncoder(const runtime::Weights& w, const SamConfig& config)
    : input_size_(config.image_size), grid_(config.embedding_grid), dim_(config.prompt_dim) {
    const std::string p = "prompt_encoder.";
    gaussian_ = w.get(p + "pe_layer.positional_encoding_gaussian_matrix", {2, dim_ / 2});
    for (int i = 0; i < 4; ++i) {
        point_embeddings_.push_back(
            w.get(p + "point_embeddings." + std::to_string(i) + ".weight", {1, dim_}));
    }
    not_a_point_ = w.get(p + "not_a_point_embed.weight", {1, dim_});
    no_mask_ = w.get(p + "no_mask_embed.weight", {1, dim_});
    const int64_t chans = config.mask_in_chans;
    mask_conv1_ =
        runtime::Conv2d::load(w, p + "mask_downscaling.0", 1, chans / 4, 2, 2, 0, 1, true);
    mask_norm1_ = runtime::LayerNorm2d::load(w, p + "mask_downscaling.1", chans / 4);
    mask_conv2_ =
        runtime::Conv2d::load(w, p + "mask_downscaling.3", chans / 4, chans, 2, 2, 0, 1, true);
    mask_norm2_ = runtime::LayerNorm2d::load(w, p + "mask_downscaling.4", chans);
    mask_conv3_ = runtime::Conv2d::load(w, p + "mask_downscaling.6", chans, dim_, 1, 1, 0, 1, true);

    // PositionEmbeddingRandom.forward(): cumsum - 0.5 over a grid of ones, divided by the size,
    // is exactly (i + 0.5) / G in float32.
    const auto opts = gaussian_.options();
    const at::Tensor centres = (at::arange(grid_, opts) + 0.5) / static_cast<double>(grid_);
    const at::Tensor y = centres.view({grid_, 1}).expand({grid_, grid_});
    const at::Tensor x = centres.view({1, grid_}).expand({grid_, grid_});
    dense_pe_ = fourier(at::stack({x, y}, -1)).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

at::Tensor PromptEncoder::fourier(const at::Tensor& unit_coords) const {
    at::Tensor c = unit_coords.to(gaussian_.scalar_type());
    c = at::matmul(2 * c - 1, gaussian_);
    c = c * (2 * M_PI);
    return at::cat({at::sin(c), at::cos(c)}, -1);
}

at::Tensor PromptEncoder::embed_points(const at::Tensor& coords, const std::vector<int>& labels,
                                       bool pad) const {
    at::Tensor points = coords + 0.5;
    std::vector<int> all_labels = labels;
    if (pad) {
        points = at::cat({points, at::zeros({1, 2}, points.options())}, 0);
        all_labels.push_back(-1);
    }
    // forward_with_coords(): x / width, y / height of the padded input frame.
    const at::Tensor unit = points / static_cast<double>(input_size_);
    at::Tensor embedding = fourier(unit);  // N x C
    std::vector<at::Tensor> rows;
    for (size_t i = 0; i < all_labels.size(); ++i) {
        const at::Tensor row = embedding[static_cast<int64_t>(i)].unsqueeze(0);
        switch (all_labels[i]) {
            case -1:
                rows.push_back(at::zeros_like(row) + not_a_point_);
                break;
            case 0:
                rows.push_back(row + point_embeddings_[0]);
                break;
            default:
                rows.push_back(row + point_embeddings_[1]);
                break;
        }
    }
    return at::cat(rows, 0);
}

at::Tensor PromptEncoder::embed_box(const at::Tensor& box) const {
    const at::Tensor corners = (box + 0.5).view({2, 2}) / static_cast<double>(input_size_);
    const at::Tensor embedding = fourier(corners);
    return at::cat({embedding[0].unsqueeze(0) + point_embeddings_[2],
                    embedding[1].unsqueeze(0) + point_embeddings_[3]},
                   0);
}

at::Tensor PromptEncoder::embed_mask(const at::Tensor& mask) const {
    at::Tensor x = at::gelu(mask_norm1_(mask_conv1_(mask.to(gaussian_.scalar_type()))));
    x = at::gelu(mask_norm2_(mask_conv2_(x)));
    return mask_conv3_(x);
}

EncodedPrompt PromptEncoder::forward(const at::Tensor& point_coords, const std::vector<int>& labels,
                                     const at::Tensor& box, const at::Tensor& mask_input) const {
    std::vector<at::Tensor> tokens;
    const bool has_box = box.defined();
    if (point_coords.defined() && point_coords.size(0) > 0) {
        tokens.push_back(embed_points(point_coords, labels, /*pad=*/!has_box));
    }
    if (has_box) tokens.push_back(embed_box(box));
    EncodedPrompt out;
    out.sparse = tokens.empty() ? at::empty({0, dim_}, gaussian_.options()) : at::cat(tokens, 0);
    out.sparse = out.sparse.unsqueeze(0);
    out.has_mask_input = mask_input.defined();
    out.dense = out.has_mask_input ? embed_mask(mask_input) : no_mask_dense();
    return out;
}

at::Tensor PromptEncoder::no_mask_dense() const {
    return no_mask_.view({1, dim_, 1, 1}).expand({1, dim_, grid_, grid_});
}

}  // namespace ps::sam
