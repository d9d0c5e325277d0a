// Reads the SAM 2.1 architecture off tensor shapes; the one place where its configuration is
// inferred, and the published layouts it recognises.
#include "models/sam2/sam2_config.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "models/runtime/attention_projections.h"
#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"

namespace ps::sam2 {
namespace {

const std::string kTrunk = "image_encoder.trunk.";
const std::string kNeck = "image_encoder.neck.";
const std::string kPrompt = "sam_prompt_encoder.";
const std::string kDecoder = "sam_mask_decoder.";

std::string list_string(const std::vector<int64_t>& values) {
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
    return out + "]";
}

// Explains what a non-SAM-2 state dict looks like, so the user learns which tool it belongs to.
std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (runtime::has_key_prefix(tensors, "image_encoder.") &&
        (runtime::has_key_prefix(tensors, "prompt_encoder.") ||
         runtime::has_key_prefix(tensors, "mask_decoder."))) {
        return "looks like a Segment Anything (SAM 1 / MobileSAM) checkpoint (image_encoder.*, "
               "prompt_encoder.*, mask_decoder.*), not SAM 2";
    }
    if (runtime::has_key_prefix(tensors, "stage1.rebnconvin.")) {
        return "looks like a U²-Net background-removal checkpoint (stage1.rebnconvin.*), not SAM 2";
    }
    if (runtime::has_key_prefix(tensors, "conv_in.")) {
        return "looks like an ISNet background-removal checkpoint (conv_in.*), not SAM 2";
    }
    if (runtime::has_key_prefix(tensors, "bb.") || runtime::has_key_prefix(tensors, "decoder.")) {
        return "looks like a background-removal checkpoint (BiRefNet bb.* / InSPyReNet "
               "decoder.*), not SAM 2";
    }
    if (runtime::has_key_prefix(tensors, "module.image_encoder.trunk.")) {
        return "has DataParallel keys (module.image_encoder.*); save model.module.state_dict()";
    }
    if (runtime::has_key_prefix(tensors, "trunk.") || runtime::has_key_prefix(tensors, "blocks.")) {
        return "looks like a bare Hiera backbone (trunk.* / blocks.*), not a full SAM 2 checkpoint "
               "with image_encoder / sam_prompt_encoder / sam_mask_decoder";
    }
    return "is not a SAM 2 checkpoint: no image_encoder.trunk.* tensors among its " +
           std::to_string(tensors.size()) + " (first: " + tensors.begin()->first + ")";
}

// The published layouts by (embed_dim, stages); what the yaml (or Hiera's defaults, where the
// yaml is silent) sets that the shapes cannot tell.
struct PublishedLayout {
    const char* arch;
    int64_t embed_dim;
    std::vector<int64_t> stages, window_spec, global_att_blocks, pos_embed_bkg;
    int64_t num_heads;
};

const std::vector<PublishedLayout>& published_layouts() {
    static const std::vector<PublishedLayout> layouts = {
        {"sam2.1_hiera_t", 96, {1, 2, 7, 2}, {8, 4, 14, 7}, {5, 7, 9}, {7, 7}, 1},
        {"sam2.1_hiera_s", 96, {1, 2, 11, 2}, {8, 4, 14, 7}, {7, 10, 13}, {7, 7}, 1},
        {"sam2.1_hiera_b+", 112, {2, 3, 16, 3}, {8, 4, 14, 7}, {12, 16, 20}, {14, 14}, 2},
        {"sam2.1_hiera_l", 144, {2, 6, 36, 4}, {8, 4, 16, 8}, {23, 33, 43}, {7, 7}, 2},
    };
    return layouts;
}

void infer_hiera(const runtime::Weights& w, Sam2Config& c) {
    HieraConfig& h = c.hiera;
    const std::string proj_key = kTrunk + "patch_embed.proj.weight";
    const at::Tensor& proj = w.get(proj_key);
    if (proj.dim() != 4 || proj.size(1) != 3 || proj.size(2) != 7 || proj.size(3) != 7) {
        w.fail("tensor " + proj_key + " has shape " + runtime::shape_string(proj.sizes()) +
               ", expected [embed_dim, 3, 7, 7]");
    }
    h.embed_dim = proj.size(0);
    const at::Tensor& pos = w.get(kTrunk + "pos_embed");
    if (pos.dim() != 4 || pos.size(0) != 1 || pos.size(1) != h.embed_dim) {
        w.fail("tensor " + kTrunk + "pos_embed has shape " + runtime::shape_string(pos.sizes()) +
               ", expected [1, " + std::to_string(h.embed_dim) + ", h, w]");
    }
    h.pos_embed_bkg = {pos.size(2), pos.size(3)};
    const at::Tensor& window = w.get(kTrunk + "pos_embed_window");
    if (window.dim() != 4 || window.size(1) != h.embed_dim || window.size(2) != window.size(3)) {
        w.fail("tensor " + kTrunk + "pos_embed_window has shape " +
               runtime::shape_string(window.sizes()) + ", expected [1, " +
               std::to_string(h.embed_dim) + ", window, window]");
    }
    const int depth = w.count_children(kTrunk + "blocks");
    if (depth == 0) w.fail("no " + kTrunk + "blocks.* tensors");
    // A stage starts where a block changes the width (it then has a shortcut `proj`).
    h.stages = {0};
    int64_t dim = h.embed_dim;
    for (int b = 0; b < depth; ++b) {
        const std::string p = kTrunk + "blocks." + std::to_string(b) + ".";
        w.get(p + "norm1.weight", {dim});
        const at::Tensor& out = w.get(p + "attn.proj.weight");
        const int64_t dim_out = out.size(0);
        if (out.dim() != 2 || out.size(1) != dim_out) {
            w.fail("tensor " + p + "attn.proj.weight has shape " +
                   runtime::shape_string(out.sizes()) + ", expected [dim_out, dim_out]");
        }
        if (dim_out != dim) {
            if (dim_out != 2 * dim) {
                w.fail("tensor " + p + "attn.proj.weight widens " + std::to_string(dim) + " to " +
                       std::to_string(dim_out) + "; Hiera doubles the width at a stage change");
            }
            w.get(p + "proj.weight", {dim_out, dim});
            h.stages.push_back(0);
        }
        ++h.stages.back();
        dim = dim_out;
        if (b == 0) h.mlp_ratio = w.get(p + "mlp.layers.0.weight").size(0) / dim_out;
    }
    if (h.stages.front() == 0 || h.stages.size() < 2) {
        w.fail("the Hiera blocks form stages " + list_string(h.stages) +
               "; expected the first to keep the width and at least one width change");
    }
    h.q_pool = std::min<int64_t>(3, static_cast<int64_t>(h.stages.size()) - 1);
    const PublishedLayout* known = nullptr;
    for (const PublishedLayout& layout : published_layouts()) {
        if (layout.embed_dim == h.embed_dim && layout.stages == h.stages &&
            layout.pos_embed_bkg == h.pos_embed_bkg && layout.window_spec[0] == window.size(2))
            known = &layout;
    }
    if (known) {
        c.arch = known->arch;
        h.num_heads = known->num_heads;
        h.window_spec = known->window_spec;
        h.global_att_blocks = known->global_att_blocks;
    } else {
        // An unpublished layout: Hiera's defaults (num_heads 1, window_spec (8, 4, 14, 7) with
        // the first read off pos_embed_window, global_att_blocks (12, 16, 20) where they exist).
        c.arch = "sam2.1_hiera_custom";
        h.num_heads = 1;
        h.window_spec = {window.size(2), 4, 14, 7};
        h.window_spec.resize(h.stages.size(), 7);
        for (int64_t b : {12, 16, 20})
            if (b < depth) h.global_att_blocks.push_back(b);
    }
}

void infer_neck_and_heads(const runtime::Weights& w, Sam2Config& c) {
    const std::vector<int64_t> dims = c.hiera.dims();
    const int levels = w.count_children(kNeck + "convs");
    if (levels != static_cast<int>(dims.size())) {
        w.fail("the neck has " + std::to_string(levels) + " convs, the trunk " +
               std::to_string(dims.size()) + " stages");
    }
    c.d_model = w.get(kNeck + "convs.0.conv.weight").size(0);
    c.backbone_channels.assign(dims.rbegin(), dims.rend());
    const at::Tensor& gaussian = w.get(kPrompt + "pe_layer.positional_encoding_gaussian_matrix");
    if (gaussian.dim() != 2 || gaussian.size(0) != 2 || gaussian.size(1) * 2 != c.d_model) {
        w.fail("tensor " + kPrompt + "pe_layer.positional_encoding_gaussian_matrix has shape " +
               runtime::shape_string(gaussian.sizes()) + ", expected [2, " +
               std::to_string(c.d_model / 2) + "]");
    }
    c.mask_in_chans = w.get(kPrompt + "mask_downscaling.3.weight").size(0);
    c.num_mask_tokens = w.get(kDecoder + "mask_tokens.weight").size(0);
    c.decoder_depth = w.count_children(kDecoder + "transformer.layers");
    if (c.decoder_depth == 0) w.fail("no " + kDecoder + "transformer.layers.* tensors");
    c.decoder_mlp_dim = w.get(kDecoder + "transformer.layers.0.mlp.layers.0.weight").size(0);
    const int64_t internal =
        w.get(kDecoder + "transformer.layers.0.cross_attn_token_to_image.q_proj.weight").size(0);
    if (internal <= 0 || c.d_model % internal != 0) {
        w.fail("tensor " + kDecoder +
               "transformer.layers.0.cross_attn_token_to_image.q_proj.weight has width " +
               std::to_string(internal) + ", which does not divide " + std::to_string(c.d_model));
    }
    c.attention_downsample = c.d_model / internal;
    c.iou_head_depth = w.count_children(kDecoder + "iou_prediction_head.layers");
    c.iou_head_hidden = w.get(kDecoder + "iou_prediction_head.layers.0.weight").size(0);
    c.use_high_res_features = w.has(kDecoder + "conv_s0.weight");
    c.pred_obj_scores = w.has(kDecoder + "obj_score_token.weight");
    c.pred_obj_scores_mlp = w.has(kDecoder + "pred_obj_score_head.layers.0.weight");
    if (w.has("maskmem_tpos_enc")) {
        const at::Tensor& tpos = w.get("maskmem_tpos_enc");
        if (tpos.dim() == 4) c.num_maskmem = tpos.size(0), c.mem_dim = tpos.size(3);
    }
    c.memory_attention_layers = w.count_children("memory_attention.layers");
    if (w.has("memory_attention.layers.0.linear1.weight"))
        c.memory_attention_ffn = w.get("memory_attention.layers.0.linear1.weight").size(0);
}

// Every tensor the image path reads must be there with the published shape: a missing or odd
// one is named here, at inference, instead of when the network is built.
void check_image_path(const runtime::Weights& w, const Sam2Config& c) {
    for (const auto& [key, spec] : sam2_tensor_specs(c)) {
        const bool image_path = key.rfind("image_encoder.", 0) == 0 || key.rfind(kPrompt, 0) == 0 ||
                                key.rfind(kDecoder, 0) == 0 || key == "no_mem_embed";
        if (image_path) w.get(key, spec.shape);
    }
}

void add_linear(runtime::TensorSpecs& s, const std::string& p, int64_t in, int64_t out) {
    s[p + ".weight"] = {{out, in}};
    s[p + ".bias"] = {{out}};
}
void add_norm(runtime::TensorSpecs& s, const std::string& p, int64_t dim) {
    s[p + ".weight"] = {{dim}};
    s[p + ".bias"] = {{dim}};
}
void add_conv(runtime::TensorSpecs& s, const std::string& p, int64_t in, int64_t out,
              int64_t kernel) {
    s[p + ".weight"] = {{out, in, kernel, kernel}};
    s[p + ".bias"] = {{out}};
}
void add_mlp(runtime::TensorSpecs& s, const std::string& p, int64_t in, int64_t hidden, int64_t out,
             int64_t layers) {
    for (int64_t i = 0; i < layers; ++i) {
        add_linear(s, p + ".layers." + std::to_string(i), i == 0 ? in : hidden,
                   i + 1 == layers ? out : hidden);
    }
}

void add_trunk_specs(runtime::TensorSpecs& s, const Sam2Config& c) {
    const HieraConfig& h = c.hiera;
    s[kTrunk + "pos_embed"] = {{1, h.embed_dim, h.pos_embed_bkg[0], h.pos_embed_bkg[1]}};
    s[kTrunk + "pos_embed_window"] = {{1, h.embed_dim, h.window_spec[0], h.window_spec[0]}};
    add_conv(s, kTrunk + "patch_embed.proj", 3, h.embed_dim, 7);
    for (int64_t b = 0; b < h.depth(); ++b) {
        const std::string p = kTrunk + "blocks." + std::to_string(b);
        const int64_t in = h.block_dim_in(b), out = h.block_dim_out(b);
        add_norm(s, p + ".norm1", in);
        add_linear(s, p + ".attn.qkv", in, 3 * out);
        add_linear(s, p + ".attn.proj", out, out);
        add_norm(s, p + ".norm2", out);
        add_mlp(s, p + ".mlp", out, out * h.mlp_ratio, out, 2);
        if (in != out) add_linear(s, p + ".proj", in, out);
    }
    for (size_t i = 0; i < c.backbone_channels.size(); ++i) {
        add_conv(s, kNeck + "convs." + std::to_string(i) + ".conv", c.backbone_channels[i],
                 c.d_model, 1);
    }
}

void add_sam_head_specs(runtime::TensorSpecs& s, const Sam2Config& c) {
    const int64_t d = c.d_model, chans = c.mask_in_chans;
    s[kPrompt + "pe_layer.positional_encoding_gaussian_matrix"] = {{2, d / 2}};
    for (int i = 0; i < 4; ++i)
        s[kPrompt + "point_embeddings." + std::to_string(i) + ".weight"] = {{1, d}};
    s[kPrompt + "not_a_point_embed.weight"] = {{1, d}};
    s[kPrompt + "no_mask_embed.weight"] = {{1, d}};
    add_conv(s, kPrompt + "mask_downscaling.0", 1, chans / 4, 2);
    add_norm(s, kPrompt + "mask_downscaling.1", chans / 4);
    add_conv(s, kPrompt + "mask_downscaling.3", chans / 4, chans, 2);
    add_norm(s, kPrompt + "mask_downscaling.4", chans);
    add_conv(s, kPrompt + "mask_downscaling.6", chans, d, 1);

    const std::string t = kDecoder + "transformer.";
    const int64_t internal = d / c.attention_downsample;
    for (int64_t i = 0; i < c.decoder_depth; ++i) {
        const std::string p = t + "layers." + std::to_string(i);
        runtime::add_attention_projection_specs(s, p + ".self_attn", d, d, d);
        runtime::add_attention_projection_specs(s, p + ".cross_attn_token_to_image", d, internal,
                                                d);
        runtime::add_attention_projection_specs(s, p + ".cross_attn_image_to_token", d, internal,
                                                d);
        add_mlp(s, p + ".mlp", d, c.decoder_mlp_dim, d, 2);
        for (const char* norm : {".norm1", ".norm2", ".norm3", ".norm4"}) add_norm(s, p + norm, d);
    }
    runtime::add_attention_projection_specs(s, t + "final_attn_token_to_image", d, internal, d);
    add_norm(s, t + "norm_final_attn", d);
    s[kDecoder + "iou_token.weight"] = {{1, d}};
    s[kDecoder + "mask_tokens.weight"] = {{c.num_mask_tokens, d}};
    if (c.pred_obj_scores) s[kDecoder + "obj_score_token.weight"] = {{1, d}};
    s[kDecoder + "output_upscaling.0.weight"] = {{d, d / 4, 2, 2}};
    s[kDecoder + "output_upscaling.0.bias"] = {{d / 4}};
    add_norm(s, kDecoder + "output_upscaling.1", d / 4);
    s[kDecoder + "output_upscaling.3.weight"] = {{d / 4, d / 8, 2, 2}};
    s[kDecoder + "output_upscaling.3.bias"] = {{d / 8}};
    if (c.use_high_res_features) {
        add_conv(s, kDecoder + "conv_s0", d, d / 8, 1);
        add_conv(s, kDecoder + "conv_s1", d, d / 4, 1);
    }
    for (int64_t i = 0; i < c.num_mask_tokens; ++i) {
        add_mlp(s, kDecoder + "output_hypernetworks_mlps." + std::to_string(i), d, d, d / 8, 3);
    }
    add_mlp(s, kDecoder + "iou_prediction_head", d, c.iou_head_hidden, c.num_mask_tokens,
            c.iou_head_depth);
    if (c.pred_obj_scores) {
        if (c.pred_obj_scores_mlp) {
            add_mlp(s, kDecoder + "pred_obj_score_head", d, d, 1, 3);
        } else {
            add_linear(s, kDecoder + "pred_obj_score_head", d, 1);
        }
    }
}

// The video parts of SAM2Base (memory attention, memory encoder, object pointers): listed so
// that a random checkpoint has the published layout; the image path does not read them.
void add_video_specs(runtime::TensorSpecs& s, const Sam2Config& c) {
    const int64_t d = c.d_model, mem = c.mem_dim;
    s["maskmem_tpos_enc"] = {{c.num_maskmem, 1, 1, mem}};
    s["no_mem_embed"] = {{1, 1, d}};
    s["no_mem_pos_enc"] = {{1, 1, d}};
    s["no_obj_ptr"] = {{1, d}};
    s["no_obj_embed_spatial"] = {{1, mem}};
    add_conv(s, "mask_downsample", 1, 1, 4);
    for (int64_t i = 0; i < c.memory_attention_layers; ++i) {
        const std::string p = "memory_attention.layers." + std::to_string(i);
        runtime::add_attention_projection_specs(s, p + ".self_attn", d, d, d);
        runtime::add_attention_projection_specs(s, p + ".cross_attn_image", d, d, mem);
        add_linear(s, p + ".linear1", d, c.memory_attention_ffn);
        add_linear(s, p + ".linear2", c.memory_attention_ffn, d);
        for (const char* norm : {".norm1", ".norm2", ".norm3"}) add_norm(s, p + norm, d);
    }
    add_norm(s, "memory_attention.norm", d);
    // MaskDownSampler (kernel 3, stride 2, total stride 16): ×4 channels per step, then 1x1.
    const std::string m = "memory_encoder.";
    int64_t in = 1;
    for (int step = 0; step < 4; ++step) {
        add_conv(s, m + "mask_downsampler.encoder." + std::to_string(3 * step), in, in * 4, 3);
        add_norm(s, m + "mask_downsampler.encoder." + std::to_string(3 * step + 1), in * 4);
        in *= 4;
    }
    add_conv(s, m + "mask_downsampler.encoder.12", in, d, 1);
    add_conv(s, m + "pix_feat_proj", d, d, 1);
    for (int i = 0; i < 2; ++i) {
        const std::string p = m + "fuser.layers." + std::to_string(i);
        s[p + ".gamma"] = {{d}};
        s[p + ".dwconv.weight"] = {{d, 1, 7, 7}};
        s[p + ".dwconv.bias"] = {{d}};
        add_norm(s, p + ".norm", d);
        add_linear(s, p + ".pwconv1", d, 4 * d);
        add_linear(s, p + ".pwconv2", 4 * d, d);
    }
    add_conv(s, m + "out_proj", d, mem, 1);
    add_mlp(s, "obj_ptr_proj", d, d, d, 3);
    add_linear(s, "obj_ptr_tpos_proj", d, mem);
}

}  // namespace

