// State-dict layouts of segment-anything's and MobileSAM's modules.
#include "models/sam/sam_shapes.h"

#include <stdexcept>

#include "models/runtime/attention_projections.h"

namespace ps::sam {
namespace {

using Specs = std::map<std::string, runtime::TensorSpec>;

void linear(Specs& s, const std::string& p, int64_t in, int64_t out, bool bias = true) {
    s[p + ".weight"] = {{out, in}};
    if (bias) s[p + ".bias"] = {{out}};
}

void norm(Specs& s, const std::string& p, int64_t dim) {
    s[p + ".weight"] = {{dim}};
    s[p + ".bias"] = {{dim}};
}

void conv(Specs& s, const std::string& p, int64_t in, int64_t out, int64_t k, int64_t groups,
          bool bias) {
    s[p + ".weight"] = {{out, in / groups, k, k}};
    if (bias) s[p + ".bias"] = {{out}};
}

void conv_bn(Specs& s, const std::string& p, int64_t in, int64_t out, int64_t k,
             int64_t groups = 1) {
    conv(s, p + ".c", in, out, k, groups, false);
    for (const char* n : {"weight", "bias", "running_mean", "running_var"}) {
        s[p + ".bn." + n] = {{out}};
    }
    s[p + ".bn.num_batches_tracked"] = {{}, true};
}

void vit_encoder(Specs& s, const SamConfig& c) {
    const VitConfig& v = c.vit;
    const std::string p = "image_encoder.";
    conv(s, p + "patch_embed.proj", 3, v.embed_dim, v.patch_size, 1, true);
    s[p + "pos_embed"] = {{1, v.grid, v.grid, v.embed_dim}};
    const int64_t head_dim = v.embed_dim / v.num_heads;
    for (int64_t b = 0; b < v.depth; ++b) {
        const std::string bp = p + "blocks." + std::to_string(b) + ".";
        norm(s, bp + "norm1", v.embed_dim);
        linear(s, bp + "attn.qkv", v.embed_dim, 3 * v.embed_dim, v.qkv_bias);
        linear(s, bp + "attn.proj", v.embed_dim, v.embed_dim);
        if (v.use_rel_pos) {
            const int64_t span =
                v.window_size_per_block[b] > 0 ? v.window_size_per_block[b] : v.grid;
            s[bp + "attn.rel_pos_h"] = {{2 * span - 1, head_dim}};
            s[bp + "attn.rel_pos_w"] = {{2 * span - 1, head_dim}};
        }
        norm(s, bp + "norm2", v.embed_dim);
        linear(s, bp + "mlp.lin1", v.embed_dim, v.mlp_dim);
        linear(s, bp + "mlp.lin2", v.mlp_dim, v.embed_dim);
    }
}

void tiny_vit_encoder(Specs& s, const SamConfig& c) {
    const TinyVitConfig& t = c.tiny_vit;
    const std::string p = "image_encoder.";
    const int64_t d0 = t.embed_dims[0];
    conv_bn(s, p + "patch_embed.seq.0", 3, d0 / 2, 3);
    conv_bn(s, p + "patch_embed.seq.2", d0 / 2, d0, 3);
    for (size_t stage = 0; stage < t.embed_dims.size(); ++stage) {
        const std::string lp = p + "layers." + std::to_string(stage) + ".";
        const int64_t d = t.embed_dims[stage];
        for (int64_t b = 0; b < t.depths[stage]; ++b) {
            const std::string bp = lp + "blocks." + std::to_string(b) + ".";
            if (stage == 0) {
                conv_bn(s, bp + "conv1", d, t.mbconv_hidden, 1);
                conv_bn(s, bp + "conv2", t.mbconv_hidden, t.mbconv_hidden, 3, t.mbconv_hidden);
                conv_bn(s, bp + "conv3", t.mbconv_hidden, d, 1);
                continue;
            }
            const int64_t w = t.window_sizes[stage];
            s[bp + "attn.attention_biases"] = {{t.num_heads[stage], w * w}};
            norm(s, bp + "attn.norm", d);
            linear(s, bp + "attn.qkv", d, 3 * d);
            linear(s, bp + "attn.proj", d, d);
            norm(s, bp + "mlp.norm", d);
            linear(s, bp + "mlp.fc1", d, t.mlp_hidden[stage]);
            linear(s, bp + "mlp.fc2", t.mlp_hidden[stage], d);
            conv_bn(s, bp + "local_conv", d, d, t.local_conv_size, d);
        }
        if (stage + 1 < t.embed_dims.size()) {
            const int64_t out = t.embed_dims[stage + 1];
            conv_bn(s, lp + "downsample.conv1", d, out, 1);
            conv_bn(s, lp + "downsample.conv2", out, out, 3, out);
            conv_bn(s, lp + "downsample.conv3", out, out, 1);
        }
    }
    // The classifier head ships in the released checkpoint, unused by SAM.
    norm(s, p + "norm_head", t.embed_dims.back());
    linear(s, p + "head", t.embed_dims.back(), 1000);
}

void neck_and_prompt(Specs& s, const SamConfig& c) {
    const int64_t C = c.prompt_dim, m = c.mask_in_chans;
    conv(s, "image_encoder.neck.0", c.neck_in, C, 1, 1, false);
    norm(s, "image_encoder.neck.1", C);
    conv(s, "image_encoder.neck.2", C, C, 3, 1, false);
    norm(s, "image_encoder.neck.3", C);
    const std::string p = "prompt_encoder.";
    s[p + "pe_layer.positional_encoding_gaussian_matrix"] = {{2, C / 2}};
    for (int i = 0; i < 4; ++i)
        s[p + "point_embeddings." + std::to_string(i) + ".weight"] = {{1, C}};
    s[p + "not_a_point_embed.weight"] = {{1, C}};
    conv(s, p + "mask_downscaling.0", 1, m / 4, 2, 1, true);
    norm(s, p + "mask_downscaling.1", m / 4);
    conv(s, p + "mask_downscaling.3", m / 4, m, 2, 1, true);
    norm(s, p + "mask_downscaling.4", m);
    conv(s, p + "mask_downscaling.6", m, C, 1, 1, true);
    s[p + "no_mask_embed.weight"] = {{1, C}};
}

void decoder(Specs& s, const SamConfig& c) {
    const int64_t C = c.prompt_dim, internal = C / c.attention_downsample;
    const std::string p = "mask_decoder.";
    for (int64_t i = 0; i < c.decoder_depth; ++i) {
        const std::string lp = p + "transformer.layers." + std::to_string(i) + ".";
        runtime::add_attention_projection_specs(s, lp + "self_attn", C, C, C);
        runtime::add_attention_projection_specs(s, lp + "cross_attn_token_to_image", C, internal,
                                                C);
        runtime::add_attention_projection_specs(s, lp + "cross_attn_image_to_token", C, internal,
                                                C);
        for (const char* n : {"norm1", "norm2", "norm3", "norm4"}) norm(s, lp + n, C);
        linear(s, lp + "mlp.lin1", C, c.decoder_mlp_dim);
        linear(s, lp + "mlp.lin2", c.decoder_mlp_dim, C);
    }
    runtime::add_attention_projection_specs(s, p + "transformer.final_attn_token_to_image", C,
                                            internal, C);
    norm(s, p + "transformer.norm_final_attn", C);
    s[p + "iou_token.weight"] = {{1, C}};
    s[p + "mask_tokens.weight"] = {{c.num_mask_tokens, C}};
    s[p + "output_upscaling.0.weight"] = {{C, C / 4, 2, 2}};
    s[p + "output_upscaling.0.bias"] = {{C / 4}};
    norm(s, p + "output_upscaling.1", C / 4);
    s[p + "output_upscaling.3.weight"] = {{C / 4, C / 8, 2, 2}};
    s[p + "output_upscaling.3.bias"] = {{C / 8}};
    for (int64_t i = 0; i < c.num_mask_tokens; ++i) {
        const std::string hp = p + "output_hypernetworks_mlps." + std::to_string(i) + ".layers.";
        linear(s, hp + "0", C, C);
        linear(s, hp + "1", C, C);
        linear(s, hp + "2", C, C / 8);
    }
    for (int64_t i = 0; i < c.iou_head_depth; ++i) {
        const int64_t in = i == 0 ? C : c.iou_head_hidden;
        const int64_t out = i + 1 == c.iou_head_depth ? c.num_mask_tokens : c.iou_head_hidden;
        linear(s, p + "iou_prediction_head.layers." + std::to_string(i), in, out);
    }
}

SamConfig vit_config(int64_t embed, int64_t depth, int64_t heads, std::vector<int> globals,
                     const char* arch) {
    SamConfig c;
    c.arch = arch;
    c.encoder = EncoderKind::ViT;
    c.vit.embed_dim = embed;
    c.vit.depth = depth;
    c.vit.num_heads = heads;
    c.vit.patch_size = 16;
    c.vit.grid = 64;
    c.vit.mlp_dim = 4 * embed;
    c.vit.global_blocks = globals;
    c.vit.window_size_per_block.assign(depth, 14);
    for (int g : globals) c.vit.window_size_per_block[g] = 0;
    c.neck_in = embed;
    return c;
}

}  // namespace

runtime::TensorSpecs sam_tensor_specs(const SamConfig& config) {
    Specs specs;
    if (config.encoder == EncoderKind::ViT) {
        vit_encoder(specs, config);
    } else {
        tiny_vit_encoder(specs, config);
    }
    neck_and_prompt(specs, config);
    decoder(specs, config);
    return specs;
}

SamConfig official_sam_config(const std::string& arch) {
    if (arch == "vit_b") return vit_config(768, 12, 12, {2, 5, 8, 11}, "vit_b");
    if (arch == "vit_l") return vit_config(1024, 24, 16, {5, 11, 17, 23}, "vit_l");
    if (arch == "vit_h") return vit_config(1280, 32, 16, {7, 15, 23, 31}, "vit_h");
    if (arch == "mobile_sam") {
        SamConfig c;
        c.arch = "mobile_sam";
        c.encoder = EncoderKind::TinyViT;
        TinyVitConfig& t = c.tiny_vit;
        t.embed_dims = {64, 128, 160, 320};
        t.depths = {2, 2, 6, 2};
        t.num_heads = {0, 4, 5, 10};
        t.window_sizes = {0, 7, 14, 7};
        t.mbconv_hidden = 64 * 4;
        t.mlp_hidden = {0, 128 * 4, 160 * 4, 320 * 4};
        t.merge_strides = {2, 2, 1};
        c.neck_in = 320;
        return c;
    }
    throw std::invalid_argument("unknown SAM architecture '" + arch +
                                "' (expected vit_b, vit_l, vit_h or mobile_sam)");
}

}  // namespace ps::sam
