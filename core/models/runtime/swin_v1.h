// Swin Transformer V1 backbone (Liu et al. 2021, "shifted windows") as the dense-prediction code
// builds it: BiRefNet's models/backbones/swin_v1.py and InSPyReNet's lib/backbones/
// SwinTransformer.py (both from Swin-Transformer-Object-Detection). Any input size: the patch
// embedding pads to a multiple of the patch, each block pads to whole windows (padded tokens take
// part in attention, as in the reference), patch merging pads odd sizes.
//
// Keys, below a prefix that includes its dot ("bb." for BiRefNet, "backbone." for InSPyReNet):
//   patch_embed.proj.{weight,bias}, patch_embed.norm.{weight,bias}
//   layers.<i>.blocks.<j>.{norm1,norm2}.{weight,bias}
//   layers.<i>.blocks.<j>.attn.{relative_position_bias_table, relative_position_index,
//                               qkv.{weight,bias}, proj.{weight,bias}}
//   layers.<i>.blocks.<j>.mlp.{fc1,fc2}.{weight,bias}
//   layers.<i>.downsample.{norm.{weight,bias}, reduction.weight}   (i < last stage)
//   norm<i>.{weight,bias}                                           (every output stage)
// relative_position_index (int64) is a function of the window size: it is computed here, never
// read (a random checkpoint's zeros there are harmless).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "models/runtime/layers.h"
#include "models/runtime/tensor_specs.h"
#include "models/runtime/weights.h"

namespace ps::runtime {

struct SwinV1Config {
    int64_t patch_size = 4;  // patch_embed.proj: kernel = stride = patch_size
    int64_t in_channels = 3;
    int64_t embed_dim = 96;  // stage i has embed_dim * 2^i channels
    std::vector<int64_t> depths{2, 2, 6, 2};
    std::vector<int64_t> num_heads{3, 6, 12, 24};
    int64_t window_size = 7;       // shifted blocks (odd j) roll by window_size / 2
    int64_t mlp_hidden_ratio = 4;  // mlp.fc1: dim -> dim * ratio
    // What the shifted-window mask adds between tokens of different regions: BiRefNet's
    // swin_v1.py uses -inf (its SDPA path); the detection code InSPyReNet copies uses -100.
    double shift_mask_value = -std::numeric_limits<double>::infinity();

    int64_t stages() const { return static_cast<int64_t>(depths.size()); }
    int64_t stage_dim(int64_t i) const { return embed_dim << i; }
    std::string describe() const;  // "embed 192, depths 2/2/18/2, heads 6/12/24/48, window 12"
};

// The published backbones: "swin_v1_t", "swin_v1_s", "swin_v1_b", "swin_v1_l" (swin_v1.py's
// constructors). Throws std::invalid_argument otherwise.
SwinV1Config official_swin_v1_config(const std::string& name);
// "swin_v1_l" etc. when `config` has a published backbone's widths, depths, heads and window;
// "" otherwise.
std::string swin_v1_name(const SwinV1Config& config);

// Reads embed_dim (patch_embed.proj), depths (blocks per layer), heads and window (the relative
// position table: (2w-1)² x heads) and the MLP ratio off the shapes. Throws WeightError naming
// the tensor. shift_mask_value keeps its default: the caller sets it for its family.
SwinV1Config infer_swin_v1_config(const Weights& w, const std::string& prefix);

// Every key and shape under `prefix` (relative_position_index as an integer tensor).
void add_swin_v1_specs(TensorSpecs& specs, const std::string& prefix, const SwinV1Config& config);

// The per-stage outputs norm<i>(x_out) as N x C_i x H_i x W_i (contiguous NCHW), H_0 = ceil(H /
// patch), each next stage ceil(H_i / 2); patch_embed: the patch embedding's (normed) map, which
// InSPyReNet also uses.
struct SwinV1Features {
    at::Tensor patch_embed;
    std::vector<at::Tensor> stages;
};

class SwinV1 {
  public:
    // Tensors already on their device and in the dtype to run in.
    static SwinV1 load(const Weights& w, const std::string& prefix, const SwinV1Config& config);
    // x: N x in_channels x H x W in the weights' dtype.
    SwinV1Features forward(const at::Tensor& x) const;
    const SwinV1Config& config() const { return config_; }

    struct ShiftedBiasCache {
        std::mutex mutex;
        std::map<std::tuple<int64_t, int64_t, int, int>, at::Tensor> by_size;
    };
    struct Block {
        LayerNorm norm1, norm2;
        Linear qkv, proj, fc1, fc2;
        at::Tensor position_bias;  // heads x N x N (N = window²), gathered once at load
        int64_t heads = 1, shift = 0;
        // Shifted blocks on the GPU: position_bias + the shift mask per padded map size, made
        // once (see shifted_bias).
        std::shared_ptr<ShiftedBiasCache> shifted_bias = std::make_shared<ShiftedBiasCache>();
    };
    struct Stage {
        std::vector<Block> blocks;
        bool has_downsample = false;
        LayerNorm merge_norm;
        Linear reduction;
        LayerNorm out_norm;
    };

  private:
    at::Tensor run_block(const Block& block, const at::Tensor& x, const at::Tensor& mask) const;
    // After the attention's output projection (windows x N x C): the merge back with the
    // residual and norm2, then the MLP.
    at::Tensor finish_block(const Block& block, const at::Tensor& x, const at::Tensor& out) const;
    at::Tensor shift_mask(int64_t Hp, int64_t Wp, const at::Tensor& like) const;
    at::Tensor shifted_bias(const Block& block, int64_t Hp, int64_t Wp,
                            const at::Tensor& like) const;

    SwinV1Config config_;
    Conv2d patch_proj_;
    LayerNorm patch_norm_;
    std::vector<Stage> stages_;
};

}  // namespace ps::runtime
