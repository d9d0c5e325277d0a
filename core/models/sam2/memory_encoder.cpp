// sam2/modeling/memory_encoder.py (MaskDownSampler, CXBlock, Fuser, MemoryEncoder) and
// SAM2Base._encode_new_memory's mask pre-processing and no-object embedding, op for op.
#include "models/sam2/memory_encoder.h"

#include <ATen/ATen.h>

#include "models/runtime/conv_norm.h"
#include "models/runtime/model_runtime.h"
#include "models/sam2/fpn_neck.h"

namespace ps::sam2 {

namespace {

const std::string kPrefix = "memory_encoder.";
// MaskDownSampler(kernel_size=3, stride=2, padding=1) in every sam2.1 yaml; only the kernel
// shows in the weights.
constexpr int64_t kDownStride = 2, kDownPadding = 1;

}  // namespace

CxBlock CxBlock::load(const runtime::Weights& w, const std::string& prefix, int64_t dim) {
    CxBlock block;
    const int64_t kernel = w.get(prefix + ".dwconv.weight").size(-1);
    // depthwise: groups = dim, padding keeps the size (yaml kernel_size 7, padding 3)
    block.dwconv =
        runtime::Conv2d::load(w, prefix + ".dwconv", dim, dim, kernel, 1, kernel / 2, dim, true);
    block.norm = runtime::LayerNorm2d::load(w, prefix + ".norm", dim);
    const int64_t hidden = w.get(prefix + ".pwconv1.weight").size(0);
    block.pwconv1 = runtime::Linear::load(w, prefix + ".pwconv1", dim, hidden);
    block.pwconv2 = runtime::Linear::load(w, prefix + ".pwconv2", hidden, dim);
    block.gamma = w.get(prefix + ".gamma", {dim});
    return block;
}

at::Tensor CxBlock::operator()(const at::Tensor& x) const {
    // (N, C, H, W) -> (N, H, W, C): one kernel of ours on the GPU (runtime/conv_norm.h).
    at::Tensor y = runtime::depthwise_conv_norm(x, dwconv, norm);
    if (!y.defined()) y = norm.channels_last(dwconv(x));
    y = pwconv2.flat(at::gelu(pwconv1.flat(y)));
    y = (gamma * y).permute({0, 3, 1, 2});
    return x + y;
}

MemoryEncoder::MemoryEncoder(const runtime::Weights& w, const MemoryEncoderOptions& options)
    : options_(options) {
    in_dim_ = w.get(kPrefix + "pix_feat_proj.weight").size(0);
    pix_feat_proj_ =
        runtime::Conv2d::load(w, kPrefix + "pix_feat_proj", in_dim_, in_dim_, 1, 1, 0, 1, true);
    // encoder.{3i}: conv, {3i+1}: LayerNorm2d, {3i+2}: GELU (no tensors), then the 1x1 conv.
    const std::string down = kPrefix + "mask_downsampler.encoder.";
    int64_t channels = 1, index = 0;
    while (w.has(down + std::to_string(index + 1) + ".weight")) {
        const std::string conv = down + std::to_string(index);
        const at::Tensor& weight = w.get(conv + ".weight");
        const int64_t out = weight.size(0), kernel = weight.size(-1);
        down_convs_.push_back(runtime::Conv2d::load(w, conv, channels, out, kernel, kDownStride,
                                                    kDownPadding, 1, true));
        down_norms_.push_back(runtime::LayerNorm2d::load(w, down + std::to_string(index + 1), out));
        channels = out;
        index += 3;
    }
    if (down_convs_.empty()) w.fail("missing tensor " + down + "1.weight (mask downsampler)");
    down_out_ =
        runtime::Conv2d::load(w, down + std::to_string(index), channels, in_dim_, 1, 1, 0, 1, true);
    const int blocks = w.count_children(kPrefix + "fuser.layers");
    if (blocks == 0) w.fail("missing tensor " + kPrefix + "fuser.layers.0.dwconv.weight");
    for (int i = 0; i < blocks; ++i) {
        fuser_.push_back(CxBlock::load(w, kPrefix + "fuser.layers." + std::to_string(i), in_dim_));
    }
    // out_proj is nn.Identity when out_dim == in_dim: no tensors then.
    mem_dim_ = in_dim_;
    if (w.has(kPrefix + "out_proj.weight")) {
        mem_dim_ = w.get(kPrefix + "out_proj.weight").size(0);
        out_proj_ =
            runtime::Conv2d::load(w, kPrefix + "out_proj", in_dim_, mem_dim_, 1, 1, 0, 1, true);
    }
    if (w.has("no_obj_embed_spatial")) {
        no_obj_embed_spatial_ = w.get("no_obj_embed_spatial", {1, mem_dim_});
    }
}

Result<MemoryEncoder> MemoryEncoder::load(const std::map<std::string, at::Tensor>& tensors,
                                          const std::string& file_label,
                                          const MemoryEncoderOptions& options) {
    return runtime::guarded(file_label + ": memory encoder", [&]() -> Result<MemoryEncoder> {
        return MemoryEncoder(runtime::Weights(tensors, file_label), options);
    });
}

MemoryEncoding MemoryEncoder::forward(const at::Tensor& pix_feat, const at::Tensor& masks) const {
    MemoryEncoding out;
    out.features = forward_features(pix_feat, masks);
    out.pos_enc = sine_position_encoding(mem_dim_, out.features.size(2), out.features.size(3),
                                         out.features.device())
                      .to(out.features.scalar_type());
    return out;
}

at::Tensor MemoryEncoder::forward_features(const at::Tensor& pix_feat,
                                           const at::Tensor& masks) const {
    const at::Device device = pix_feat_proj_.weight.device();
    at::Tensor m = masks.to(device, dtype());
    for (size_t i = 0; i < down_convs_.size(); ++i) {
        // One kernel of ours for the narrow stages on the GPU (runtime/conv_norm.h); else the
        // norm channels last, the GELU in place. Back to NCHW (a view) for the next conv.
        at::Tensor fused = runtime::conv_norm_gelu(m, down_convs_[i], down_norms_[i]);
        if (!fused.defined()) {
            fused = down_norms_[i].channels_last(down_convs_[i](m));
            at::gelu_(fused);
        }
        m = fused.permute({0, 3, 1, 2});
    }
    m = down_out_(m);
    at::Tensor x = pix_feat_proj_(pix_feat.to(device, dtype())) + m;
    for (const CxBlock& block : fuser_) x = block(x);
    if (out_proj_.weight.defined()) x = out_proj_(x);
    return x;
}

at::Tensor MemoryEncoder::mask_for_memory(const at::Tensor& high_res_masks,
                                          bool is_mask_from_pts) const {
    const at::Tensor logits = high_res_masks.to(pix_feat_proj_.weight.device(), at::kFloat);
    // Eval only: binarise the masks of prompted frames (binarize_mask_from_pts_for_mem_enc).
    at::Tensor mask = options_.binarize_mask_from_pts && is_mask_from_pts
                          ? (logits > 0).to(at::kFloat)
                          : at::sigmoid(logits);
    // The reference skips each step when it is the identity; so does this.
    if (options_.sigmoid_scale != 1.0) mask = mask * options_.sigmoid_scale;
    if (options_.sigmoid_bias != 0.0) mask = mask + options_.sigmoid_bias;
    return mask.to(dtype());
}

MemoryEncoding MemoryEncoder::encode_new_memory(const at::Tensor& pix_feat,
                                                const at::Tensor& high_res_masks,
                                                const at::Tensor& object_score_logits,
                                                bool is_mask_from_pts) const {
    MemoryEncoding out;
    out.features =
        encode_new_memory_features(pix_feat, high_res_masks, object_score_logits, is_mask_from_pts);
    out.pos_enc = sine_position_encoding(mem_dim_, out.features.size(2), out.features.size(3),
                                         out.features.device())
                      .to(out.features.scalar_type());
    return out;
}

at::Tensor MemoryEncoder::encode_new_memory_features(const at::Tensor& pix_feat,
                                                     const at::Tensor& high_res_masks,
                                                     const at::Tensor& object_score_logits,
                                                     bool is_mask_from_pts) const {
    at::Tensor features =
        forward_features(pix_feat, mask_for_memory(high_res_masks, is_mask_from_pts));
    if (no_obj_embed_spatial_.defined()) {
        // A frame predicted to hold no object (score <= 0) marks its whole memory with the
        // no-object embedding; for visible objects the term is an exact zero.
        const at::Tensor appearing =
            (object_score_logits.to(features.device()) > 0).to(features.scalar_type());
        const at::Tensor absent = (1 - appearing).view({-1, 1, 1, 1});
        features =
            features + absent * no_obj_embed_spatial_.view({1, mem_dim_, 1, 1}).expand_as(features);
    }
    return features;
}

at::Tensor stored_memory_features(const at::Tensor& features, at::ScalarType dtype) {
    return features.to(at::kBFloat16).to(dtype);
}

}  // namespace ps::sam2