int64_t HieraConfig::depth() const {
    return std::accumulate(stages.begin(), stages.end(), int64_t(0));
}

std::vector<int64_t> HieraConfig::stage_ends() const {
    std::vector<int64_t> ends;
    int64_t total = 0;
    for (int64_t n : stages) ends.push_back((total += n) - 1);
    return ends;
}

std::vector<int64_t> HieraConfig::dims() const {
    std::vector<int64_t> out;
    int64_t dim = embed_dim;
    for (size_t i = 0; i < stages.size(); ++i, dim *= 2) out.push_back(dim);
    return out;
}

namespace {
// The stage whose width a block outputs: a stage's first block already changes the width.
size_t stage_of(const HieraConfig& h, int64_t block) {
    const std::vector<int64_t> ends = h.stage_ends();
    size_t stage = 0;
    while (stage + 1 < ends.size() && block > ends[stage]) ++stage;
    return stage;
}
}  // namespace

int64_t HieraConfig::block_dim_out(int64_t block) const {
    return dims()[stage_of(*this, block)];
}
int64_t HieraConfig::block_dim_in(int64_t block) const {
    return block == 0 ? embed_dim : block_dim_out(block - 1);
}
int64_t HieraConfig::block_heads(int64_t block) const {
    return num_heads << stage_of(*this, block);
}
int64_t HieraConfig::block_window(int64_t block) const {
    if (std::find(global_att_blocks.begin(), global_att_blocks.end(), block) !=
        global_att_blocks.end())
        return 0;
    // hieradet.py: the window "lags by a block": a stage's first block still uses the previous
    // stage's window (it attends before its q-pooling halves the map).
    return window_spec[stage_of(*this, block == 0 ? 0 : block - 1)];
}
bool HieraConfig::block_q_pool(int64_t block) const {
    const std::vector<int64_t> ends = stage_ends();
    for (int64_t i = 0; i < q_pool && i + 1 < static_cast<int64_t>(ends.size()); ++i)
        if (block == ends[i] + 1) return true;
    return false;
}

