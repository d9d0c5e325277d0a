// Reads the SAM architecture off tensor shapes; the one place where configuration is inferred.
#include "models/sam/sam_config.h"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"

namespace ps::sam {
namespace {

const char* const kEnc = "image_encoder.";

std::string join_first_keys(const std::map<std::string, at::Tensor>& tensors, size_t count) {
    std::string keys;
    size_t n = 0;
    for (const auto& [key, _] : tensors) {
        if (n++ == count) break;
        keys += (keys.empty() ? "" : ", ") + key;
    }
    return keys;
}

// Explains what a non-SAM state dict looks like, so the user learns which tool it belongs to.
std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (runtime::has_key_prefix(tensors, "stage1.rebnconvin.") ||
        runtime::has_key_prefix(tensors, "stage1d.")) {
        return "looks like a U²-Net background-removal checkpoint (stage1.rebnconvin.*, side1.*), "
               "not Segment Anything";
    }
    if (runtime::has_key_prefix(tensors, "patch_embed.seq.")) {
        return "looks like a bare TinyViT classifier (patch_embed.seq.*), not a full MobileSAM "
               "checkpoint with image_encoder/prompt_encoder/mask_decoder";
    }
    if (runtime::has_key_prefix(tensors, "patch_embed.proj.") &&
        runtime::has_key_prefix(tensors, "blocks.")) {
        return "looks like a bare ViT backbone (patch_embed.proj.*, blocks.*), not a full SAM "
               "checkpoint";
    }
    return "is not a Segment Anything checkpoint: no image_encoder.* tensors among its " +
           std::to_string(tensors.size()) + " (first: " + join_first_keys(tensors, 3) + ")";
}

std::string arch_name_vit(const VitConfig& v) {
    if (v.embed_dim == 768 && v.depth == 12) return "vit_b";
    if (v.embed_dim == 1024 && v.depth == 24) return "vit_l";
    if (v.embed_dim == 1280 && v.depth == 32) return "vit_h";
    return "vit_custom";
}

void infer_vit(const runtime::Weights& w, SamConfig& config) {
    VitConfig& v = config.vit;
    const at::Tensor& proj = w.get("image_encoder.patch_embed.proj.weight");
    if (proj.dim() != 4 || proj.size(1) != 3 || proj.size(2) != proj.size(3)) {
        w.fail("tensor image_encoder.patch_embed.proj.weight has shape " +
               runtime::shape_string(proj.sizes()) + ", expected [embed, 3, patch, patch]");
    }
    v.embed_dim = proj.size(0);
    v.patch_size = proj.size(2);
    const at::Tensor& pos = w.get("image_encoder.pos_embed");
    if (pos.dim() != 4 || pos.size(1) != pos.size(2) || pos.size(3) != v.embed_dim) {
        w.fail("tensor image_encoder.pos_embed has shape " + runtime::shape_string(pos.sizes()) +
               ", expected [1, grid, grid, " + std::to_string(v.embed_dim) + "]");
    }
    v.grid = pos.size(1);
    config.image_size = v.grid * v.patch_size;
    config.embedding_grid = v.grid;
    v.depth = w.count_children("image_encoder.blocks");
    if (v.depth == 0) w.fail("no image_encoder.blocks.* tensors");
    v.mlp_dim = w.get("image_encoder.blocks.0.mlp.lin1.weight").size(0);
    v.qkv_bias = w.has("image_encoder.blocks.0.attn.qkv.bias");
    v.use_rel_pos = w.has("image_encoder.blocks.0.attn.rel_pos_h");
    int64_t head_dim = 0;
    for (int64_t b = 0; b < v.depth; ++b) {
        const std::string key = "image_encoder.blocks." + std::to_string(b) + ".attn.rel_pos_h";
        if (!v.use_rel_pos) {
            v.window_size_per_block.push_back(0);
            continue;
        }
        // rel_pos_h is (2S - 1) x head_dim with S the attention span: the grid in global blocks,
        // the window in windowed ones.
        const at::Tensor& rel = w.get(key);
        if (rel.dim() != 2 || rel.size(0) % 2 == 0) {
            w.fail("tensor " + key + " has shape " + runtime::shape_string(rel.sizes()) +
                   ", expected [2*span-1, head_dim]");
        }
        if (head_dim == 0) head_dim = rel.size(1);
        if (rel.size(1) != head_dim) w.fail("tensor " + key + " has a different head_dim");
        const int64_t span = (rel.size(0) + 1) / 2;
        const bool global = span == v.grid;
        v.window_size_per_block.push_back(global ? 0 : span);
        if (global) v.global_blocks.push_back(static_cast<int>(b));
    }
    if (head_dim == 0) {
        // Without relative positions the head count is not stored; the official models use
        // head_dim 64 (vit_b, vit_l) or 80 (vit_h).
        head_dim = v.embed_dim == 1280 ? 80 : 64;
    }
    if (v.embed_dim % head_dim != 0) {
        w.fail("head_dim " + std::to_string(head_dim) + " does not divide embed dim " +
               std::to_string(v.embed_dim));
    }
    v.num_heads = v.embed_dim / head_dim;
    config.neck_in = v.embed_dim;
    config.arch = arch_name_vit(v);
}

// TinyViT's PatchMerging keeps the resolution for these widths (a quirk of MobileSAM's code).
int64_t merge_stride(int64_t out_dim) {
    return (out_dim == 320 || out_dim == 448 || out_dim == 576) ? 1 : 2;
}

void infer_tiny_vit(const runtime::Weights& w, SamConfig& config) {
    TinyVitConfig& t = config.tiny_vit;
    const std::string layers = std::string(kEnc) + "layers";
    const int num_layers = w.count_children(layers);
    if (num_layers < 2) w.fail("expected at least 2 image_encoder.layers.* stages");
    for (int i = 0; i < num_layers; ++i) {
        const std::string stage = layers + "." + std::to_string(i);
        const int depth = w.count_children(stage + ".blocks");
        if (depth == 0) w.fail("no " + stage + ".blocks.* tensors");
        t.depths.push_back(depth);
        if (i == 0) {
            const at::Tensor& conv1 = w.get(stage + ".blocks.0.conv1.c.weight");
            t.embed_dims.push_back(conv1.size(1));
            t.mbconv_hidden = conv1.size(0);
            t.num_heads.push_back(0);
            t.window_sizes.push_back(0);
            t.mlp_hidden.push_back(0);
        } else {
            const at::Tensor& biases = w.get(stage + ".blocks.0.attn.attention_biases");
            const auto window = static_cast<int64_t>(std::lround(std::sqrt(biases.size(1))));
            if (window * window != biases.size(1)) {
                w.fail("tensor " + stage + ".blocks.0.attn.attention_biases has " +
                       std::to_string(biases.size(1)) + " offsets, not a square window");
            }
            t.embed_dims.push_back(w.get(stage + ".blocks.0.attn.norm.weight").size(0));
            t.num_heads.push_back(biases.size(0));
            t.window_sizes.push_back(window);
            t.mlp_hidden.push_back(w.get(stage + ".blocks.0.mlp.fc1.weight").size(0));
            t.local_conv_size = w.get(stage + ".blocks.0.local_conv.c.weight").size(3);
        }
    }
    for (int i = 0; i + 1 < num_layers; ++i) {
        const std::string key = layers + "." + std::to_string(i) + ".downsample.conv1.c.weight";
        const int64_t out_dim = w.get(key).size(0);
        if (out_dim != t.embed_dims[i + 1]) {
            w.fail("tensor " + key + " maps to width " + std::to_string(out_dim) + " but stage " +
                   std::to_string(i + 1) + " is " + std::to_string(t.embed_dims[i + 1]) + " wide");
        }
        t.merge_strides.push_back(merge_stride(out_dim));
    }
    // The patch embedding divides by 4, each stride-2 merge by 2; the neck needs the SAM grid.
    int64_t grid = config.image_size / 4;
    for (int64_t stride : t.merge_strides) grid = (grid - 1) / stride + 1;
    config.embedding_grid = config.image_size / 16;
    if (grid != config.embedding_grid) {
        w.fail("TinyViT stages end on a " + std::to_string(grid) + "x" + std::to_string(grid) +
               " map, but SAM's neck needs " + std::to_string(config.embedding_grid) + "x" +
               std::to_string(config.embedding_grid));
    }
    config.neck_in = t.embed_dims.back();
    const bool mobile_sam = t.embed_dims == std::vector<int64_t>{64, 128, 160, 320} &&
                            t.depths == std::vector<int64_t>{2, 2, 6, 2};
    config.arch = mobile_sam ? "mobile_sam" : "tiny_vit_custom";
}

void infer_prompt_and_decoder(const runtime::Weights& w, SamConfig& c) {
    const at::Tensor& gaussian =
        w.get("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix");
    if (gaussian.dim() != 2 || gaussian.size(0) != 2) {
        w.fail("tensor prompt_encoder.pe_layer.positional_encoding_gaussian_matrix has shape " +
               runtime::shape_string(gaussian.sizes()) + ", expected [2, dim/2]");
    }
    c.prompt_dim = gaussian.size(1) * 2;
    c.mask_in_chans = w.get("prompt_encoder.mask_downscaling.3.weight").size(0);
    const at::Tensor& neck = w.get("image_encoder.neck.0.weight");
    if (neck.dim() != 4 || neck.size(0) != c.prompt_dim || neck.size(1) != c.neck_in) {
        w.fail("tensor image_encoder.neck.0.weight has shape " +
               runtime::shape_string(neck.sizes()) + ", expected [" + std::to_string(c.prompt_dim) +
               ", " + std::to_string(c.neck_in) + ", 1, 1]");
    }
    const int64_t dim = w.get("mask_decoder.iou_token.weight").size(1);
    if (dim != c.prompt_dim) {
        w.fail("mask decoder width " + std::to_string(dim) + " differs from prompt width " +
               std::to_string(c.prompt_dim));
    }
    c.num_mask_tokens = w.get("mask_decoder.mask_tokens.weight").size(0);
    c.decoder_depth = w.count_children("mask_decoder.transformer.layers");
    if (c.decoder_depth == 0) w.fail("no mask_decoder.transformer.layers.* tensors");
    c.decoder_mlp_dim = w.get("mask_decoder.transformer.layers.0.mlp.lin1.weight").size(0);
    const int64_t internal =
        w.get("mask_decoder.transformer.layers.0.cross_attn_token_to_image.q_proj.weight").size(0);
    if (internal <= 0 || dim % internal != 0) w.fail("odd cross-attention width");
    c.attention_downsample = dim / internal;
    c.decoder_heads = 8;  // not stored in the checkpoint; SAM and MobileSAM always use 8
    c.iou_head_depth = w.count_children("mask_decoder.iou_prediction_head.layers");
    c.iou_head_hidden = w.get("mask_decoder.iou_prediction_head.layers.0.weight").size(0);
}

void count_parameters(const std::map<std::string, at::Tensor>& tensors, SamConfig& c) {
    std::map<at::ScalarType, int64_t> by_dtype;
    for (const auto& [key, tensor] : tensors) {
        if (!at::isFloatingType(tensor.scalar_type())) continue;
        c.parameter_count += tensor.numel();
        by_dtype[tensor.scalar_type()] += tensor.numel();
    }
    at::ScalarType dominant = at::kFloat;
    int64_t most = -1;
    for (const auto& [type, n] : by_dtype) {
        if (n > most) most = n, dominant = type;
    }
    switch (dominant) {
        case at::kHalf:
            c.dtype = "float16";
            break;
        case at::kBFloat16:
            c.dtype = "bfloat16";
            break;
        case at::kDouble:
            c.dtype = "float64";
            break;
        default:
            c.dtype = "float32";
            break;
    }
}

}  // namespace

