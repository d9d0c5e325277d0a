// SAM's ViT image encoder (segment_anything/modeling/image_encoder.py), op for op.
#include <ATen/ATen.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "models/runtime/layers.h"
#include "models/sam/image_encoder.h"
#include "models/sam/neck.h"
#include "models/sam/vit_window_attention.h"

namespace ps::sam {
namespace {

// get_rel_pos(): relative-position table gathered to (q_size, k_size, head_dim). It depends only
// on weights and sizes, so it is computed once at load rather than per image.
at::Tensor gather_rel_pos(const at::Tensor& rel_pos, int64_t q_size, int64_t k_size) {
    const int64_t max_rel_dist = 2 * std::max(q_size, k_size) - 1;
    at::Tensor table = rel_pos;
    if (rel_pos.size(0) != max_rel_dist) {
        table = at::upsample_linear1d(rel_pos.to(at::kFloat).t().unsqueeze(0), {max_rel_dist},
                                      /*align_corners=*/false)
                    .squeeze(0)
                    .t()
                    .to(rel_pos.scalar_type());
    }
    const double q_scale = std::max(static_cast<double>(k_size) / q_size, 1.0);
    const double k_scale = std::max(static_cast<double>(q_size) / k_size, 1.0);
    auto opts = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor q_coords = at::arange(q_size, opts).unsqueeze(1) * q_scale;
    const at::Tensor k_coords = at::arange(k_size, opts).unsqueeze(0) * k_scale;
    const at::Tensor index = ((q_coords - k_coords) + (k_size - 1) * k_scale).to(at::kLong);
    return table.index_select(0, index.flatten().to(table.device()))
        .view({q_size, k_size, table.size(1)});
}

struct VitAttention {
    runtime::Linear qkv, proj;
    int64_t num_heads = 1;
    double scale = 1.0;
    int64_t chunk_bytes = int64_t(128) << 20;
    at::Tensor rel_h, rel_w;            // gathered tables, undefined without relative positions
    at::Tensor rel_h_rows, rel_w_rows;  // the same, rows padded for the GPU kernels (CUDA only)

    at::Tensor operator()(const at::Tensor& x) const {
        const int64_t B = x.size(0), H = x.size(1), W = x.size(2);
        // qkv: B x (H*W) x 3 x heads x head_dim -> 3 x (B*heads) x (H*W) x head_dim
        const at::Tensor qkv_out =
            qkv(x).reshape({B, H * W, 3, num_heads, -1}).permute({2, 0, 3, 1, 4});
        const at::Tensor qkv_heads = qkv_out.reshape({3, B * num_heads, H * W, -1});
        const at::Tensor q = qkv_heads[0], k = qkv_heads[1], v = qkv_heads[2];
        at::Tensor out;
#if TORCH_VERSION_MAJOR >= 2
        if (runtime::half_on_gpu(q)) {
            // Fused attention on the GPU in bf16/fp16. The decomposed relative positions ride
            // inside the dot product (fused_rel_pos_attention) instead of a materialised bias,
            // which cost 12 x 4096 x 4096 values per global block. Measured on an H100, ViT-B bf16
            // encode: explicit product 15.3 ms, SDPA with the bias 10.9 ms, this 6.8 ms (both
            // with CUDA graphs; ViT-H 33.8 -> 27.8 ms). fp32 keeps the explicit product: the
            // biased kernel was slower there (ViT-B 37.9 -> 40.5 ms).
            out = rel_h.defined() ? fused_rel_pos_attention(q, k, v, H, W)
                                  : at::scaled_dot_product_attention(q.unsqueeze(0), k.unsqueeze(0),
                                                                     v.unsqueeze(0))
                                        .squeeze(0);
        }
#endif
        if (!out.defined()) out = explicit_attention(q, k, v, H, W);
        return proj(
            out.reshape({B, num_heads, H, W, -1}).permute({0, 2, 3, 1, 4}).reshape({B, H, W, -1}));
    }

#if TORCH_VERSION_MAJOR >= 2
    // The whole attention of a block on the GPU in half precision, from the normalised grid x
    // (unpadded) to the projected output on the same grid: qkv on the real tokens only, one
    // kernel cuts windows (padding with the bias, as the reference's zero padding gives) and
    // adds the relative positions to the rows, fused attention, one kernel back to the grid, and
    // the projection on real tokens only. On an H100 the pad/permute/cat/einsum copies this
    // replaces were half of a ViT-H bf16 forward.
    at::Tensor windowed(const at::Tensor& x, int64_t window) const {
        const int64_t B = x.size(0), H = x.size(1), W = x.size(2);
        const int64_t span_h = window > 0 ? window : H, span_w = window > 0 ? window : W;
        const WindowAttentionRows rows = split_qkv_rel_pos(qkv(x), qkv.bias, rel_h_rows, rel_w_rows,
                                                           num_heads, span_h, span_w, scale);
        // cuDNN's and the memory-efficient kernel take v narrower than q and k.
        const at::Tensor out = at::scaled_dot_product_attention(
            rows.q.unsqueeze(0), rows.k.unsqueeze(0), rows.v.unsqueeze(0), {}, 0.0, false, 1.0);
        return proj(merge_window_heads(out.squeeze(0), B, H, W, num_heads, span_h, span_w));
    }
#endif

