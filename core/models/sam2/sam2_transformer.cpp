// sam2/modeling/sam/transformer.py's TwoWayTransformer, TwoWayAttentionBlock and Attention.
#include "models/sam2/sam2_transformer.h"

#include <ATen/ATen.h>

#include <cmath>

#include "models/runtime/threaded_matmul.h"

namespace ps::sam2 {

Sam2Attention Sam2Attention::load(const runtime::Weights& w, const std::string& prefix, int64_t dim,
                                  int64_t internal_dim, int64_t heads) {
    return {runtime::AttentionProjections::load(w, prefix, dim, internal_dim, dim, heads)};
}

at::Tensor Sam2Attention::operator()(const at::Tensor& q_in, const at::Tensor& k_in,
                                     const at::Tensor& v_in) const {
    const at::Tensor q = separate_heads(q_proj.flat(q_in));
    const at::Tensor k = separate_heads(k_proj.flat(k_in));
    const at::Tensor v = separate_heads(v_proj.flat(v_in));
    if (at::Tensor fused = fused_or_undefined(q, k, v); fused.defined()) return fused;
    // F.scaled_dot_product_attention as PyTorch 2's math path: q and k each scaled by d^-1/4.
    const double factor = std::sqrt(1.0 / std::sqrt(static_cast<double>(q.size(3))));
    const at::Tensor attn =
        at::softmax(runtime::threaded_matmul(q * factor, k.transpose(-2, -1) * factor), -1);
    const at::Tensor out = runtime::threaded_matmul(attn, v);
    return out_proj.flat(out.transpose(1, 2).reshape({out.size(0), out.size(2), -1}));
}

void Sam2TwoWayBlock::operator()(at::Tensor& queries, at::Tensor& keys, const at::Tensor& query_pe,
                                 const at::Tensor& key_pe) const {
    if (skip_first_layer_pe) {
        queries = self_attn(queries, queries, queries);
    } else {
        const at::Tensor q = queries + query_pe;
        queries = queries + self_attn(q, q, queries);
    }
    queries = norm1(queries);
    at::Tensor q = queries + query_pe;
    at::Tensor k = keys + key_pe;
    queries = norm2(queries + token_to_image(q, k, keys));
    queries = norm3(queries + mlp.flat(queries));
    q = queries + query_pe;
    k = keys + key_pe;
    keys = norm4(keys + image_to_token(k, q, queries));
}

Sam2TwoWayTransformer::Sam2TwoWayTransformer(const runtime::Weights& w, const std::string& prefix,
                                             int64_t dim, int64_t depth, int64_t mlp_dim,
                                             int64_t heads, int64_t downsample) {
    const int64_t internal = dim / downsample;
    for (int64_t i = 0; i < depth; ++i) {
        const std::string p = prefix + "layers." + std::to_string(i) + ".";
        Sam2TwoWayBlock block;
        block.self_attn = Sam2Attention::load(w, p + "self_attn", dim, dim, heads);
        block.token_to_image =
            Sam2Attention::load(w, p + "cross_attn_token_to_image", dim, internal, heads);
        block.image_to_token =
            Sam2Attention::load(w, p + "cross_attn_image_to_token", dim, internal, heads);
        block.norm1 = runtime::LayerNorm::load(w, p + "norm1", dim, 1e-5);
        block.norm2 = runtime::LayerNorm::load(w, p + "norm2", dim, 1e-5);
        block.norm3 = runtime::LayerNorm::load(w, p + "norm3", dim, 1e-5);
        block.norm4 = runtime::LayerNorm::load(w, p + "norm4", dim, 1e-5);
        block.mlp = runtime::Mlp::load(w, p + "mlp", dim, mlp_dim, dim, 2);
        block.skip_first_layer_pe = i == 0;
        layers_.push_back(std::move(block));
    }
    final_attn_ =
        Sam2Attention::load(w, prefix + "final_attn_token_to_image", dim, internal, heads);
    norm_final_ = runtime::LayerNorm::load(w, prefix + "norm_final_attn", dim, 1e-5);
}

std::pair<at::Tensor, at::Tensor> Sam2TwoWayTransformer::forward(const at::Tensor& image,
                                                                 const at::Tensor& image_pe,
                                                                 const at::Tensor& tokens) const {
    at::Tensor keys = image.flatten(2).permute({0, 2, 1});
    const at::Tensor key_pe = image_pe.flatten(2).permute({0, 2, 1});
    at::Tensor queries = tokens;
    for (const Sam2TwoWayBlock& layer : layers_) layer(queries, keys, tokens, key_pe);
    const at::Tensor attended = final_attn_(queries + tokens, keys + key_pe, keys);
    queries = norm_final_(queries + attended);
    return {queries, keys};
}

}  // namespace ps::sam2
