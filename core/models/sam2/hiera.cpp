// hieradet.py's Hiera and MultiScaleBlock, and backbones/utils.py's window partition.
#include "models/sam2/hiera.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>

#include "models/runtime/swin_attention.h"
#include "models/runtime/swin_windows.h"
#include "models/runtime/threaded_matmul.h"

namespace ps::sam2 {
namespace {

const std::string kTrunk = "image_encoder.trunk.";

// B x H x W x C -> (B * windows) x window x window x C, zero-padded to whole windows.
at::Tensor window_partition(const at::Tensor& x, int64_t window) {
    const int64_t H = x.size(1), W = x.size(2), C = x.size(3);
    const int64_t pad_h = (window - H % window) % window, pad_w = (window - W % window) % window;
    at::Tensor padded = x;
    if (pad_h > 0 || pad_w > 0) padded = at::constant_pad_nd(x, {0, 0, 0, pad_w, 0, pad_h});
    return runtime::swin_window_partition(padded, window).view({-1, window, window, C});
}

// do_pool with nn.MaxPool2d(2, 2): B x H x W x C -> B x H/2 x W/2 x C.
at::Tensor max_pool_nhwc(const at::Tensor& x, int64_t stride) {
    return at::max_pool2d(x.permute({0, 3, 1, 2}), {stride, stride}, {stride, stride})
        .permute({0, 2, 3, 1});
}

// softmax(q kᵀ / sqrt(d)) v as PyTorch 2's math attention computes it (q and k each scaled by
// d^-1/4; the golden data's stand-in for F.scaled_dot_product_attention does the same).
at::Tensor scaled_product(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    const double factor = std::sqrt(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
    const at::Tensor scores = runtime::threaded_matmul(q * factor, k.transpose(-2, -1) * factor);
    return runtime::threaded_matmul(at::softmax(scores, -1), v);
}

// A few heads at a time, so that one attention matrix stays under this many bytes: a global
// block of Hiera-L at 1024² is 8 heads x 4096² floats (512 MB), plus its softmax. Results are
// identical; only the peak memory changes.
constexpr int64_t kAttentionChunkBytes = int64_t(128) << 20;

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
    if (runtime::half_on_gpu(q)) {
        // Half precision on the GPU: the fused kernel, which never holds the attention matrix
        // (what the official code runs there too). fp32 keeps the reference's explicit product.
        return at::scaled_dot_product_attention(q, k, v);
    }
#endif
    const int64_t per_head = q.size(0) * q.size(2) * k.size(2) * 4;
    const int64_t chunk =
        std::max<int64_t>(1, kAttentionChunkBytes / std::max<int64_t>(per_head, 1));
    if (chunk >= q.size(1)) return scaled_product(q, k, v);
    std::vector<at::Tensor> parts;
    for (int64_t h = 0; h < q.size(1); h += chunk) {
        const int64_t end = std::min(q.size(1), h + chunk);
        const at::Tensor qh = q.slice(1, h, end), kh = k.slice(1, h, end), vh = v.slice(1, h, end);
        parts.push_back(scaled_product(qh, kh, vh));
    }
    return at::cat(parts, 1);
}

}  // namespace

at::Tensor HieraBlock::attention(const at::Tensor& x) const {
    // MultiScaleAttention.forward
    const int64_t B = x.size(0);
    int64_t H = x.size(1), W = x.size(2);
    const at::Tensor projected = qkv.flat(x);
    if (!q_pool && window > 0 && runtime::half_on_gpu(x) &&
        runtime::hiera_window_attention_enabled()) {
        // Windows of up to 64 tokens through our fused kernel on the GPU in half precision
        // (runtime/swin_attention.h; opt-in until its CUDA rows have run): cuDNN's attention
        // tiles are 64 queries x 128 keys, of which a 4 x 4 window (16 tokens) fills a
        // thirty-second. Wider windows and global blocks decline.
        const at::Tensor fused =
            runtime::fused_window_attention(projected.view({B, H * W, -1}), at::Tensor(), heads);
        if (fused.defined()) return attn_proj.flat(fused.view({B, H, W, -1}));
    }
    const at::Tensor packed = projected.view({B, H * W, 3, heads, -1});
    // q, k and v as B x heads x HW x d views: one permute and one unbind (fewer dispatched calls
    // than a select and a transpose each).
    std::vector<at::Tensor> qkv_heads = packed.permute({2, 0, 3, 1, 4}).unbind(0);
    at::Tensor q = qkv_heads[0];
    if (q_pool) {
        q = max_pool_nhwc(packed.select(2, 0).reshape({B, H, W, -1}), 2);
        H = q.size(1);
        W = q.size(2);
        q = q.reshape({B, H * W, heads, -1}).transpose(1, 2);
    }
    at::Tensor out = attend(q, qkv_heads[1], qkv_heads[2]);
    out = out.transpose(1, 2).reshape({B, H, W, -1});
    return attn_proj.flat(out);
}

at::Tensor HieraBlock::operator()(const at::Tensor& input) const {
    const int64_t C = dim_out;
    at::Tensor shortcut = input;
    at::Tensor x;
    if (q_pool || dim != dim_out) {
        // The shortcut's widening reads norm1's output too: norm1 on its own.
        x = norm1(input);
        shortcut = proj.flat(x);
        if (q_pool) shortcut = max_pool_nhwc(shortcut, 2).contiguous();
        if (window > 0) x = window_partition(x, window);
    } else if (window > 0) {
        // norm1, the zero padding and the window partition in one pass (one kernel on CUDA; the
        // same ops as above elsewhere): Swin's partition without the shift.
        x = runtime::swin_norm_partition(input, norm1, window, 0)
                .view({-1, window, window, input.size(3)});
    } else {
        x = norm1(input);
    }
    x = attention(x);
    int64_t window_size = window;
    if (q_pool) window_size = window / 2;  // the windows shrank with the queries
    // window_unpartition, the residual add and norm2 in one pass: a window of one token is the
    // map's own row-major order (global attention).
    const int64_t merge_window = window_size > 0 ? window_size : 1;
    // On the GPU in half precision the MLP's GELU and residual add in its products' epilogues
    // (runtime::gemm_epilogues, as Swin's blocks).
    const bool epilogues = runtime::gemm_epilogues(shortcut);
    const runtime::SwinResidual y =
        runtime::swin_merge_add_norm(x.reshape({-1, merge_window * merge_window, C}), shortcut,
                                     norm2, merge_window, 0, epilogues ? mlp1.bias : at::Tensor());
    if (epilogues) return mlp1.flat_onto(mlp0.gelu_flat(y.normed), y.sum, true);
    return y.sum + mlp1.flat(at::gelu(mlp0.flat(y.normed)));
}

Hiera::Hiera(const runtime::Weights& w, const Sam2Config& config) {
    const HieraConfig& h = config.hiera;
    patch_embed_ =
        runtime::Conv2d::load(w, kTrunk + "patch_embed.proj", 3, h.embed_dim, 7, 4, 3, 1, true);
    pos_embed_ =
        w.get(kTrunk + "pos_embed", {1, h.embed_dim, h.pos_embed_bkg[0], h.pos_embed_bkg[1]});
    pos_embed_window_ =
        w.get(kTrunk + "pos_embed_window", {1, h.embed_dim, h.window_spec[0], h.window_spec[0]});
    stage_ends_ = h.stage_ends();
    for (int64_t b = 0; b < h.depth(); ++b) {
        const std::string p = kTrunk + "blocks." + std::to_string(b);
        HieraBlock block;
        block.dim = h.block_dim_in(b);
        block.dim_out = h.block_dim_out(b);
        block.heads = h.block_heads(b);
        block.window = h.block_window(b);
        block.q_pool = h.block_q_pool(b);
        block.norm1 = runtime::LayerNorm::load(w, p + ".norm1", block.dim, 1e-6);
        block.qkv = runtime::Linear::load(w, p + ".attn.qkv", block.dim, 3 * block.dim_out);
        block.attn_proj = runtime::Linear::load(w, p + ".attn.proj", block.dim_out, block.dim_out);
        block.norm2 = runtime::LayerNorm::load(w, p + ".norm2", block.dim_out, 1e-6);
        const int64_t hidden = block.dim_out * h.mlp_ratio;
        block.mlp0 = runtime::Linear::load(w, p + ".mlp.layers.0", block.dim_out, hidden);
        block.mlp1 = runtime::Linear::load(w, p + ".mlp.layers.1", hidden, block.dim_out);
        if (block.dim != block.dim_out)
            block.proj = runtime::Linear::load(w, p + ".proj", block.dim, block.dim_out);
        blocks_.push_back(std::move(block));
    }
}

at::Tensor Hiera::positional_embedding(int64_t h, int64_t w) const {
    // In fp32 whatever the weights' precision: LibTorch 1.13 has no bf16 bicubic CPU kernel.
    const at::Tensor background = pos_embed_.to(at::kFloat);
    at::Tensor pos = at::upsample_bicubic2d(background, {h, w}, /*align_corners=*/false);
    const int64_t window = pos_embed_window_.size(2);
    pos = pos + pos_embed_window_.to(at::kFloat).repeat({1, 1, h / window, w / window});
    return pos.permute({0, 2, 3, 1}).to(pos_embed_.scalar_type());
}

at::Tensor Hiera::cached_positional_embedding(int64_t h, int64_t w) const {
    std::lock_guard<std::mutex> lock(positions_->mutex);
    auto it = positions_->by_size.find({h, w});
    if (it == positions_->by_size.end())
        it = positions_->by_size
                 .emplace(std::make_pair(h, w), positional_embedding(h, w).contiguous())
                 .first;
    return it->second;
}

std::vector<at::Tensor> Hiera::forward(const at::Tensor& image) const {
    at::Tensor x = patch_embed_(image).permute({0, 2, 3, 1});
    // Contiguous channels-last tokens: the blocks' fused norm and window passes read them so.
    x = (x + cached_positional_embedding(x.size(1), x.size(2))).contiguous();
    std::vector<at::Tensor> outputs;
    size_t next_end = 0;
    for (size_t i = 0; i < blocks_.size(); ++i) {
        x = blocks_[i](x);
        if (next_end < stage_ends_.size() && static_cast<int64_t>(i) == stage_ends_[next_end]) {
            outputs.push_back(x.permute({0, 3, 1, 2}));
            ++next_end;
        }
    }
    return outputs;
}

}  // namespace ps::sam2
