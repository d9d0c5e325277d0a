// The prompt-encoder pieces SAM and SAM 2 share (segment_anything's and sam2's
// prompt_encoder.py, identical there): the random Fourier positional encoding of points
// (PositionEmbeddingRandom) and the mask downscaling of a low-resolution mask input.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "models/runtime/layers.h"
#include "models/runtime/weights.h"

namespace ps::runtime {

// PositionEmbeddingRandom: `<prefix>.positional_encoding_gaussian_matrix`, 2 x dim/2.
struct FourierPositionEncoding {
    at::Tensor gaussian;
    static FourierPositionEncoding load(const Weights& w, const std::string& prefix, int64_t dim);
    // _pe_encoding of coordinates already normalised to [0, 1]: ... x 2 -> ... x dim, in the
    // matrix's dtype.
    at::Tensor operator()(const at::Tensor& unit_coords) const;
    // forward((grid, grid)) as get_dense_pe() returns it: 1 x dim x grid x grid.
    at::Tensor dense(int64_t grid) const;
};

// point_embeddings.0..3 (background point, object point, box corners), not_a_point_embed and
// no_mask_embed, 1 x dim each.
struct PromptEmbeddings {
    std::vector<at::Tensor> point;
    at::Tensor not_a_point, no_mask;
    static PromptEmbeddings load(const Weights& w, const std::string& prefix, int64_t dim);
    // The dense embedding of a prompt without a mask input: no_mask over a grid x grid map.
    at::Tensor no_mask_dense(int64_t grid) const;
};

// mask_downscaling: conv 2x2/2 -> LayerNorm2d -> GELU -> conv 2x2/2 -> LayerNorm2d -> GELU ->
// conv 1x1, from 1 channel through mask_in_chans / 4 and mask_in_chans to dim.
struct MaskDownscaling {
    Conv2d conv1, conv2, conv3;
    LayerNorm2d norm1, norm2;
    static MaskDownscaling load(const Weights& w, const std::string& prefix, int64_t mask_in_chans,
                                int64_t dim);
    // mask: N x 1 x 4G x 4G logits, already in the weights' dtype.
    at::Tensor operator()(const at::Tensor& mask) const;
};

}  // namespace ps::runtime
