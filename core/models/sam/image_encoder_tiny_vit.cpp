// MobileSAM's TinyViT image encoder (mobile_sam/modeling/tiny_vit_sam.py), op for op.
#include <ATen/ATen.h>

#include <cmath>

#include "models/runtime/layers.h"
#include "models/sam/image_encoder.h"
#include "models/sam/neck.h"

namespace ps::sam {
namespace {

// MBConv: 1x1 expand, 3x3 depthwise, 1x1 project, residual, GELU after each and after the sum.
struct MBConv {
    runtime::ConvBatchNorm expand, depthwise, project;
    at::Tensor operator()(const at::Tensor& x) const {
        const at::Tensor y = project(at::gelu(depthwise(at::gelu(expand(x)))));
        return at::gelu(y + x);
    }
};

// PatchMerging: works on NCHW; returns tokens B x (H*W) x C.
struct PatchMerging {
    runtime::ConvBatchNorm conv1, conv2, conv3;
    at::Tensor operator()(const at::Tensor& x) const {
        const at::Tensor y = conv3(at::gelu(conv2(at::gelu(conv1(x)))));
        return y.flatten(2).transpose(1, 2);
    }
};

// Windowed attention with a learned bias per head and (|dy|, |dx|) offset.
struct TinyAttention {
    runtime::LayerNorm norm;
    runtime::Linear qkv, proj;
    int64_t num_heads = 1, key_dim = 1;
    double scale = 1.0;
    at::Tensor bias;  // heads x N x N, gathered from attention_biases once at load

    at::Tensor operator()(const at::Tensor& x) const {
        const int64_t B = x.size(0), N = x.size(1);
        const at::Tensor heads = qkv(norm(x)).view({B, N, num_heads, -1});
        auto parts = heads.split_with_sizes({key_dim, key_dim, key_dim}, 3);
        const at::Tensor q = parts[0].permute({0, 2, 1, 3});
        const at::Tensor k = parts[1].permute({0, 2, 1, 3});
        const at::Tensor v = parts[2].permute({0, 2, 1, 3});
        at::Tensor attn = at::matmul(q, k.transpose(-2, -1)) * scale + bias;
        attn = at::softmax(attn, -1);
        return proj(at::matmul(attn, v).transpose(1, 2).reshape({B, N, num_heads * key_dim}));
    }
};

// The reference numbers offsets in first-seen order over itertools.product(range(R), range(R));
// all offsets appear for the first point (0, 0), so offset (dy, dx) gets index dy * R + dx.
at::Tensor gather_attention_bias(const at::Tensor& biases, int64_t window) {
    const int64_t n = window * window;
    std::vector<int64_t> index(n * n);
    for (int64_t a = 0; a < n; ++a) {
        for (int64_t b = 0; b < n; ++b) {
            const int64_t dy = std::abs(a / window - b / window);
            const int64_t dx = std::abs(a % window - b % window);
            index[a * n + b] = dy * window + dx;
        }
    }
    const at::Tensor idx = at::tensor(index, at::kLong).to(biases.device());
    return biases.index_select(1, idx).view({biases.size(0), n, n});
}

struct TinyVitBlock {
    TinyAttention attn;
    runtime::LayerNorm mlp_norm;
    runtime::Linear fc1, fc2;
    runtime::ConvBatchNorm local_conv;
    int64_t window = 7;

    at::Tensor operator()(const at::Tensor& x, int64_t H, int64_t W) const {
        const int64_t B = x.size(0), L = x.size(1), C = x.size(2);
        at::Tensor y;
        if (H == window && W == window) {
            y = attn(x);
        } else {
            y = windowed_attention(x.view({B, H, W, C}), H, W);
        }
        at::Tensor h = x + y;
        h = local_conv(h.transpose(1, 2).reshape({B, C, H, W})).view({B, C, L}).transpose(1, 2);
        return h + fc2(at::gelu(fc1(mlp_norm(h))));
    }