std::string Sam2Config::describe() const {
    std::ostringstream out;
    out << arch << ": Hiera embed " << hiera.embed_dim << ", stages " << list_string(hiera.stages)
        << ", heads " << hiera.num_heads << ", windows " << list_string(hiera.window_spec)
        << ", global blocks " << list_string(hiera.global_att_blocks) << "; FPN neck " << d_model
        << " (scalp " << scalp << "); image " << image_size << "x" << image_size << "; memory "
        << mem_dim << " x " << num_maskmem << "; " << parameter_count << " parameters (" << dtype
        << ")";
    return out.str();
}

Sam2Config official_sam2_config(const std::string& arch) {
    const std::string full = arch.rfind("sam2.1_", 0) == 0 ? arch : "sam2.1_" + arch;
    for (const PublishedLayout& layout : published_layouts()) {
        if (full != layout.arch) continue;
        Sam2Config c;
        c.arch = layout.arch;
        c.hiera.embed_dim = layout.embed_dim;
        c.hiera.num_heads = layout.num_heads;
        c.hiera.stages = layout.stages;
        c.hiera.window_spec = layout.window_spec;
        c.hiera.global_att_blocks = layout.global_att_blocks;
        c.hiera.pos_embed_bkg = layout.pos_embed_bkg;
        const std::vector<int64_t> dims = c.hiera.dims();
        c.backbone_channels.assign(dims.rbegin(), dims.rend());
        c.dtype = "float32";
        for (const auto& [key, spec] : sam2_tensor_specs(c)) {
            c.parameter_count += std::accumulate(spec.shape.begin(), spec.shape.end(), int64_t(1),
                                                 std::multiplies<int64_t>());
        }
        return c;
    }
    throw std::invalid_argument("unknown SAM 2 architecture " + arch +
                                " (sam2.1_hiera_t, sam2.1_hiera_s, sam2.1_hiera_b+, "
                                "sam2.1_hiera_l)");
}

