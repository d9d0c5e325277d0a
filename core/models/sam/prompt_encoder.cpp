// segment_anything/modeling/prompt_encoder.py, op for op.
#include "models/sam/prompt_encoder.h"

#include <ATen/ATen.h>

namespace ps::sam {

PromptEncoder::PromptEncoder(const runtime::Weights& w, const SamConfig& config)
    : input_size_(config.image_size), grid_(config.embedding_grid), dim_(config.prompt_dim) {
    const std::string p = "prompt_encoder.";
    pe_layer_ = runtime::FourierPositionEncoding::load(w, p + "pe_layer", dim_);
    embeddings_ = runtime::PromptEmbeddings::load(w, p, dim_);
    mask_downscaling_ =
        runtime::MaskDownscaling::load(w, p + "mask_downscaling", config.mask_in_chans, dim_);
    dense_pe_ = pe_layer_.dense(grid_);
}

at::Tensor PromptEncoder::fourier(const at::Tensor& unit_coords) const {
    return pe_layer_(unit_coords);
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
                rows.push_back(at::zeros_like(row) + embeddings_.not_a_point);
                break;
            case 0:
                rows.push_back(row + embeddings_.point[0]);
                break;
            default:
                rows.push_back(row + embeddings_.point[1]);
                break;
        }
    }
    return at::cat(rows, 0);
}

at::Tensor PromptEncoder::embed_box(const at::Tensor& box) const {
    const at::Tensor corners = (box + 0.5).view({2, 2}) / static_cast<double>(input_size_);
    const at::Tensor embedding = fourier(corners);
    return at::cat({embedding[0].unsqueeze(0) + embeddings_.point[2],
                    embedding[1].unsqueeze(0) + embeddings_.point[3]},
                   0);
}

at::Tensor PromptEncoder::embed_mask(const at::Tensor& mask) const {
    return mask_downscaling_(mask.to(pe_layer_.gaussian.scalar_type()));
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
    out.sparse =
        tokens.empty() ? at::empty({0, dim_}, pe_layer_.gaussian.options()) : at::cat(tokens, 0);
    out.sparse = out.sparse.unsqueeze(0);
    out.has_mask_input = mask_input.defined();
    out.dense = out.has_mask_input ? embed_mask(mask_input) : no_mask_dense();
    return out;
}

at::Tensor PromptEncoder::no_mask_dense() const {
    return embeddings_.no_mask_dense(grid_);
}

}  // namespace ps::sam