    at::Tensor windowed_attention(const at::Tensor& x, int64_t H, int64_t W) const {
        const int64_t B = x.size(0), C = x.size(3);
        const int64_t pad_b = (window - H % window) % window;
        const int64_t pad_r = (window - W % window) % window;
        const bool padding = pad_b > 0 || pad_r > 0;
        const at::Tensor padded = padding ? at::constant_pad_nd(x, {0, 0, 0, pad_r, 0, pad_b}) : x;
        const int64_t pH = H + pad_b, pW = W + pad_r, nH = pH / window, nW = pW / window;
        at::Tensor windows = padded.view({B, nH, window, nW, window, C})
                                 .transpose(2, 3)
                                 .reshape({B * nH * nW, window * window, C});
        at::Tensor out = attn(windows)
                             .view({B, nH, nW, window, window, C})
                             .transpose(2, 3)
                             .reshape({B, pH, pW, C});
        if (padding) out = out.slice(1, 0, H).slice(2, 0, W).contiguous();
        return out.view({B, H * W, C});
    }
};

class TinyVitEncoder : public ImageEncoder {
  public:
    TinyVitEncoder(const runtime::Weights& w, const SamConfig& config)
        : config_(config.tiny_vit),
          use_attention_biases_(config.tiny_vit_attention_biases),
          channels_last_(wants_channels_last(w.get("image_encoder.patch_embed.seq.0.c.weight"))) {
        const TinyVitConfig& t = config_;
        const std::string p = "image_encoder.";
        const int64_t d0 = t.embed_dims[0];
        embed1_ = conv_bn(w, p + "patch_embed.seq.0", 3, d0 / 2, 3, 2, 1, 1);
        embed2_ = conv_bn(w, p + "patch_embed.seq.2", d0 / 2, d0, 3, 2, 1, 1);
        for (int64_t b = 0; b < t.depths[0]; ++b) {
            const std::string bp = p + "layers.0.blocks." + std::to_string(b) + ".";
            const int64_t hid = t.mbconv_hidden;
            conv_blocks_.push_back({conv_bn(w, bp + "conv1", d0, hid, 1, 1, 0, 1),
                                    conv_bn(w, bp + "conv2", hid, hid, 3, 1, 1, hid),
                                    conv_bn(w, bp + "conv3", hid, d0, 1, 1, 0, 1)});
        }
        const size_t stages = t.embed_dims.size();
        for (size_t s = 1; s < stages; ++s) {
            std::vector<TinyVitBlock> blocks;
            for (int64_t b = 0; b < t.depths[s]; ++b) {
                blocks.push_back(load_block(
                    w, p + "layers." + std::to_string(s) + ".blocks." + std::to_string(b) + ".",
                    s));
            }
            stages_.push_back(std::move(blocks));
        }
        for (size_t s = 0; s + 1 < stages; ++s) {
            const std::string mp = p + "layers." + std::to_string(s) + ".downsample.";
            const int64_t in = t.embed_dims[s], out = t.embed_dims[s + 1];
            const int64_t stride = t.merge_strides[s];
            merges_.push_back({conv_bn(w, mp + "conv1", in, out, 1, 1, 0, 1),
                               conv_bn(w, mp + "conv2", out, out, 3, stride, 1, out),
                               conv_bn(w, mp + "conv3", out, out, 1, 1, 0, 1)});
        }
        neck_ = Neck::load(w, t.embed_dims.back(), config.prompt_dim);
        if (channels_last_) {
            neck_.reduce.weight = neck_.reduce.weight.contiguous(at::MemoryFormat::ChannelsLast);
            neck_.mix.weight = neck_.mix.weight.contiguous(at::MemoryFormat::ChannelsLast);
        }
    }

    at::Tensor forward(const at::Tensor& image) const override {
        // Stages >= 1 hand their convolutions the tokens B x (H*W) x C seen as B x C x H x W,
        // which is NHWC already; channels last from the image on, with NHWC weights, no
        // convolution converts layouts and PatchMerging's output flattens to contiguous tokens.
        const at::Tensor input =
            channels_last_ ? image.contiguous(at::MemoryFormat::ChannelsLast) : image;
        at::Tensor x = embed2_(at::gelu(embed1_(input)));
        for (const MBConv& block : conv_blocks_) x = block(x);
        // Stages >= 1 work on tokens; PatchMerging takes NCHW and returns tokens.
        at::Tensor tokens = merges_[0](x);
        int64_t side = next_side(x.size(2), 0);
        for (size_t s = 0; s < stages_.size(); ++s) {
            for (const TinyVitBlock& block : stages_[s]) tokens = block(tokens, side, side);
            if (s + 1 < merges_.size()) {
                const int64_t C = tokens.size(2);
                const at::Tensor grid =
                    tokens.view({tokens.size(0), side, side, C}).permute({0, 3, 1, 2});
                tokens = merges_[s + 1](grid);
                side = next_side(side, s + 1);
            }
        }
        const int64_t B = tokens.size(0), C = tokens.size(2);
        return neck_(tokens.view({B, side, side, C}).permute({0, 3, 1, 2}));
    }

