// sam2/modeling/sam/prompt_encoder.py and PositionEmbeddingRandom, op for op.
#include "models/sam2/sam2_prompt_encoder.h"

#include <ATen/ATen.h>

namespace ps::sam2 {

Sam2PromptEncoder::Sam2PromptEncoder(const runtime::Weights& w, const Sam2Config& config)
    : input_size_(config.image_size), grid_(config.embedding_grid()), dim_(config.d_model) {
    const std::string p = "sam_prompt_encoder.";
    pe_layer_ = runtime::FourierPositionEncoding::load(w, p + "pe_layer", dim_);
    embeddings_ = runtime::PromptEmbeddings::load(w, p, dim_);
    mask_downscaling_ =
        runtime::MaskDownscaling::load(w, p + "mask_downscaling", config.mask_in_chans, dim_);
    dense_pe_ = pe_layer_.dense(grid_);
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
        const at::Tensor embedding = pe_layer_(points / static_cast<double>(input_size_));
        std::vector<at::Tensor> rows;
        for (size_t i = 0; i <= labels.size(); ++i) {
            const at::Tensor row = embedding[static_cast<int64_t>(i)].unsqueeze(0);
            const int label = i < labels.size() ? labels[i] : -1;
            if (label == -1) {
                rows.push_back(at::zeros_like(row) + embeddings_.not_a_point);
            } else if (label >= 0 && label <= 3) {
                rows.push_back(row + embeddings_.point[label]);
            } else {
                rows.push_back(row);  // the reference's torch.where leaves other labels as they are
            }
        }
        out.sparse = at::cat(rows, 0).unsqueeze(0);
    } else {
        out.sparse = at::empty({1, 0, dim_}, pe_layer_.gaussian.options());
    }
    if (mask_input.defined()) {
        out.dense = mask_downscaling_(mask_input.to(pe_layer_.gaussian.scalar_type()));
    } else {
        out.dense = embeddings_.no_mask_dense(grid_);
    }
    return out;
}

}  // namespace ps::sam2
