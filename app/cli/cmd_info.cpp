// `photosynth-cli info CHECKPOINT [--json]`: what a checkpoint is, without building the model.
#include <QJsonDocument>

#include <filesystem>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "config_json.h"
#include "io/checkpoint.h"
#include "models/birefnet/birefnet_config.h"
#include "models/inspyrenet/inspyrenet_config.h"
#include "models/isnet/isnet_config.h"
#include "models/sam2/sam2_config.h"
#include "models/u2net/u2net_config.h"

namespace ps::cli {

const char kInfoUsage[] = "usage: photosynth-cli info CHECKPOINT [--json]";

namespace {

const char* format_name(io::CheckpointFormat format) {
    return format == io::CheckpointFormat::TorchZip ? "torch zip" : "safetensors";
}

// The family's name as its paper gives it, and the command that runs it.
std::string u2net_summary(const u2net::U2NetConfig& config) {
    const std::string name = config.arch == "u2net"    ? "U²-Net"
                             : config.arch == "u2netp" ? "U²-NetP"
                                                       : "U²-Net (custom widths)";
    return name + ": salient-object matte for background removal (remove-bg)";
}

std::string isnet_summary(const isnet::IsNetConfig& config) {
    return std::string(config.arch == "isnet" ? "ISNet (DIS, isnet-general-use)"
                                              : "ISNet (custom widths)") +
           ": dichotomous image segmentation matte for background removal (remove-bg)";
}

// transparent-background's ckpt_base.pth and ckpt_fast.pth share one layout: the mode (and the
// input size) comes from the file name.
std::string inspyrenet_summary(const inspyrenet::InSPyReNetConfig& config) {
    std::string name = config.arch == "inspyrenet_custom"
                           ? "InSPyReNet (custom widths, " + config.backbone_name() + ")"
                           : "InSPyReNet " + config.backbone_name();
    if (config.backbone == inspyrenet::Backbone::SwinB) {
        name += ", transparent-background \"" + config.mode + "\" mode (" +
                std::to_string(config.base_size) +
                "; base and fast checkpoints have identical layouts, the mode is read off the "
                "file name: \"fast\" in it means 384, otherwise 1024)";
    }
    return name + ": salient-object matte for background removal (remove-bg)";
}

// The published BiRefNet files of one backbone share their shapes: which one a file is can only
// be told by its input size, read off the file name.
std::string birefnet_summary(const birefnet::BiRefNetConfig& config) {
    const std::string name = config.arch == "birefnet"        ? "BiRefNet (Swin-L)"
                             : config.arch == "birefnet_lite" ? "BiRefNet_lite (Swin-T)"
                                                              : "BiRefNet (custom widths)";
    return name + ": dichotomous image segmentation matte for background removal (remove-bg)\n" +
           "layout: " + config.variants() + "; input " +
           (config.dynamic_input
                ? std::string("the image's own size rounded down to multiples "
                              "of 32 (BiRefNet_dynamic)")
                : std::to_string(config.input_width) + "x" + std::to_string(config.input_height)) +
           " from " + config.input_size_source;
}

// The published SAM 2.1 variants by name; an unpublished layout says what it lacks.
std::string sam2_summary(const sam2::Sam2Config& config) {
    const std::string name = config.arch == "sam2.1_hiera_t"    ? "SAM 2.1 Hiera-T (tiny)"
                             : config.arch == "sam2.1_hiera_s"  ? "SAM 2.1 Hiera-S (small)"
                             : config.arch == "sam2.1_hiera_b+" ? "SAM 2.1 Hiera-B+ (base plus)"
                             : config.arch == "sam2.1_hiera_l"  ? "SAM 2.1 Hiera-L (large)"
                                                                : "SAM 2.1 (unpublished layout: "
                                                                  "windows, global blocks and heads "
                                                                  "are Hiera's defaults)";
    return name + ": promptable segmentation (points, box, mask input); image path";
}

int print(const std::string& path, const io::Checkpoint& checkpoint, QJsonObject json,
          const std::string& text, bool as_json) {
    if (as_json) {
        json["file"] = QString::fromStdString(path);
        json["format"] = format_name(checkpoint.format);
        json["tensors"] = static_cast<qint64>(checkpoint.tensors.size());
        std::cout << QJsonDocument(json).toJson().toStdString();
    } else {
        std::cout << std::filesystem::path(path).filename().string() << " ("
                  << format_name(checkpoint.format) << ", " << checkpoint.tensors.size()
                  << " tensors)\n"
                  << text;
    }
    return 0;
}

}  // namespace

int run_info(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {}, {"json"}, 1);
    if (!args) return fail(args.message() + " (" + kInfoUsage + ")", 2);
    if (args->positional.size() != 1) return fail(kInfoUsage, 2);
    const std::string path = args->positional[0];
    const bool as_json = args->flags.count("json") > 0;
    // Shapes and dtypes only: info must not read a multi-GB file in full.
    auto checkpoint = io::load_checkpoint(path, io::TensorStorage::MappedForInspection);
    if (!checkpoint) return fail(checkpoint.message());
    const std::string label = std::filesystem::path(path).filename().string();