  private:
    // cuDNN's half-precision convolutions use tensor cores in NHWC; with NCHW activations or
    // weights each call converts layouts, and a depthwise convolution falls back to ATen's slow
    // native kernel. On the CPU in fp32, oneDNN works in NHWC too and NCHW costs a reorder per
    // call (2-core machine, MobileSAM encode p50 1.50/1.33 -> 1.24/1.30 s, alternating runs).
    // CUDA fp32 keeps NCHW (U²-Net measured fp32 NHWC slower there, u2net_model.cpp).
    static bool wants_channels_last(const at::Tensor& first_weight) {
        const bool half = first_weight.scalar_type() != at::kFloat;
        return first_weight.is_cuda() ? half : !half;
    }

    runtime::ConvBatchNorm conv_bn(const runtime::Weights& w, const std::string& prefix, int64_t in,
                                   int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                                   int64_t groups) const {
        runtime::ConvBatchNorm layer =
            runtime::ConvBatchNorm::load(w, prefix, in, out, kernel, stride, padding, groups);
        if (channels_last_)
            layer.conv.weight = layer.conv.weight.contiguous(at::MemoryFormat::ChannelsLast);
        return layer;
    }

    int64_t next_side(int64_t side, size_t merge) const {
        return (side - 1) / config_.merge_strides[merge] + 1;
    }

    TinyVitBlock load_block(const runtime::Weights& w, const std::string& bp, size_t stage) const {
        const TinyVitConfig& t = config_;
        const int64_t dim = t.embed_dims[stage], heads = t.num_heads[stage];
        const int64_t window = t.window_sizes[stage];
        TinyVitBlock block;
        block.window = window;
        block.attn.num_heads = heads;
        block.attn.key_dim = dim / heads;
        block.attn.scale = 1.0 / std::sqrt(static_cast<double>(block.attn.key_dim));
        block.attn.norm = runtime::LayerNorm::load(w, bp + "attn.norm", dim, 1e-5);
        block.attn.qkv = runtime::Linear::load(w, bp + "attn.qkv", dim, 3 * dim);
        block.attn.proj = runtime::Linear::load(w, bp + "attn.proj", dim, dim);
        const at::Tensor& biases = w.get(bp + "attn.attention_biases", {heads, window * window});
        block.attn.bias =
            use_attention_biases_
                ? gather_attention_bias(biases, window)
                : at::zeros({heads, window * window, window * window}, biases.options());
        block.mlp_norm = runtime::LayerNorm::load(w, bp + "mlp.norm", dim, 1e-5);
        block.fc1 = runtime::Linear::load(w, bp + "mlp.fc1", dim, t.mlp_hidden[stage]);
        block.fc2 = runtime::Linear::load(w, bp + "mlp.fc2", t.mlp_hidden[stage], dim);
        const int64_t k = t.local_conv_size;
        block.local_conv = conv_bn(w, bp + "local_conv", dim, dim, k, 1, k / 2, dim);
        return block;
    }

    TinyVitConfig config_;
    bool use_attention_biases_ = false;
    bool channels_last_ = false;
    runtime::ConvBatchNorm embed1_, embed2_;
    std::vector<MBConv> conv_blocks_;
    std::vector<std::vector<TinyVitBlock>> stages_;
    std::vector<PatchMerging> merges_;
    Neck neck_;
};

}  // namespace

std::unique_ptr<ImageEncoder> make_tiny_vit_encoder(const runtime::Weights& w,
                                                    const SamConfig& config) {
    return std::make_unique<TinyVitEncoder>(w, config);
}

}  // namespace ps::sam
