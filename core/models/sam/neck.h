// image_encoder.neck: 1x1 conv, LayerNorm2d, 3x3 conv, LayerNorm2d (ViT and TinyViT alike).
#pragma once

#include "models/runtime/layers.h"

namespace ps::sam {

struct Neck {
    runtime::Conv2d reduce, mix;
    runtime::LayerNorm2d norm_reduce, norm_mix;
    static Neck load(const runtime::Weights& w, int64_t in_dim, int64_t out_dim);
    at::Tensor operator()(const at::Tensor& x) const {
        return norm_mix(mix(norm_reduce(reduce(x))));
    }
};

inline Neck Neck::load(const runtime::Weights& w, int64_t in_dim, int64_t out_dim) {
    const std::string p = "image_encoder.neck.";
    return {runtime::Conv2d::load(w, p + "0", in_dim, out_dim, 1, 1, 0, 1, false),
            runtime::Conv2d::load(w, p + "2", out_dim, out_dim, 3, 1, 1, 1, false),
            runtime::LayerNorm2d::load(w, p + "1", out_dim),
            runtime::LayerNorm2d::load(w, p + "3", out_dim)};
}

}  // namespace ps::sam