    // Heads in chunks whose attention matrix fits chunk_bytes (see SamConfig), each computed
    // exactly as the reference does.
    at::Tensor explicit_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  int64_t H, int64_t W) const {
        const int64_t heads = q.size(0), tokens = q.size(1);
        const int64_t head_bytes = tokens * tokens * static_cast<int64_t>(q.element_size());
        const int64_t chunk =
            std::clamp<int64_t>(chunk_bytes / std::max<int64_t>(head_bytes, 1), 1, heads);
        if (chunk >= heads) return attend(q, k, v, H, W);
        std::vector<at::Tensor> parts;
        for (int64_t first = 0; first < heads; first += chunk) {
            const int64_t last = std::min(heads, first + chunk);
            parts.push_back(attend(q.slice(0, first, last), k.slice(0, first, last),
                                   v.slice(0, first, last), H, W));
        }
        return at::cat(parts, 0);
    }

    at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t H,
                      int64_t W) const {
        at::Tensor attn = at::matmul(q * scale, k.transpose(-2, -1));
        if (rel_h.defined()) add_decomposed_rel_pos_(attn, q, H, W);
        return at::matmul(at::softmax(attn, -1), v);
    }

#if TORCH_VERSION_MAJOR >= 2
    // softmax(scale q.k + rel_h[q, kh] + rel_w[q, kw]) v as one flash-attention call: with
    // q' = [scale q, rel_h(q), rel_w(q)] and k' = [k, onehot(kh), onehot(kw)], q'.k' is exactly
    // that sum, and the head dimension grows from 64 to 64 + H + W (192 for a global block, 96
    // for a window after padding to a multiple of 8) instead of an H*W x H*W bias per head.
    at::Tensor fused_rel_pos_attention(const at::Tensor& q, const at::Tensor& k,
                                       const at::Tensor& v, int64_t H, int64_t W) const {
        const int64_t BH = q.size(0), tokens = H * W, dim = q.size(2);
        const at::Tensor r_q = q.reshape({BH, H, W, dim});
        const at::Tensor rel_h_term =
            at::einsum("bhwc,hkc->bhwk", {r_q, rel_h}).reshape({BH, tokens, H});
        const at::Tensor rel_w_term =
            at::einsum("bhwc,wkc->bhwk", {r_q, rel_w}).reshape({BH, tokens, W});
        const int64_t extended = dim + H + W, padded = (extended + 7) / 8 * 8;
        const auto opts = q.options();
        // Key token t = kh * W + kw carries onehot(kh) and onehot(kw).
        const at::Tensor key_rows =
            at::cat({at::eye(H, opts).repeat_interleave(W, 0), at::eye(W, opts).repeat({H, 1}),
                     at::zeros({tokens, padded - extended}, opts)},
                    1);
        const at::Tensor q_ext = at::cat(
            {q * scale, rel_h_term, rel_w_term, at::zeros({BH, tokens, padded - extended}, opts)},
            -1);
        const at::Tensor k_ext =
            at::cat({k, key_rows.unsqueeze(0).expand({BH, tokens, padded - dim})}, -1);
        const at::Tensor v_ext = at::constant_pad_nd(v, {0, padded - dim});
        return at::scaled_dot_product_attention(q_ext.unsqueeze(0), k_ext.unsqueeze(0),
                                                v_ext.unsqueeze(0), {}, 0.0, false, 1.0)
            .squeeze(0)
            .slice(-1, 0, dim);
    }
#endif

