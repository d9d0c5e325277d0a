// Reads BiRefNet's widths off tensor shapes; the one place where its configuration is inferred.
#include "models/birefnet/birefnet_config.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"

namespace ps::birefnet {
namespace {

const char* const kPatchEmbed = "bb.patch_embed.proj.weight";

std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (runtime::has_key_prefix(tensors, "image_encoder.") ||
        runtime::has_key_prefix(tensors, "mask_decoder.")) {
        return "looks like a Segment Anything checkpoint (image_encoder.*, mask_decoder.*), not "
               "BiRefNet; use it with `segment`";
    }
    if (runtime::has_key_prefix(tensors, "outconv.")) {
        return "looks like a U²-Net checkpoint (outconv.*), not BiRefNet";
    }
    if (runtime::has_key_prefix(tensors, "conv_in.") &&
        runtime::has_key_prefix(tensors, "side1.")) {
        return "looks like an ISNet checkpoint (conv_in.*, side1.*), not BiRefNet";
    }
    if (runtime::has_key_prefix(tensors, "bb.") && !tensors.count(kPatchEmbed)) {
        return "has a BiRefNet-style bb.* but no Swin-V1 patch embedding (" +
               std::string(kPatchEmbed) +
               "): only the Swin-V1 backbones (swin_v1_t/s/b/l) are supported, not VGG, ResNet, "
               "PVT-v2 or DINOv3";
    }
    return "is not a BiRefNet checkpoint: no " + std::string(kPatchEmbed) + " among its " +
           std::to_string(tensors.size()) + " tensors (first: " + tensors.begin()->first + ")";
}

bool contains(std::string text, std::string what) {
    const auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        return s;
    };
    return lower(std::move(text)).find(lower(std::move(what))) != std::string::npos;
}

void add_conv(runtime::TensorSpecs& s, const std::string& p, int64_t out, int64_t in, int64_t k,
              bool bias = true) {
    s[p + ".weight"] = {{out, in, k, k}};
    if (bias) s[p + ".bias"] = {{out}};
}

void add_batch_norm(runtime::TensorSpecs& s, const std::string& p, int64_t n) {
    for (const char* name : {".weight", ".bias", ".running_mean", ".running_var"})
        s[p + name] = {{n}};
    s[p + ".num_batches_tracked"] = {{}, true};
}

// _ASPPModuleDeformable: DeformableConv2d (offset_conv, modulator_conv, bias-free regular_conv)
// then BatchNorm.
void add_deformable(runtime::TensorSpecs& s, const std::string& p, int64_t in, int64_t out,
                    int64_t k) {
    add_conv(s, p + ".atrous_conv.offset_conv", 2 * k * k, in, k);
    add_conv(s, p + ".atrous_conv.modulator_conv", k * k, in, k);
    add_conv(s, p + ".atrous_conv.regular_conv", out, in, k, false);
    add_batch_norm(s, p + ".bn", out);
}

// BasicDecBlk with ASPPDeformable (parallel_block_sizes 1, 3, 7).
void add_dec_block(runtime::TensorSpecs& s, const std::string& p, const BiRefNetConfig& c,
                   int64_t in, int64_t out) {
    const int64_t inter = c.dec_inter, aspp = c.aspp_channels;
    add_conv(s, p + ".conv_in", inter, in, 3);
    add_batch_norm(s, p + ".bn_in", inter);
    add_deformable(s, p + ".dec_att.aspp1", inter, aspp, 1);
    const int64_t sizes[3] = {1, 3, 7};
    for (int i = 0; i < 3; ++i) {
        add_deformable(s, p + ".dec_att.aspp_deforms." + std::to_string(i), inter, aspp, sizes[i]);
    }
    add_conv(s, p + ".dec_att.global_avg_pool.1", aspp, inter, 1, false);
    add_batch_norm(s, p + ".dec_att.global_avg_pool.2", aspp);
    add_conv(s, p + ".dec_att.conv1", inter, 5 * aspp, 1, false);
    add_batch_norm(s, p + ".dec_att.bn1", inter);
    add_conv(s, p + ".conv_out", out, inter, 3);
    add_batch_norm(s, p + ".bn_out", out);
}

}  // namespace