    auto sam_config = sam::infer_sam_config(checkpoint->tensors, label);
    if (sam_config) {
        const bool vit = sam_config->encoder == sam::EncoderKind::ViT;
        return print(path, *checkpoint, to_json(*sam_config),
                     std::string("family: ") + (vit ? "sam" : "mobile_sam") + "\n" +
                         sam_config->describe() + "\n",
                     as_json);
    }
    auto sam2_config = sam2::infer_sam2_config(checkpoint->tensors, label);
    if (sam2_config) {
        return print(
            path, *checkpoint, to_json(*sam2_config),
            "family: sam2\n" + sam2_summary(*sam2_config) + "\n" + sam2_config->describe() + "\n",
            as_json);
    }
    auto u2net_config = u2net::infer_u2net_config(checkpoint->tensors, label);
    if (u2net_config) {
        return print(path, *checkpoint, to_json(*u2net_config),
                     "family: u2net\n" + u2net_summary(*u2net_config) + "\n" +
                         u2net_config->describe() + "\n",
                     as_json);
    }
    auto isnet_config = isnet::infer_isnet_config(checkpoint->tensors, label);
    if (isnet_config) {
        return print(path, *checkpoint, to_json(*isnet_config),
                     "family: isnet\n" + isnet_summary(*isnet_config) + "\n" +
                         isnet_config->describe() + "\n",
                     as_json);
    }
    auto inspyrenet_config = inspyrenet::infer_inspyrenet_config(checkpoint->tensors, label);
    if (inspyrenet_config) {
        return print(path, *checkpoint, to_json(*inspyrenet_config),
                     "family: inspyrenet\n" + inspyrenet_summary(*inspyrenet_config) + "\n" +
                         inspyrenet_config->describe() + "\n",
                     as_json);
    }
    auto birefnet_config = birefnet::infer_birefnet_config(checkpoint->tensors, label);
    if (birefnet_config) {
        return print(path, *checkpoint, to_json(*birefnet_config),
                     "family: birefnet\n" + birefnet_summary(*birefnet_config) + "\n" +
                         birefnet_config->describe() + "\n",
                     as_json);
    }
    if (birefnet::looks_like_birefnet(checkpoint->tensors)) return fail(birefnet_config.message());
    // Each inference names the other families when it sees them; past a family's first key, its
    // own error (a missing or odd tensor) is the one that helps.
    if (checkpoint->tensors.count("conv_in.weight")) return fail(isnet_config.message());
    if (checkpoint->tensors.count("image_encoder.trunk.patch_embed.proj.weight"))
        return fail(sam2_config.message());
    if (checkpoint->tensors.count("decoder.conv1.conv.weight"))
        return fail(inspyrenet_config.message());
    const bool u2net_keys = checkpoint->tensors.count("stage1.rebnconvin.conv_s1.weight") > 0;
    return fail(u2net_keys
                    ? u2net_config.message()
                    : sam_config.message() +
                          "; not U²-Net or ISNet either (no stage1.rebnconvin.conv_s1.weight)");
}

}  // namespace ps::cli