    // In place, in the reference's order ((attn + rel_h) + rel_w): no second full-size matrix.
    void add_decomposed_rel_pos_(at::Tensor& attn, const at::Tensor& q, int64_t H,
                                 int64_t W) const {
        const int64_t B = q.size(0), dim = q.size(2);
        const at::Tensor r_q = q.reshape({B, H, W, dim});
        const at::Tensor rel_h_term = at::einsum("bhwc,hkc->bhwk", {r_q, rel_h});
        const at::Tensor rel_w_term = at::einsum("bhwc,wkc->bhwk", {r_q, rel_w});
        attn.view({B, H, W, H, W}).add_(rel_h_term.unsqueeze(4)).add_(rel_w_term.unsqueeze(3));
    }
};

struct VitBlock {
    runtime::LayerNorm norm1, norm2;
    VitAttention attn;
    runtime::Linear lin1, lin2;
    int64_t window = 0;
    bool window_kernels = true;  // SamConfig::window_kernels

    at::Tensor operator()(const at::Tensor& x) const {
        at::Tensor y = norm1(x);
#if TORCH_VERSION_MAJOR >= 2
        if (window_kernels && attn.rel_h.defined() && window_kernels_usable(y)) {
            const at::Tensor h = x + attn.windowed(y, window);
            return h + lin2(at::gelu(lin1(norm2(h))));
        }
#endif
        if (window > 0) {
            const int64_t H = x.size(1), W = x.size(2);
            const int64_t pad_h = (window - H % window) % window;
            const int64_t pad_w = (window - W % window) % window;
            y = partition(y, pad_h, pad_w);
            y = attn(y);
            y = unpartition(y, H, W, pad_h, pad_w);
        } else {
            y = attn(y);
        }
        const at::Tensor h = x + y;
        return h + lin2(at::gelu(lin1(norm2(h))));
    }

    // window_partition(): pad to a multiple of the window, then cut into windows.
    at::Tensor partition(const at::Tensor& x, int64_t pad_h, int64_t pad_w) const {
        const int64_t B = x.size(0), C = x.size(3);
        at::Tensor padded =
            (pad_h || pad_w) ? at::constant_pad_nd(x, {0, 0, 0, pad_w, 0, pad_h}) : x;
        const int64_t Hp = padded.size(1), Wp = padded.size(2);
        return padded.view({B, Hp / window, window, Wp / window, window, C})
            .permute({0, 1, 3, 2, 4, 5})
            .reshape({-1, window, window, C});
    }

    at::Tensor unpartition(const at::Tensor& windows, int64_t H, int64_t W, int64_t pad_h,
                           int64_t pad_w) const {
        const int64_t Hp = H + pad_h, Wp = W + pad_w;
        const int64_t B = windows.size(0) / (Hp * Wp / window / window);
        at::Tensor x = windows.view({B, Hp / window, Wp / window, window, window, -1})
                           .permute({0, 1, 3, 2, 4, 5})
                           .reshape({B, Hp, Wp, -1});
        if (pad_h || pad_w) x = x.slice(1, 0, H).slice(2, 0, W).contiguous();
        return x;
    }
};

