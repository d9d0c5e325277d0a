// PositionEmbeddingRandom and mask_downscaling of the SAM prompt encoders, op for op.
#include "models/runtime/prompt_encoding.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ps::runtime {

FourierPositionEncoding FourierPositionEncoding::load(const Weights& w, const std::string& prefix,
                                                      int64_t dim) {
    return {w.get(prefix + ".positional_encoding_gaussian_matrix", {2, dim / 2})};
}

at::Tensor FourierPositionEncoding::operator()(const at::Tensor& unit_coords) const {
    at::Tensor c = unit_coords.to(gaussian.scalar_type());
    c = at::matmul(2 * c - 1, gaussian);
    c = c * (2 * M_PI);
    return at::cat({at::sin(c), at::cos(c)}, -1);
}

at::Tensor FourierPositionEncoding::dense(int64_t grid) const {
    // forward(): cumsum - 0.5 over a grid of ones, divided by the size, is exactly (i + 0.5) / G
    // in float32.
    const at::Tensor centres =
        (at::arange(grid, gaussian.options()) + 0.5) / static_cast<double>(grid);
    const at::Tensor y = centres.view({grid, 1}).expand({grid, grid});
    const at::Tensor x = centres.view({1, grid}).expand({grid, grid});
    return (*this)(at::stack({x, y}, -1)).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

PromptEmbeddings PromptEmbeddings::load(const Weights& w, const std::string& prefix, int64_t dim) {
    PromptEmbeddings e;
    for (int i = 0; i < 4; ++i) {
        e.point.push_back(
            w.get(prefix + "point_embeddings." + std::to_string(i) + ".weight", {1, dim}));
    }
    e.not_a_point = w.get(prefix + "not_a_point_embed.weight", {1, dim});
    e.no_mask = w.get(prefix + "no_mask_embed.weight", {1, dim});
    return e;
}

at::Tensor PromptEmbeddings::no_mask_dense(int64_t grid) const {
    const int64_t dim = no_mask.size(1);
    return no_mask.view({1, dim, 1, 1}).expand({1, dim, grid, grid});
}

MaskDownscaling MaskDownscaling::load(const Weights& w, const std::string& prefix,
                                      int64_t mask_in_chans, int64_t dim) {
    const int64_t chans = mask_in_chans;
    MaskDownscaling m;
    m.conv1 = Conv2d::load(w, prefix + ".0", 1, chans / 4, 2, 2, 0, 1, true);
    m.norm1 = LayerNorm2d::load(w, prefix + ".1", chans / 4);
    m.conv2 = Conv2d::load(w, prefix + ".3", chans / 4, chans, 2, 2, 0, 1, true);
    m.norm2 = LayerNorm2d::load(w, prefix + ".4", chans);
    m.conv3 = Conv2d::load(w, prefix + ".6", chans, dim, 1, 1, 0, 1, true);
    return m;
}

at::Tensor MaskDownscaling::operator()(const at::Tensor& mask) const {
    at::Tensor x = at::gelu(norm1(conv1(mask)));
    x = at::gelu(norm2(conv2(x)));
    return conv3(x);
}

}  // namespace ps::runtime