std::string SamConfig::describe() const {
    std::ostringstream out;
    out << arch << ": ";
    if (encoder == EncoderKind::ViT) {
        out << "ViT encoder embed " << vit.embed_dim << ", depth " << vit.depth << ", "
            << vit.num_heads << " heads, patch " << vit.patch_size << ", global blocks [";
        for (size_t i = 0; i < vit.global_blocks.size(); ++i)
            out << (i ? ", " : "") << vit.global_blocks[i];
        out << "]";
    } else {
        out << "TinyViT encoder widths [";
        for (size_t i = 0; i < tiny_vit.embed_dims.size(); ++i)
            out << (i ? ", " : "") << tiny_vit.embed_dims[i];
        out << "], depths [";
        for (size_t i = 0; i < tiny_vit.depths.size(); ++i)
            out << (i ? ", " : "") << tiny_vit.depths[i];
        out << "]";
    }
    out << "; prompt/decoder width " << prompt_dim << ", decoder depth " << decoder_depth << "; "
        << parameter_count << " parameters (" << dtype << ")";
    return out.str();
}

Result<SamConfig> infer_sam_config(const std::map<std::string, at::Tensor>& tensors,
                                   const std::string& file_label) {
    if (!runtime::has_key_prefix(tensors, kEnc)) {
        return make_error(ErrorKind::Mismatch, file_label + ": " + describe_foreign(tensors));
    }
    for (const char* part : {"prompt_encoder.", "mask_decoder."}) {
        if (!runtime::has_key_prefix(tensors, part)) {
            return make_error(ErrorKind::Mismatch,
                              file_label + ": has image_encoder.* but no " + part +
                                  "* tensors (an encoder-only or incomplete SAM checkpoint)");
        }
    }
    const runtime::Weights w(tensors, file_label);
    SamConfig config;
    try {
        if (w.has("image_encoder.patch_embed.proj.weight")) {
            config.encoder = EncoderKind::ViT;
            infer_vit(w, config);
        } else if (w.has("image_encoder.patch_embed.seq.0.c.weight")) {
            config.encoder = EncoderKind::TinyViT;
            infer_tiny_vit(w, config);
        } else {
            return make_error(ErrorKind::Unsupported,
                              file_label +
                                  ": unknown SAM image encoder (neither "
                                  "patch_embed.proj (ViT) nor patch_embed.seq (TinyViT))");
        }
        infer_prompt_and_decoder(w, config);
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    count_parameters(tensors, config);
    return config;
}

}  // namespace ps::sam
