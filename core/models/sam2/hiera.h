// SAM 2's Hiera image trunk (sam2/modeling/backbones/hieradet.py), op for op: patch embedding,
// the windowed background + window positional embedding, MultiScaleBlocks with q-pooling at the
// stage changes, windowed and global attention.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "models/runtime/layers.h"
#include "models/sam2/sam2_config.h"

namespace ps::sam2 {

struct HieraBlock {
    int64_t dim = 0, dim_out = 0, heads = 1, window = 0;
    bool q_pool = false;
    runtime::LayerNorm norm1, norm2;
    runtime::Linear qkv, attn_proj, proj;  // proj: the shortcut's widening (dim != dim_out)
    runtime::Linear mlp0, mlp1;
    // x: B x H x W x C (channels last), as hieradet.py keeps it.
    at::Tensor operator()(const at::Tensor& x) const;

  private:
    at::Tensor attention(const at::Tensor& x) const;
};

class Hiera {
  public:
    Hiera(const runtime::Weights& w, const Sam2Config& config);
    // image: 1 x 3 x S x S normalised. The output of each stage's last block, NCHW, from the
    // finest (S/4) to the coarsest (S/32).
    std::vector<at::Tensor> forward(const at::Tensor& image) const;
    // _get_pos_embed: bicubic background embedding plus the tiled window embedding, 1 x h x w x C.
    at::Tensor positional_embedding(int64_t h, int64_t w) const;

  private:
    // positional_embedding per grid size, made once: a function of the weights alone, it was
    // rebuilt (a bicubic upsampling and five more kernels) for every frame of a video.
    struct PositionCache {
        std::mutex mutex;
        std::map<std::pair<int64_t, int64_t>, at::Tensor> by_size;
    };
    at::Tensor cached_positional_embedding(int64_t h, int64_t w) const;
    std::shared_ptr<PositionCache> positions_ = std::make_shared<PositionCache>();
    runtime::Conv2d patch_embed_;
    at::Tensor pos_embed_, pos_embed_window_;
    std::vector<HieraBlock> blocks_;
    std::vector<int64_t> stage_ends_;
};

}  // namespace ps::sam2
