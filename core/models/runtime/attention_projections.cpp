// segment-anything's transformer.py Attention and sam2's, whose projections are alike.
#include "models/runtime/attention_projections.h"

#include <ATen/ATen.h>
#include <torch/version.h>

namespace ps::runtime {
namespace {

void add_linear(TensorSpecs& specs, const std::string& prefix, int64_t in, int64_t out) {
    specs[prefix + ".weight"] = {{out, in}};
    specs[prefix + ".bias"] = {{out}};
}

}  // namespace

AttentionProjections AttentionProjections::load(const Weights& w, const std::string& prefix,
                                                int64_t dim, int64_t internal_dim,
                                                int64_t kv_in_dim, int64_t heads) {
    if (heads <= 0 || internal_dim % heads != 0) {
        w.fail(prefix + ": " + std::to_string(heads) + " heads do not divide width " +
               std::to_string(internal_dim));
    }
    return {Linear::load(w, prefix + ".q_proj", dim, internal_dim),
            Linear::load(w, prefix + ".k_proj", kv_in_dim, internal_dim),
            Linear::load(w, prefix + ".v_proj", kv_in_dim, internal_dim),
            Linear::load(w, prefix + ".out_proj", internal_dim, dim), heads};
}

at::Tensor AttentionProjections::separate_heads(const at::Tensor& x) const {
    return x.reshape({x.size(0), x.size(1), num_heads, x.size(2) / num_heads}).transpose(1, 2);
}

at::Tensor AttentionProjections::recombine_heads(const at::Tensor& x) const {
    return out_proj(x.transpose(1, 2).reshape({x.size(0), x.size(2), -1}));
}

at::Tensor AttentionProjections::fused_or_undefined(const at::Tensor& q, const at::Tensor& k,
                                                    const at::Tensor& v) const {
#if TORCH_VERSION_MAJOR >= 2
    if (half_on_gpu(q)) return recombine_heads(at::scaled_dot_product_attention(q, k, v));
#else
    (void)q, (void)k, (void)v;
#endif
    return {};
}

void add_attention_projection_specs(TensorSpecs& specs, const std::string& prefix, int64_t dim,
                                    int64_t internal_dim, int64_t kv_in_dim) {
    add_linear(specs, prefix + ".q_proj", dim, internal_dim);
    add_linear(specs, prefix + ".k_proj", kv_in_dim, internal_dim);
    add_linear(specs, prefix + ".v_proj", kv_in_dim, internal_dim);
    add_linear(specs, prefix + ".out_proj", internal_dim, dim);
}

}  // namespace ps::runtime