class VitEncoder : public ImageEncoder {
  public:
    VitEncoder(const runtime::Weights& w, const SamConfig& config) : config_(config.vit) {
        const VitConfig& v = config_;
        const std::string p = "image_encoder.";
        patch_embed_ = runtime::Conv2d::load(w, p + "patch_embed.proj", 3, v.embed_dim,
                                             v.patch_size, v.patch_size, 0, 1, true);
        pos_embed_ = w.get(p + "pos_embed", {1, v.grid, v.grid, v.embed_dim});
        const int64_t head_dim = v.embed_dim / v.num_heads;
        for (int64_t b = 0; b < v.depth; ++b) {
            const std::string bp = p + "blocks." + std::to_string(b) + ".";
            VitBlock block;
            block.window = v.window_size_per_block[b];
            block.window_kernels = config.window_kernels;
            block.norm1 = runtime::LayerNorm::load(w, bp + "norm1", v.embed_dim, 1e-6);
            block.norm2 = runtime::LayerNorm::load(w, bp + "norm2", v.embed_dim, 1e-6);
            block.attn.qkv =
                runtime::Linear::load(w, bp + "attn.qkv", v.embed_dim, 3 * v.embed_dim, v.qkv_bias);
            block.attn.proj = runtime::Linear::load(w, bp + "attn.proj", v.embed_dim, v.embed_dim);
            block.attn.num_heads = v.num_heads;
            block.attn.chunk_bytes = config.attention_chunk_bytes;
            block.attn.scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
            if (v.use_rel_pos) {
                const int64_t span = block.window > 0 ? block.window : v.grid;
                const at::Tensor& rh = w.get(bp + "attn.rel_pos_h", {2 * span - 1, head_dim});
                const at::Tensor& rw = w.get(bp + "attn.rel_pos_w", {2 * span - 1, head_dim});
                block.attn.rel_h = gather_rel_pos(rh, span, span);
                block.attn.rel_w = gather_rel_pos(rw, span, span);
                if (block.attn.rel_h.is_cuda()) {
                    block.attn.rel_h_rows = pad_rel_table(block.attn.rel_h);
                    block.attn.rel_w_rows = pad_rel_table(block.attn.rel_w);
                }
            }
            block.lin1 = runtime::Linear::load(w, bp + "mlp.lin1", v.embed_dim, v.mlp_dim);
            block.lin2 = runtime::Linear::load(w, bp + "mlp.lin2", v.mlp_dim, v.embed_dim);
            blocks_.push_back(std::move(block));
        }
        neck_ = Neck::load(w, v.embed_dim, config.prompt_dim);
    }

    at::Tensor forward(const at::Tensor& image) const override {
        at::Tensor x = embed_patches(image) + pos_embed_;
        for (const VitBlock& block : blocks_) x = block(x);
        return neck_(x.permute({0, 3, 1, 2}));
    }

  private:
    // The patch embedding gives channels-last patches. On the GPU in half precision as one GEMM
    // over the unfolded patches (kernel = stride): cuDNN's choice for this convolution took
    // 0.45 ms of a ViT-H forward on an H100, the GEMM and its unfold copy a tenth of that.
    at::Tensor embed_patches(const at::Tensor& image) const {
        if (!image.is_cuda() || image.scalar_type() == at::kFloat) {
            return patch_embed_(image).permute({0, 2, 3, 1});
        }
        const int64_t B = image.size(0), C = image.size(1), p = config_.patch_size;
        const int64_t gh = image.size(2) / p, gw = image.size(3) / p;
        const at::Tensor patches = image.slice(2, 0, gh * p)
                                       .slice(3, 0, gw * p)
                                       .reshape({B, C, gh, p, gw, p})
                                       .permute({0, 2, 4, 1, 3, 5})
                                       .reshape({B * gh * gw, C * p * p});
        const at::Tensor& weight = patch_embed_.weight;
        return at::addmm(patch_embed_.bias, patches, weight.reshape({weight.size(0), -1}).t())
            .view({B, gh, gw, -1});
    }

    VitConfig config_;
    runtime::Conv2d patch_embed_;
    at::Tensor pos_embed_;
    std::vector<VitBlock> blocks_;
    Neck neck_;
};

}  // namespace

std::unique_ptr<ImageEncoder> make_vit_encoder(const runtime::Weights& w, const SamConfig& config) {
    return std::make_unique<VitEncoder>(w, config);
}

}  // namespace ps::sam
