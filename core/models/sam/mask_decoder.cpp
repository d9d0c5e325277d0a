// segment_anything/modeling/{mask_decoder,transformer}.py, op for op.
#include "models/sam/mask_decoder.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ps::sam {
namespace {

// 1 x C x H x W -> 1 x HW x C (a view), the layout of TwoWayTransformer's keys.
at::Tensor pixels_major(const at::Tensor& x) {
    return x.flatten(2).permute({0, 2, 1});
}

}  // namespace

long long ImageProjections::bytes() const {
    long long total = 0;
    for (const at::Tensor* t : {&token_to_image_k, &token_to_image_v, &image_to_token_q})
        if (t->defined()) total += static_cast<long long>(t->nbytes());
    return total;
}

DecoderAttention DecoderAttention::load(const runtime::Weights& w, const std::string& prefix,
                                        int64_t dim, int64_t internal_dim, int64_t heads) {
    return {runtime::AttentionProjections::load(w, prefix, dim, internal_dim, dim, heads)};
}

at::Tensor DecoderAttention::operator()(const at::Tensor& q_in, const at::Tensor& k_in,
                                        const at::Tensor& v_in) const {
    return attend(q_proj(q_in), k_proj(k_in), v_proj(v_in));
}

at::Tensor DecoderAttention::attend(const at::Tensor& q_projected, const at::Tensor& k_projected,
                                    const at::Tensor& v_projected) const {
    const at::Tensor q = separate_heads(q_projected);
    const at::Tensor k = separate_heads(k_projected);
    const at::Tensor v = separate_heads(v_projected);
    if (at::Tensor fused = fused_or_undefined(q, k, v); fused.defined()) return fused;
    const int64_t head_dim = q.size(3);
    at::Tensor attn = at::matmul(q, k.permute({0, 1, 3, 2}));
    attn = attn / std::sqrt(static_cast<double>(head_dim));
    attn = at::softmax(attn, -1);
    return recombine_heads(at::matmul(attn, v));
}

void TwoWayBlock::operator()(at::Tensor& queries, at::Tensor& keys, const at::Tensor& query_pe,
                             const at::Tensor& key_pe, const ImageProjections* image) const {
    if (skip_first_layer_pe) {
        queries = self_attn(queries, queries, queries);
    } else {
        const at::Tensor q = queries + query_pe;
        queries = queries + self_attn(q, q, queries);
    }
    queries = norm1(queries);

    at::Tensor q = queries + query_pe;
    // The keys do not change before norm4, so keys + key_pe serves both attentions (the
    // reference computes it twice: one image-sized addition saved per layer).
    const at::Tensor k = image ? at::Tensor() : keys + key_pe;
    const at::Tensor attended =
        image ? token_to_image.attend(token_to_image.q_proj(q), image->token_to_image_k,
                                      image->token_to_image_v)
              : token_to_image(q, k, keys);
    queries = norm2(queries + attended);
    queries = norm3(queries + lin2(at::relu(lin1(queries))));

    q = queries + query_pe;
    const at::Tensor image_q = image ? image->image_to_token_q : image_to_token.q_proj(k);
    // Attention output first: the sum takes its (pixel-major) layout, so when the keys are
    // still a channel-major view (first block) norm4 gets contiguous rows instead of copying
    // them. The values are the same (addition commutes); ~1.5 ms less on the 2-core machine.
    keys = norm4(
        image_to_token.attend(image_q, image_to_token.k_proj(q), image_to_token.v_proj(queries)) +
        keys);
}

MaskDecoder::MaskDecoder(const runtime::Weights& w, const SamConfig& c)
    : num_mask_tokens_(c.num_mask_tokens) {
    const std::string p = "mask_decoder.";
    const int64_t dim = c.prompt_dim, internal = dim / c.attention_downsample;
    iou_token_ = w.get(p + "iou_token.weight", {1, dim});
    mask_tokens_ = w.get(p + "mask_tokens.weight", {c.num_mask_tokens, dim});
    for (int64_t i = 0; i < c.decoder_depth; ++i) {
        const std::string lp = p + "transformer.layers." + std::to_string(i) + ".";
        TwoWayBlock block;
        block.self_attn = DecoderAttention::load(w, lp + "self_attn", dim, dim, c.decoder_heads);
        block.token_to_image = DecoderAttention::load(w, lp + "cross_attn_token_to_image", dim,
                                                      internal, c.decoder_heads);
        block.image_to_token = DecoderAttention::load(w, lp + "cross_attn_image_to_token", dim,
                                                      internal, c.decoder_heads);
        block.norm1 = runtime::LayerNorm::load(w, lp + "norm1", dim, 1e-5);
        block.norm2 = runtime::LayerNorm::load(w, lp + "norm2", dim, 1e-5);
        block.norm3 = runtime::LayerNorm::load(w, lp + "norm3", dim, 1e-5);
        block.norm4 = runtime::LayerNorm::load(w, lp + "norm4", dim, 1e-5);
        block.lin1 = runtime::Linear::load(w, lp + "mlp.lin1", dim, c.decoder_mlp_dim);
        block.lin2 = runtime::Linear::load(w, lp + "mlp.lin2", c.decoder_mlp_dim, dim);
        block.skip_first_layer_pe = i == 0;
        layers_.push_back(std::move(block));
    }
    final_attn_ = DecoderAttention::load(w, p + "transformer.final_attn_token_to_image", dim,
                                         internal, c.decoder_heads);
    norm_final_ = runtime::LayerNorm::load(w, p + "transformer.norm_final_attn", dim, 1e-5);
    upscale1_ = runtime::ConvTranspose2d::load(w, p + "output_upscaling.0", dim, dim / 4, 2);
    upscale_norm_ = runtime::LayerNorm2d::load(w, p + "output_upscaling.1", dim / 4);
    upscale2_ = runtime::ConvTranspose2d::load(w, p + "output_upscaling.3", dim / 4, dim / 8, 2);
    for (int64_t i = 0; i < c.num_mask_tokens; ++i) {
        hypernetworks_.push_back(runtime::Mlp::load(
            w, p + "output_hypernetworks_mlps." + std::to_string(i), dim, dim, dim / 8, 3));
    }
    if (iou_token_.is_cuda()) {
        for (size_t layer = 0; layer < hypernetworks_.front().layers.size(); ++layer) {
            std::vector<at::Tensor> weights, biases;
            for (const runtime::Mlp& mlp : hypernetworks_) {
                weights.push_back(mlp.layers[layer].weight.t());
                biases.push_back(mlp.layers[layer].bias.unsqueeze(0));
            }
            hyper_weights_.push_back(at::stack(weights).contiguous());  // tokens x in x out
            hyper_biases_.push_back(at::stack(biases));                 // tokens x 1 x out
        }
    }
    iou_head_ = runtime::Mlp::load(w, p + "iou_prediction_head", dim, c.iou_head_hidden,
                                   c.num_mask_tokens, static_cast<int>(c.iou_head_depth));
}