std::string BiRefNetConfig::describe() const {
    std::ostringstream out;
    out << arch << ": Swin-V1 " << (backbone_name.empty() ? "custom" : backbone_name) << " ("
        << backbone.describe() << "), lateral " << channels[0] << "/" << channels[1] << "/"
        << channels[2] << "/" << channels[3] << ", decoder " << dec_inter << " / ASPP "
        << aspp_channels << "; input "
        << (dynamic_input ? std::string("the image's size, multiples of 32")
                          : std::to_string(input_width) + "x" + std::to_string(input_height))
        << " (" << input_size_source << "); " << parameter_count << " parameters (" << dtype << ")";
    return out.str();
}

std::string BiRefNetConfig::variants() const {
    if (arch == "birefnet") {
        return "BiRefNet, BiRefNet_HR, BiRefNet_dynamic and the other Swin-L checkpoints "
               "(identical shapes; the input size tells them apart)";
    }
    if (arch == "birefnet_lite") {
        return "BiRefNet_lite and BiRefNet_lite-2K (identical shapes; the input size tells them "
               "apart)";
    }
    return "custom widths, no published checkpoint";
}

std::map<std::string, at::Tensor> strip_wrapper_prefixes(
    const std::map<std::string, at::Tensor>& tensors) {
    std::map<std::string, at::Tensor> out;
    for (const auto& [key, tensor] : tensors) {
        size_t start = 0;
        for (const std::string prefix : {"module.", "_orig_mod."}) {
            if (key.compare(start, prefix.size(), prefix) == 0) start += prefix.size();
        }
        out[key.substr(start)] = tensor;
    }
    return out;
}

bool looks_like_birefnet(const std::map<std::string, at::Tensor>& file_tensors) {
    const std::map<std::string, at::Tensor> tensors = strip_wrapper_prefixes(file_tensors);
    return tensors.count(kPatchEmbed) > 0 || tensors.count("decoder.conv_out1.0.weight") > 0;
}

BiRefNetConfig official_birefnet_config(const std::string& variant) {
    BiRefNetConfig c;
    const bool lite = variant == "birefnet_lite" || variant == "birefnet_lite_2k";
    if (!lite && variant != "birefnet" && variant != "birefnet_hr" &&
        variant != "birefnet_dynamic") {
        throw std::invalid_argument("unknown BiRefNet variant " + variant);
    }
    c.arch = lite ? "birefnet_lite" : "birefnet";
    c.backbone_name = lite ? "swin_v1_t" : "swin_v1_l";
    c.backbone = runtime::official_swin_v1_config(c.backbone_name);
    for (int i = 0; i < 4; ++i) c.channels[i] = 2 * c.backbone.stage_dim(3 - i);
    if (variant == "birefnet_hr") c.input_width = c.input_height = 2048;
    if (variant == "birefnet_lite_2k") c.input_width = 2560, c.input_height = 1440;
    c.dynamic_input = variant == "birefnet_dynamic";
    c.input_size_source = "config.size of " + variant;
    return c;
}

runtime::TensorSpecs birefnet_tensor_specs(const BiRefNetConfig& c) {
    runtime::TensorSpecs s;
    runtime::add_swin_v1_specs(s, "bb.", c.backbone);
    add_dec_block(s, "squeeze_module.0", c, c.squeeze_in(), c.channels[0]);
    for (int i = 0; i < 5; ++i) {
        const std::string p = "decoder.ipt_blk" + std::to_string(5 - i);
        add_conv(s, p + ".conv1", c.ipt_inter, BiRefNetConfig::ipt_in[i], 3);
        add_conv(s, p + ".conv_out", c.ipt_out(std::max(0, i - 1)), c.ipt_inter, 3);
    }
    for (int i = 0; i < 4; ++i) {
        const std::string k = std::to_string(4 - i);
        add_dec_block(s, "decoder.decoder_block" + k, c, c.dec_in(i), c.dec_out(i));
    }
    add_conv(s, "decoder.conv_out1.0", 1, c.dec_out(3) + c.ipt_out(3), 1);
    for (int i = 0; i < 3; ++i) {
        const std::string k = std::to_string(4 - i);
        add_conv(s, "decoder.lateral_block" + k + ".conv", c.dec_out(i), c.channels[i + 1], 1);
        add_conv(s, "decoder.conv_ms_spvn_" + k, 1, c.dec_out(i), 1);
        add_conv(s, "decoder.gdt_convs_" + k + ".0", c.gdt_channels, c.dec_out(i), 3);
        add_batch_norm(s, "decoder.gdt_convs_" + k + ".1", c.gdt_channels);
        add_conv(s, "decoder.gdt_convs_pred_" + k + ".0", 1, c.gdt_channels, 1);
        add_conv(s, "decoder.gdt_convs_attn_" + k + ".0", 1, c.gdt_channels, 1);
    }
    return s;
}

