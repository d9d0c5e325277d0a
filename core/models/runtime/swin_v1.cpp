// Swin-V1 forward in ATen, op for op as swin_v1.py's SwinTransformer (tokens kept as N x H x W x
// C).
#include "models/runtime/swin_v1.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "models/runtime/swin_attention.h"
#include "models/runtime/swin_windows.h"

namespace ps::runtime {
namespace {

std::string joined(const std::vector<int64_t>& values) {
    std::ostringstream out;
    for (size_t i = 0; i < values.size(); ++i) out << (i ? "/" : "") << values[i];
    return out.str();
}

std::string layer_key(const std::string& prefix, int64_t i) {
    return prefix + "layers." + std::to_string(i);
}

std::string block_key(const std::string& prefix, int64_t i, int64_t j) {
    return layer_key(prefix, i) + ".blocks." + std::to_string(j);
}

// WindowAttention's relative_position_index: for tokens a, b of a w x w window,
// (ya - yb + w - 1) * (2w - 1) + (xa - xb + w - 1).
at::Tensor relative_position_index(int64_t window) {
    const at::Tensor coords = at::arange(window, at::kLong);
    const at::Tensor y = coords.repeat_interleave(window), x = coords.repeat({window});
    const at::Tensor dy = y.unsqueeze(1) - y.unsqueeze(0) + (window - 1);
    const at::Tensor dx = x.unsqueeze(1) - x.unsqueeze(0) + (window - 1);
    return dy * (2 * window - 1) + dx;
}

}  // namespace

std::string SwinV1Config::describe() const {
    std::ostringstream out;
    out << "embed " << embed_dim << ", depths " << joined(depths) << ", heads " << joined(num_heads)
        << ", window " << window_size;
    return out.str();
}

SwinV1Config official_swin_v1_config(const std::string& name) {
    SwinV1Config c;
    if (name == "swin_v1_t") {
        c.embed_dim = 96, c.depths = {2, 2, 6, 2}, c.num_heads = {3, 6, 12, 24}, c.window_size = 7;
    } else if (name == "swin_v1_s") {
        c.embed_dim = 96, c.depths = {2, 2, 18, 2}, c.num_heads = {3, 6, 12, 24}, c.window_size = 7;
    } else if (name == "swin_v1_b") {
        c.embed_dim = 128, c.depths = {2, 2, 18, 2}, c.num_heads = {4, 8, 16, 32};
        c.window_size = 12;
    } else if (name == "swin_v1_l") {
        c.embed_dim = 192, c.depths = {2, 2, 18, 2}, c.num_heads = {6, 12, 24, 48};
        c.window_size = 12;
    } else {
        throw std::invalid_argument("unknown Swin-V1 backbone " + name);
    }
    return c;
}

std::string swin_v1_name(const SwinV1Config& config) {
    for (const char* name : {"swin_v1_t", "swin_v1_s", "swin_v1_b", "swin_v1_l"}) {
        const SwinV1Config c = official_swin_v1_config(name);
        if (c.embed_dim == config.embed_dim && c.depths == config.depths &&
            c.num_heads == config.num_heads && c.window_size == config.window_size &&
            c.patch_size == config.patch_size && c.mlp_hidden_ratio == config.mlp_hidden_ratio) {
            return name;
        }
    }
    return "";
}

SwinV1Config infer_swin_v1_config(const Weights& w, const std::string& prefix) {
    SwinV1Config c;
    const at::Tensor& proj = w.get(prefix + "patch_embed.proj.weight");
    if (proj.dim() != 4 || proj.size(2) != proj.size(3)) {
        w.fail("tensor " + prefix + "patch_embed.proj.weight has shape " +
               shape_string(proj.sizes()) + ", expected [embed_dim, 3, patch, patch]");
    }
    c.embed_dim = proj.size(0);
    c.in_channels = proj.size(1);
    c.patch_size = proj.size(2);
    const int stages = w.count_children(prefix + "layers");
    if (stages == 0) w.fail("missing tensors " + prefix + "layers.0.*");
    c.depths.clear();
    c.num_heads.clear();
    for (int i = 0; i < stages; ++i) {
        const int depth = w.count_children(layer_key(prefix, i) + ".blocks");
        if (depth == 0) w.fail("missing tensors " + layer_key(prefix, i) + ".blocks.0.*");
        c.depths.push_back(depth);
        const std::string table_key =
            block_key(prefix, i, 0) + ".attn.relative_position_bias_table";
        const at::Tensor& table = w.get(table_key);
        const int64_t side = std::llround(std::sqrt(static_cast<double>(table.size(0))));
        if (table.dim() != 2 || side * side != table.size(0) || side % 2 == 0) {
            w.fail("tensor " + table_key + " has shape " + shape_string(table.sizes()) +
                   ", expected [(2 * window - 1)², heads]");
        }
        c.num_heads.push_back(table.size(1));
        const int64_t window = (side + 1) / 2;
        if (i == 0) c.window_size = window;
        if (window != c.window_size) {
            w.fail("tensor " + table_key + " is for window " + std::to_string(window) +
                   ", layer 0's for " + std::to_string(c.window_size));
        }
    }
    const at::Tensor& fc1 = w.get(block_key(prefix, 0, 0) + ".mlp.fc1.weight");
    c.mlp_hidden_ratio = fc1.size(0) / c.embed_dim;
    return c;
}

void add_swin_v1_specs(TensorSpecs& s, const std::string& prefix, const SwinV1Config& c) {
    const int64_t E = c.embed_dim, P = c.patch_size, N = c.window_size * c.window_size;
    const int64_t table = (2 * c.window_size - 1) * (2 * c.window_size - 1);
    s[prefix + "patch_embed.proj.weight"] = {{E, c.in_channels, P, P}};
    s[prefix + "patch_embed.proj.bias"] = {{E}};
    s[prefix + "patch_embed.norm.weight"] = {{E}};
    s[prefix + "patch_embed.norm.bias"] = {{E}};
    for (int64_t i = 0; i < c.stages(); ++i) {
        const int64_t D = c.stage_dim(i), H = D * c.mlp_hidden_ratio;
        for (int64_t j = 0; j < c.depths[i]; ++j) {
            const std::string b = block_key(prefix, i, j) + ".";
            for (const char* norm : {"norm1", "norm2"}) {
                s[b + norm + ".weight"] = {{D}};
                s[b + norm + ".bias"] = {{D}};
            }
            s[b + "attn.relative_position_bias_table"] = {{table, c.num_heads[i]}};
            s[b + "attn.relative_position_index"] = {{N, N}, true};
            s[b + "attn.qkv.weight"] = {{3 * D, D}};
            s[b + "attn.qkv.bias"] = {{3 * D}};
            s[b + "attn.proj.weight"] = {{D, D}};
            s[b + "attn.proj.bias"] = {{D}};
            s[b + "mlp.fc1.weight"] = {{H, D}};
            s[b + "mlp.fc1.bias"] = {{H}};
            s[b + "mlp.fc2.weight"] = {{D, H}};
            s[b + "mlp.fc2.bias"] = {{D}};
        }
        if (i + 1 < c.stages()) {
            const std::string d = layer_key(prefix, i) + ".downsample.";
            s[d + "norm.weight"] = {{4 * D}};
            s[d + "norm.bias"] = {{4 * D}};
            s[d + "reduction.weight"] = {{2 * D, 4 * D}};
        }
        s[prefix + "norm" + std::to_string(i) + ".weight"] = {{D}};
        s[prefix + "norm" + std::to_string(i) + ".bias"] = {{D}};
    }
}

SwinV1 SwinV1::load(const Weights& w, const std::string& prefix, const SwinV1Config& c) {
    SwinV1 net;
    net.config_ = c;
    net.patch_proj_ = Conv2d::load(w, prefix + "patch_embed.proj", c.in_channels, c.embed_dim,
                                   c.patch_size, c.patch_size, 0, 1, true);
    net.patch_norm_ = LayerNorm::load(w, prefix + "patch_embed.norm", c.embed_dim, 1e-5);
    const int64_t N = c.window_size * c.window_size;
    const int64_t table = (2 * c.window_size - 1) * (2 * c.window_size - 1);
    const at::Tensor index = relative_position_index(c.window_size);
    for (int64_t i = 0; i < c.stages(); ++i) {
        const int64_t D = c.stage_dim(i), hidden = D * c.mlp_hidden_ratio;
        Stage stage;
        for (int64_t j = 0; j < c.depths[i]; ++j) {
            const std::string b = block_key(prefix, i, j);
            Block block;
            block.heads = c.num_heads[i];
            block.shift = j % 2 == 1 ? c.window_size / 2 : 0;
            block.norm1 = LayerNorm::load(w, b + ".norm1", D, 1e-5);
            block.norm2 = LayerNorm::load(w, b + ".norm2", D, 1e-5);
            block.qkv = Linear::load(w, b + ".attn.qkv", D, 3 * D);
            block.proj = Linear::load(w, b + ".attn.proj", D, D);
            block.fc1 = Linear::load(w, b + ".mlp.fc1", D, hidden);
            block.fc2 = Linear::load(w, b + ".mlp.fc2", hidden, D);
            const at::Tensor& bias_table =
                w.get(b + ".attn.relative_position_bias_table", {table, block.heads});
            block.position_bias = bias_table.index_select(0, index.view(-1).to(bias_table.device()))
                                      .view({N, N, block.heads})
                                      .permute({2, 0, 1})
                                      .contiguous();
            stage.blocks.push_back(std::move(block));
        }
        if (i + 1 < c.stages()) {
            const std::string d = layer_key(prefix, i) + ".downsample";
            stage.has_downsample = true;
            stage.merge_norm = LayerNorm::load(w, d + ".norm", 4 * D, 1e-5);
            stage.reduction = Linear::load(w, d + ".reduction", 4 * D, 2 * D, false);
        }
        stage.out_norm = LayerNorm::load(w, prefix + "norm" + std::to_string(i), D, 1e-5);
        net.stages_.push_back(std::move(stage));
    }
    return net;
}

// BasicLayer.forward's attn_mask: the padded map split into 3 x 3 regions by the slices
// [0, Hp - w), [Hp - w, Hp - shift), [Hp - shift, Hp) (likewise W); after the cyclic shift, tokens
// of one window from different regions must not attend to each other. nW x 1 x N x N.
at::Tensor SwinV1::shift_mask(int64_t Hp, int64_t Wp, const at::Tensor& like) const {
    // Built on the input's device (no host-to-device copy, so a CUDA graph can capture it).
    const int64_t w = config_.window_size, shift = w / 2;
    const at::TensorOptions options = like.options().dtype(at::kFloat);
    const auto regions = [&](int64_t n) {
        const at::Tensor at_ = at::arange(n, options);
        return (at_ >= n - w).to(at::kFloat) + (at_ >= n - shift).to(at::kFloat);
    };
    const at::Tensor label =
        (regions(Hp).unsqueeze(1) * 3 + regions(Wp).unsqueeze(0)).view({1, Hp, Wp, 1});
    const at::Tensor windows = swin_window_partition(label, w).squeeze(-1);  // nW x N
    const at::Tensor differs = windows.unsqueeze(1) != windows.unsqueeze(2);
    const at::Tensor mask =
        at::zeros(differs.sizes(), options).masked_fill_(differs, config_.shift_mask_value);
    return mask.unsqueeze(1).to(like.scalar_type());
}

// Capped, never evicted: a CUDA graph recorded around a forward pass reads the cached tensor's
// memory, which must outlive it. Past the cap (dynamic input sizes) the sum is made per call.
constexpr size_t kShiftedBiasSizes = 4;

at::Tensor SwinV1::shifted_bias(const Block& block, int64_t Hp, int64_t Wp,
                                const at::Tensor& like) const {
    const auto key = std::make_tuple(Hp, Wp, static_cast<int>(like.scalar_type()),
                                     static_cast<int>(like.device().index()));
    ShiftedBiasCache& cache = *block.shifted_bias;
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (auto it = cache.by_size.find(key); it != cache.by_size.end()) return it->second;
    // The mask only on a miss: made per stage and pass, its dozen small kernels ran in every
    // forward although the cached sum no longer needed it.
    at::Tensor sum = (block.position_bias.unsqueeze(0) + shift_mask(Hp, Wp, like)).contiguous();
    if (cache.by_size.size() < kShiftedBiasSizes) cache.by_size.emplace(key, sum);
    return sum;
}

at::Tensor SwinV1::run_block(const Block& block, const at::Tensor& x,
                             const at::Tensor& mask) const {
    const int64_t B = x.size(0), C = x.size(3);
    const int64_t w = config_.window_size, N = w * w;
    // norm1, pad, roll, partition (one kernel on CUDA).
    const at::Tensor windows = swin_norm_partition(x, block.norm1, w, block.shift);  // B_ x N x C
    const int64_t windows_count = windows.size(0), heads = block.heads, head_dim = C / heads;
    const int64_t Hp = (x.size(1) + w - 1) / w * w, Wp = (x.size(2) + w - 1) / w * w;  // padded

    const at::Tensor projected = block.qkv(windows);  // windows x N x 3C
    // Our fused kernel on the GPU in half precision (swin_attention.h): the relative positions,
    // and the shifted blocks' mask with them, as the scores' bias.
    at::Tensor attended;
    if (half_on_gpu(windows) && swin_attention_kernel_enabled()) {
        attended = fused_window_attention(
            projected, block.shift == 0 ? block.position_bias : shifted_bias(block, Hp, Wp, x),
            heads);
    }
    if (attended.defined()) return finish_block(block, x, block.proj(attended));
    const at::Tensor qkv =
        projected.reshape({windows_count, N, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
    at::Tensor out;
#if TORCH_VERSION_MAJOR >= 2
    if (half_on_gpu(windows)) {
        // Fused attention on the GPU in half precision, the relative positions (and the shift
        // mask) as its additive bias: the explicit product below writes and rereads the
        // windows x heads x N x N scores five times, and its permutes copy q, k and the output.
        // q, k, v stay strided views of the qkv projection (head_dim contiguous, as the kernel
        // needs), and the output's transpose back is a view again.
        if (block.shift == 0) {
            out = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2],
                                                   block.position_bias.unsqueeze(0));
        } else {
            // The windows' bias differs per window (the shift mask): one nW x heads x N x N
            // tensor, made once per map size. Each image of a batch attends with it on its own
            // windows (views), where an expanded copy per image cost B times its bytes.
            const at::Tensor bias = shifted_bias(block, Hp, Wp, x);
            const int64_t nW = bias.size(0);
            std::vector<at::Tensor> parts;
            for (int64_t b = 0; b < B; ++b) {
                const auto mine = [&](int64_t i) { return qkv[i].narrow(0, b * nW, nW); };
                parts.push_back(at::scaled_dot_product_attention(mine(0), mine(1), mine(2), bias));
            }
            out = B == 1 ? parts[0] : at::cat(parts, 0);
        }
    }
#endif
    if (!out.defined()) {
        // scaled_dot_product_attention's math: q and k each scaled by sqrt(head_dim^-0.5).
        const double factor = std::sqrt(1.0 / std::sqrt(static_cast<double>(head_dim)));
        at::Tensor attn = at::matmul(qkv[0] * factor, (qkv[1] * factor).transpose(-2, -1));
        attn.add_(block.position_bias);
        if (block.shift > 0) attn.view({B, -1, heads, N, N}).add_(mask);
        out = at::matmul(at::softmax(attn, -1), qkv[2]);
    }
    return finish_block(block, x, block.proj(out.transpose(1, 2).reshape({windows_count, N, C})));
}

at::Tensor SwinV1::finish_block(const Block& block, const at::Tensor& x,
                                const at::Tensor& out) const {
    const int64_t w = config_.window_size;
    // Reverse, roll back, crop, the residual add and norm2 (one kernel on CUDA). On the GPU in
    // half precision the MLP's GELU and its residual add ride in its products' epilogues (fc2's
    // bias put into the residual by that kernel): two passes over the activations fewer.
    const bool epilogues = gemm_epilogues(x);
    const SwinResidual y = swin_merge_add_norm(out, x, block.norm2, w, block.shift,
                                               epilogues ? block.fc2.bias : at::Tensor());
    if (epilogues) return block.fc2.flat_onto(block.fc1.gelu_flat(y.normed), y.sum, true);
    return y.sum + block.fc2(at::gelu(block.fc1(y.normed)));
}

SwinV1Features SwinV1::forward(const at::Tensor& input) const {
    const int64_t P = config_.patch_size;
    // The maps come out in the input's layout: NHWC where the convolutional decoders run NHWC
    // (half precision on CUDA, place_conv_tensors), where the tokens' B x H x W x C permuted is
    // that layout already; a contiguous NCHW copy there cost the decoders a copy back per map.
    const at::MemoryFormat format = input.suggest_memory_format();
    at::Tensor x = input;
    const int64_t pad_w = (P - x.size(3) % P) % P, pad_h = (P - x.size(2) % P) % P;
    if (pad_w > 0 || pad_h > 0) x = at::constant_pad_nd(x, {0, pad_w, 0, pad_h});
    x = patch_norm_(patch_proj_(x).permute({0, 2, 3, 1}));  // B x Wh x Ww x C
    SwinV1Features features;
    features.patch_embed = x.permute({0, 3, 1, 2}).contiguous(format);
    const int64_t w = config_.window_size;
    for (const Stage& stage : stages_) {
        const int64_t H = x.size(1), W = x.size(2);
        const int64_t Hp = (H + w - 1) / w * w, Wp = (W + w - 1) / w * w;
        // The explicit product's shift mask (the fused path keeps its own, with the bias).
        const at::Tensor mask =
            stage.blocks.size() > 1 && !half_on_gpu(x) ? shift_mask(Hp, Wp, x) : at::Tensor();
        x = x.contiguous();
        for (const Block& block : stage.blocks) x = run_block(block, x, mask);
        features.stages.push_back(stage.out_norm(x).permute({0, 3, 1, 2}).contiguous(format));
        if (!stage.has_downsample) break;
        // PatchMerging: pad odd sizes, then the 2 x 2 neighbours in the order x0 (0, 0),
        // x1 (1, 0), x2 (0, 1), x3 (1, 1) concatenated on channels.
        at::Tensor m = x;
        if (H % 2 == 1 || W % 2 == 1) m = at::constant_pad_nd(m, {0, 0, 0, W % 2, 0, H % 2});
        const auto pick = [&](int64_t dy, int64_t dx) {
            return m.slice(1, dy, m.size(1), 2).slice(2, dx, m.size(2), 2);
        };
        m = at::cat({pick(0, 0), pick(1, 0), pick(0, 1), pick(1, 1)}, -1);
        x = stage.reduction(stage.merge_norm(m));
    }
    return features;
}

}  // namespace ps::runtime