ImageProjections MaskDecoder::project_image(const at::Tensor& image_embedding,
                                            const at::Tensor& image_pe,
                                            const at::Tensor& no_mask_dense) const {
    const at::Tensor keys = pixels_major(image_embedding + no_mask_dense);
    const at::Tensor k = keys + pixels_major(image_pe);
    const TwoWayBlock& first = layers_.front();
    return {first.token_to_image.k_proj(k), first.token_to_image.v_proj(keys),
            first.image_to_token.q_proj(k)};
}

at::Tensor MaskDecoder::hypernetworks(const at::Tensor& mask_tokens_out) const {
    if (mask_tokens_out.is_cuda() && !hyper_weights_.empty()) {
        // The per-token MLPs as one batched chain: 5 launches instead of 20 and a stack.
        at::Tensor x = mask_tokens_out.transpose(0, 1);  // tokens x 1 x C
        for (size_t layer = 0; layer < hyper_weights_.size(); ++layer) {
            x = at::baddbmm(hyper_biases_[layer], x, hyper_weights_[layer]);
            if (layer + 1 < hyper_weights_.size()) x = at::relu(x);
        }
        return x.transpose(0, 1);
    }
    std::vector<at::Tensor> hyper;
    for (int64_t i = 0; i < num_mask_tokens_; ++i) {
        hyper.push_back(hypernetworks_[i](mask_tokens_out.select(1, i)));
    }
    return at::stack(hyper, 1);
}

DecodedMasks MaskDecoder::forward(const at::Tensor& image_embedding, const at::Tensor& image_pe,
                                  const at::Tensor& sparse, const at::Tensor& dense, bool multimask,
                                  const ImageProjections* image) const {
    const at::Tensor output_tokens = at::cat({iou_token_, mask_tokens_}, 0).unsqueeze(0);
    const at::Tensor tokens = at::cat({output_tokens, sparse.to(output_tokens.scalar_type())}, 1);
    const at::Tensor src = image_embedding + dense;
    const int64_t C = src.size(1), H = src.size(2), W = src.size(3);

    // TwoWayTransformer.forward
    at::Tensor keys = pixels_major(src);
    const at::Tensor key_pe = pixels_major(image_pe);
    at::Tensor queries = tokens;
    for (size_t i = 0; i < layers_.size(); ++i)
        layers_[i](queries, keys, tokens, key_pe, i == 0 ? image : nullptr);
    queries = norm_final_(queries + final_attn_(queries + tokens, keys + key_pe, keys));

    const at::Tensor iou_token_out = queries.select(1, 0);
    const at::Tensor mask_tokens_out = queries.slice(1, 1, 1 + num_mask_tokens_);
    const at::Tensor hyper_in = hypernetworks(mask_tokens_out);  // 1 x tokens x C/8
    at::Tensor masks;
    if (keys.is_cpu() && keys.scalar_type() == at::kFloat) {
        // The keys are already pixels x channels: the upscaling stays channels-last, so no
        // layout copies; the masks are one GEMM against the transposed view. Measured on the
        // 2-core machine: 33 -> 21 ms for this part of the decoder.
        at::Tensor pixels = upscale1_.forward_pixels(keys.reshape({H * W, C}), H, W);
        pixels = at::gelu(at::layer_norm(pixels, {pixels.size(1)}, upscale_norm_.weight,
                                         upscale_norm_.bias, upscale_norm_.eps));
        const int64_t k1 = upscale1_.stride, k2 = upscale2_.stride;
        pixels = at::gelu(upscale2_.forward_pixels(pixels, H * k1, W * k1));
        masks = at::matmul(hyper_in, pixels.t()).view({1, -1, H * k1 * k2, W * k1 * k2});
    } else {
        const at::Tensor grid = keys.transpose(1, 2).reshape({1, C, H, W});
        const at::Tensor upscaled = at::gelu(upscale2_(at::gelu(upscale_norm_(upscale1_(grid)))));
        const int64_t uc = upscaled.size(1), uh = upscaled.size(2), uw = upscaled.size(3);
        masks = at::matmul(hyper_in, upscaled.view({1, uc, uh * uw})).view({1, -1, uh, uw});
    }
    const at::Tensor iou = iou_head_(iou_token_out);
    const int64_t first = multimask ? 1 : 0, last = multimask ? num_mask_tokens_ : 1;
    return {masks.slice(1, first, last), iou.slice(1, first, last)};
}

}  // namespace ps::sam
