// Reads InSPyReNet's widths off tensor shapes; the one place where its configuration is inferred.
#include "models/inspyrenet/inspyrenet_config.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "models/runtime/folded_conv.h"
#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"

namespace ps::inspyrenet {
namespace {

using runtime::add_conv_bn_specs;
using runtime::TensorSpecs;

// Explains what a non-InSPyReNet state dict looks like, so the user learns which tool it is for.
std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (runtime::has_key_prefix(tensors, "image_encoder.") ||
        runtime::has_key_prefix(tensors, "mask_decoder.")) {
        return "looks like a Segment Anything checkpoint (image_encoder.*, mask_decoder.*), not "
               "InSPyReNet; use it with `segment`";
    }
    if (runtime::has_key_prefix(tensors, "outconv.") &&
        runtime::has_key_prefix(tensors, "stage1.rebnconvin.")) {
        return "looks like a U²-Net checkpoint (outconv.*, stage1.*), not InSPyReNet";
    }
    if (tensors.count("conv_in.weight")) {
        return "looks like an ISNet checkpoint (conv_in.*, stage1.*), not InSPyReNet";
    }
    if (runtime::has_key_prefix(tensors, "module.decoder.")) {
        return "has DataParallel keys (module.decoder.*); save model.module.state_dict() instead";
    }
    return "is not an InSPyReNet checkpoint: no decoder.conv1.conv.weight and "
           "attention0.conv_out4.conv.weight among its " +
           std::to_string(tensors.size()) + " tensors (first: " + tensors.begin()->first + ")";
}

void conv_bn(TensorSpecs& s, const std::string& p, int64_t in, int64_t out, int64_t kh, int64_t kw,
             bool bn = true) {
    add_conv_bn_specs(s, p + ".conv.weight", bn ? p + ".bn" : "", in, out, kh, kw);
}

void self_attention_specs(TensorSpecs& s, const std::string& p, int64_t c) {
    s[p + ".gamma"] = {{1}};
    conv_bn(s, p + ".query_conv", c, c / 8, 1, 1);
    conv_bn(s, p + ".key_conv", c, c / 8, 1, 1);
    conv_bn(s, p + ".value_conv", c, c, 1, 1);
}

void paa_e_specs(TensorSpecs& s, const std::string& p, int64_t in, int64_t out) {
    conv_bn(s, p + ".branch0", in, out, 1, 1);
    for (int b = 1; b <= 3; ++b) {
        const std::string q = p + ".branch" + std::to_string(b);
        const int64_t k = 2 * b + 1;  // receptive sizes 3, 5, 7
        conv_bn(s, q + ".conv0", in, out, 1, 1);
        conv_bn(s, q + ".conv1", out, out, 1, k);
        conv_bn(s, q + ".conv2", out, out, k, 1);
        conv_bn(s, q + ".conv3", out, out, 3, 3);
        self_attention_specs(s, q + ".Hattn", out);
        self_attention_specs(s, q + ".Wattn", out);
    }
    conv_bn(s, p + ".conv_cat", 4 * out, out, 3, 3);
    conv_bn(s, p + ".conv_res", in, out, 1, 1);
}

void sica_specs(TensorSpecs& s, const std::string& p, int64_t in, int64_t depth, bool lmap_in) {
    conv_bn(s, p + ".conv_query.0", in, depth, 3, 3);
    conv_bn(s, p + ".conv_query.1", depth, depth, 3, 3);
    for (const char* name : {".conv_key", ".conv_value"}) {
        conv_bn(s, p + name + ".0", in, depth, 1, 1);
        conv_bn(s, p + name + ".1", depth, depth, 1, 1);
    }
    conv_bn(s, p + ".conv_out1", depth, depth, 3, 3);
    conv_bn(s, p + ".conv_out2", in + depth, depth, 3, 3);
    conv_bn(s, p + ".conv_out3", depth, depth, 3, 3);
    conv_bn(s, p + ".conv_out4", depth, 1, 1, 1);
    s[p + ".threshold"] = {{1}};
    if (lmap_in) s[p + ".lthreshold"] = {{1}};
}

// A Swin-B file is the "fast" checkpoint when its name says so (transparent-background's
// ckpt_fast.pth); anything else runs as "base".
bool named_fast(const std::string& file_label) {
    const std::string name = std::filesystem::path(file_label).filename().string();
    return name.find("fast") != std::string::npos;
}

bool same_layout(const InSPyReNetConfig& a, const InSPyReNetConfig& b) {
    if (a.backbone != b.backbone || a.depth != b.depth || a.in_channels != b.in_channels)
        return false;
    if (a.backbone == Backbone::SwinB) {
        return a.swin.embed_dim == b.swin.embed_dim && a.swin.depths == b.swin.depths &&
               a.swin.num_heads == b.swin.num_heads && a.swin.window_size == b.swin.window_size;
    }
    return a.res2net.stem_mid == b.res2net.stem_mid && a.res2net.blocks == b.res2net.blocks &&
           a.res2net.widths == b.res2net.widths &&
           a.res2net.out_channels == b.res2net.out_channels && a.res2net.scale == b.res2net.scale;
}

}  // namespace

std::string InSPyReNetConfig::backbone_name() const {
    return backbone == Backbone::SwinB ? "Swin-B" : "Res2Net50-v1b";
}

