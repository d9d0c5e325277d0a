// `photosynth-cli info CHECKPOINT [--json]`: what a checkpoint is, without building the model.
#include <QJsonDocument>

#include <filesystem>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "config_json.h"
#include "io/checkpoint.h"

namespace ps::cli {

int run_info(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {}, {"json"});
    if (!args) return fail(args.message(), 2);
    if (args->positional.size() != 1) return fail("usage: photosynth-cli info CHECKPOINT [--json]", 2);
    const std::string path = args->positional[0];
    auto checkpoint = io::load_checkpoint(path);
    if (!checkpoint) return fail(checkpoint.message());
    const std::string label = std::filesystem::path(path).filename().string();
    auto config = sam::infer_sam_config(checkpoint->tensors, label);
    if (!config) return fail(config.message());
    const char* format =
        checkpoint->format == io::CheckpointFormat::TorchZip ? "torch zip" : "safetensors";
    if (args->flags.count("json")) {
        QJsonObject out = to_json(*config);
        out["file"] = QString::fromStdString(path);
        out["format"] = format;
        out["tensors"] = static_cast<qint64>(checkpoint->tensors.size());
        std::cout << QJsonDocument(out).toJson().toStdString();
    } else {
        std::cout << label << " (" << format << ", " << checkpoint->tensors.size()
                  << " tensors)\n"
                  << "family: " << (config->encoder == sam::EncoderKind::ViT ? "sam" : "mobile_sam")
                  << "\n"
                  << config->describe() << "\n";
    }
    return 0;
}

}  // namespace ps::cli