Result<BiRefNetConfig> infer_birefnet_config(const std::map<std::string, at::Tensor>& file_tensors,
                                             const std::string& file_label) {
    const std::map<std::string, at::Tensor> tensors = strip_wrapper_prefixes(file_tensors);
    if (!tensors.count(kPatchEmbed) || !tensors.count("decoder.conv_out1.0.weight")) {
        return make_error(ErrorKind::Mismatch, file_label + ": " + describe_foreign(tensors));
    }
    const runtime::Weights w(tensors, file_label);
    BiRefNetConfig c;
    try {
        c.backbone = runtime::infer_swin_v1_config(w, "bb.");
        if (c.backbone.stages() != 4) {
            w.fail("has " + std::to_string(c.backbone.stages()) +
                   " Swin stages (bb.layers.*), BiRefNet's decoder takes 4");
        }
        for (int i = 0; i < 4; ++i) c.channels[i] = 2 * c.backbone.stage_dim(3 - i);
        const at::Tensor& dec_in = w.get("decoder.decoder_block4.conv_in.weight");
        c.dec_inter = dec_in.size(0);
        c.aspp_channels =
            w.get("decoder.decoder_block4.dec_att.aspp1.atrous_conv.regular_conv.weight").size(0);
        c.ipt_inter = w.get("decoder.ipt_blk5.conv1.weight").size(0);
        c.gdt_channels = w.get("decoder.gdt_convs_4.0.weight").size(0);
        const at::Tensor& squeeze = w.get("squeeze_module.0.conv_in.weight");
        if (squeeze.dim() != 4 || squeeze.size(1) != c.squeeze_in()) {
            w.fail("tensor squeeze_module.0.conv_in.weight has shape " +
                   runtime::shape_string(squeeze.sizes()) + ", expected [" +
                   std::to_string(c.dec_inter) + ", " + std::to_string(c.squeeze_in()) +
                   ", 3, 3]: only the published configuration (mul_scl_ipt 'cat', cxt 3) is "
                   "supported");
        }
        // Every other tensor of the published layout, with its shape.
        for (const auto& [key, spec] : birefnet_tensor_specs(c)) {
            if (!spec.integer) w.get(key, spec.shape);
        }
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    c.backbone_name = runtime::swin_v1_name(c.backbone);
    const bool published =
        c.dec_inter == 64 && c.aspp_channels == 256 && c.ipt_inter == 64 && c.gdt_channels == 16;
    if (published && c.backbone_name == "swin_v1_l")
        c.arch = "birefnet";
    else if (published && c.backbone_name == "swin_v1_t")
        c.arch = "birefnet_lite";
    else
        c.arch = "birefnet_custom";
    // The published files of one backbone have identical shapes; their file names say which
    // resolution they were trained for (BiRefNet_HR-*, BiRefNet_lite-2K-*).
    if (contains(file_label, "_hr")) {
        c.input_width = c.input_height = 2048;
        c.input_size_source = "\"_HR\" in the file name";
    } else if (contains(file_label, "2k")) {
        c.input_width = 2560, c.input_height = 1440;
        c.input_size_source = "\"2K\" in the file name";
    } else if (contains(file_label, "dynamic")) {
        c.dynamic_input = true;
        c.input_size_source = "\"dynamic\" in the file name";
    }
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) c.parameter_count += tensor.numel();
    }
    c.dtype = runtime::floating_dtype_name(tensors.at(kPatchEmbed).scalar_type());
    return c;
}

}  // namespace ps::birefnet