std::string InSPyReNetConfig::describe() const {
    std::ostringstream out;
    out << arch << ": " << backbone_name() << " backbone ("
        << (backbone == Backbone::SwinB ? swin.describe() : res2net.describe())
        << "); context widths";
    for (int64_t c : in_channels) out << " " << c;
    out << "; decoder depth " << depth << "; input " << base_size << "x" << base_size;
    if (!mode.empty()) out << " (" << mode << " mode)";
    out << "; " << parameter_count << " parameters (" << dtype << ")";
    return out.str();
}

InSPyReNetConfig official_inspyrenet_config(const std::string& arch) {
    InSPyReNetConfig c;
    c.arch = arch;
    c.depth = 64;
    if (arch == "inspyrenet_res2net50") {
        // InSPyReNet_Res2Net50: res2net50_v1b_26w_4s, in_channels [64, 256, 512, 1024, 2048].
        c.backbone = Backbone::Res2Net50;
        c.res2net = runtime::official_res2net50_v1b_config();
        c.in_channels = {64, 256, 512, 1024, 2048};
        c.base_size = 384;
    } else if (arch == "inspyrenet_swinb") {
        // InSPyReNet_SwinB: SwinB(), in_channels [128, 128, 256, 512, 1024].
        c.backbone = Backbone::SwinB;
        c.swin = runtime::official_swin_v1_config("swin_v1_b");
        c.swin.shift_mask_value = -100.0;
        c.in_channels = {128, 128, 256, 512, 1024};
        c.base_size = 1024;
        c.mode = "base";
    } else {
        throw std::invalid_argument("unknown InSPyReNet architecture " + arch);
    }
    return c;
}

runtime::TensorSpecs inspyrenet_tensor_specs(const InSPyReNetConfig& c) {
    TensorSpecs s;
    if (c.backbone == Backbone::SwinB) {
        runtime::add_swin_v1_specs(s, "backbone.", c.swin);
        // SwinTransformer(out_indices=(0, 1, 2, 3)) has a norm<i> per stage and no final norm;
        // ape=False: no absolute_pos_embed.
    } else {
        runtime::add_res2net_specs(s, "backbone.", c.res2net);
    }
    for (int k = 0; k < 5; ++k) {
        paa_e_specs(s, "context" + std::to_string(k + 1), c.in_channels[k], c.depth);
    }
    const int64_t d = c.depth;
    conv_bn(s, "decoder.conv1", 3 * d, d, 3, 3);
    for (const char* name : {"decoder.conv2", "decoder.conv3", "decoder.conv4"}) {
        conv_bn(s, name, d, d, 3, 3);
    }
    conv_bn(s, "decoder.conv5", d, 1, 3, 3, /*bn=*/false);
    self_attention_specs(s, "decoder.Hattn", d);
    self_attention_specs(s, "decoder.Wattn", d);
    sica_specs(s, "attention0", d, d, true);
    sica_specs(s, "attention1", 2 * d, d, true);
    sica_specs(s, "attention2", 2 * d, d, false);
    return s;
}

Result<InSPyReNetConfig> infer_inspyrenet_config(const std::map<std::string, at::Tensor>& tensors,
                                                 const std::string& file_label) {
    if (!tensors.count("decoder.conv1.conv.weight") ||
        !tensors.count("attention0.conv_out4.conv.weight")) {
        return make_error(ErrorKind::Mismatch, file_label + ": " + describe_foreign(tensors));
    }
    const runtime::Weights w(tensors, file_label);
    InSPyReNetConfig config;
    try {
        if (w.has("backbone.patch_embed.proj.weight")) {
            config.backbone = Backbone::SwinB;
            config.swin = runtime::infer_swin_v1_config(w, "backbone.");
            config.swin.shift_mask_value = -100.0;  // the detection code InSPyReNet copies
            config.mode = named_fast(file_label) ? "fast" : "base";
            config.base_size = config.mode == "fast" ? 384 : 1024;
        } else if (w.has("backbone.conv1.0.weight")) {
            config.backbone = Backbone::Res2Net50;
            config.res2net = runtime::infer_res2net_config(w, "backbone.");
            config.base_size = 384;
        } else {
            w.fail(
                "has InSPyReNet's decoder but neither a Swin backbone "
                "(backbone.patch_embed.proj.weight) nor a Res2Net one "
                "(backbone.conv1.0.weight)");
        }
        for (int k = 0; k < 5; ++k) {
            const std::string key = "context" + std::to_string(k + 1) + ".branch0.conv.weight";
            config.in_channels[k] = w.get(key).size(1);
        }
        config.depth = w.get("decoder.conv1.conv.weight").size(0);
        // Every key and shape as the inferred layout has them: a misshaped tensor is named here.
        for (const auto& [key, spec] : inspyrenet_tensor_specs(config)) {
            if (!spec.integer) w.get(key, spec.shape);
        }
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    const bool swin = config.backbone == Backbone::SwinB;
    const InSPyReNetConfig official =
        official_inspyrenet_config(swin ? "inspyrenet_swinb" : "inspyrenet_res2net50");
    config.arch = same_layout(config, official) ? official.arch : "inspyrenet_custom";
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) config.parameter_count += tensor.numel();
    }
    config.dtype =
        runtime::floating_dtype_name(tensors.at("decoder.conv1.conv.weight").scalar_type());
    return config;
}

}  // namespace ps::inspyrenet
