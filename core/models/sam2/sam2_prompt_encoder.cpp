// sam2/modeling/sam/prompt_encoder.py and PositionEmbeddingRandom, op for op.
#include "models/sam2/sam2_prompt_encoder.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ps::sam2 {

Sam2PromptEncoder::Sam2PromptEncoder(const runtime::Weights& w, const Sam2Config& config)
    : input_size_(config.image_size), grid_(config.embedding_grid()), dim_(config.d_model) {
    const std::string p = "sam_prompt_encoder.";
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

    // PositionEmbeddingRandom.forward(): (cumsum - 0.5) / G over a grid of ones is (i + 0.5) / G.
    const auto opts = gaussian_.options();
    const at::Tensor centres = (at::arange(grid_, opts) + 0.5) / static_cast<double>(grid_);
    const at::Tensor y = centres.view({grid_, 1}).expand({grid_, grid_});
    const at::Tensor x = centres.view({1, grid_}).expand({grid_, grid_});
    dense_pe_ = fourier(at::stack({x, y}, -1)).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

at::Tensor Sam2PromptEncoder::fourier(const at::Tensor& unit_coords) const {
    at::Tensor c = unit_coords.to(gaussian_.scalar_type());
    c = at::matmul(2 * c - 1, gaussian_);
    c = c * (2 * M_PI);
    return at::cat({at::sin(c), at::cos(c)}, -1);
}

Sam2EncodedPrompt Sam2PromptEncoder::forward(const at::Tensor& coords,
                                             const std::vector<int>& labels,
                                             const at::Tensor& mask_input) const {
    Sam2EncodedPrompt out;
    if (coords.defined() && coords.size(0) > 0) {
        // _embed_points(pad=True): the shift to pixel centres, then a (0, 0) not-a-point.
        const at::Tensor points = at::cat(
            {coords.to(at::kFloat) + 0.5, at::zeros({1, 2}, coords.options().dtype(at::kFloat))},
            0);
        const at::Tensor embedding = fourier(points / static_cast<double>(input_size_));
        std::vector<at::Tensor> rows;
        for (size_t i = 0; i <= labels.size(); ++i) {
            const at::Tensor row = embedding[static_cast<int64_t>(i)].unsqueeze(0);
            const int label = i < labels.size() ? labels[i] : -1;
            if (label == -1) {
                rows.push_back(at::zeros_like(row) + not_a_point_);
            } else if (label >= 0 && label <= 3) {
                rows.push_back(row + point_embeddings_[label]);
            } else {
                rows.push_back(row);  // the reference's torch.where leaves other labels as they are
            }
        }
        out.sparse = at::cat(rows, 0).unsqueeze(0);
    } else {
        out.sparse = at::empty({1, 0, dim_}, gaussian_.options());
    }
    if (mask_input.defined()) {
        at::Tensor x = at::gelu(mask_norm1_(mask_conv1_(mask_input.to(gaussian_.scalar_type()))));
        x = at::gelu(mask_norm2_(mask_conv2_(x)));
        out.dense = mask_conv3_(x);
    } else {
        out.dense = no_mask_.view({1, dim_, 1, 1}).expand({1, dim_, grid_, grid_});
    }
    return out;
}

}  // namespace ps::sam2