runtime::TensorSpecs sam2_tensor_specs(const Sam2Config& c) {
    runtime::TensorSpecs s;
    add_trunk_specs(s, c);
    add_sam_head_specs(s, c);
    add_video_specs(s, c);
    return s;
}

Result<Sam2Config> infer_sam2_config(const std::map<std::string, at::Tensor>& tensors,
                                     const std::string& file_label) {
    if (!runtime::has_key_prefix(tensors, kTrunk)) {
        return make_error(ErrorKind::Mismatch, file_label + ": " + describe_foreign(tensors));
    }
    for (const std::string& part : {kNeck, kPrompt, kDecoder}) {
        if (!runtime::has_key_prefix(tensors, part)) {
            return make_error(ErrorKind::Mismatch,
                              file_label + ": has image_encoder.trunk.* but no " + part +
                                  "* tensors (a backbone-only or incomplete SAM 2 checkpoint)");
        }
    }
    const runtime::Weights w(tensors, file_label);
    Sam2Config config;
    try {
        infer_hiera(w, config);
        infer_neck_and_heads(w, config);
        check_image_path(w, config);
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) config.parameter_count += tensor.numel();
    }
    config.dtype = runtime::floating_dtype_name(tensors.at(kTrunk + "pos_embed").scalar_type());
    return config;
}

}  // namespace ps::sam2
