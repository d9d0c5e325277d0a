// `photosynth-cli segment`: one image, a prompts file, masks and result.json into a folder.
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "config_json.h"
#include "io/image_reader.h"
#include "models/sam/prompt_file.h"
#include "models/sam/sam_model.h"

namespace ps::cli {
namespace {

const char* const kUsage =
    "usage: photosynth-cli segment --model CKPT --image IMG --prompts PROMPTS.json --out DIR "
    "[--device cpu|cuda|auto] [--precision fp32|fp16|bf16] [--mobile-sam-attention-biases]";

Status write_text_atomically(const QString& path, const QByteArray& bytes) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        return make_error(ErrorKind::Io,
                          path.toStdString() + ": cannot write: " + file.errorString().toStdString());
    }
    return Ok{};
}

}  // namespace

int run_segment(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"model", "image", "prompts", "out", "device", "precision"},
                           {"mobile-sam-attention-biases"});
    if (!args) return fail(args.message() + " (" + kUsage + ")", 2);
    if (auto ok = require(*args, "segment", {"model", "image", "prompts", "out"}); !ok) {
        return fail(ok.message() + " (" + kUsage + ")", 2);
    }
    sam::SamOptions options;
    auto device = sam::parse_device(args->get("device", "auto"));
    if (!device) return fail(device.message(), 2);
    auto precision = sam::parse_precision(args->get("precision", "fp32"));
    if (!precision) return fail(precision.message(), 2);
    options.device = *device;
    options.precision = *precision;
    options.tiny_vit_attention_biases = args->flags.count("mobile-sam-attention-biases") > 0;

    // Validate every input before the expensive steps, so a typo costs nothing.
    auto prompts = sam::read_prompts_file(args->get("prompts"));
    if (!prompts) return fail(prompts.message());
    auto image = io::read_rgb_image(args->get("image"));
    if (!image) return fail(image.message());
    const QString out_dir = QString::fromStdString(args->get("out"));
    if (!QDir().mkpath(out_dir)) return fail(args->get("out") + ": cannot create the folder");
    auto model = sam::SamModel::load(args->get("model"), options);
    if (!model) return fail(model.message());

    auto embedding = (*model)->encode(*image);
    if (!embedding) return fail(embedding.message());

    QJsonArray prompt_results;
    std::vector<sam::SamMaskSet> results;
    for (size_t k = 0; k < prompts->size(); ++k) {
        sam::SamPrompt prompt = (*prompts)[k].prompt;
        if (const auto refine = (*prompts)[k].refine) {
            const sam::SamMaskSet& earlier = results[static_cast<size_t>(*refine)];
            prompt.mask_input = earlier.low_res_logits[earlier.best_index];
        }
        auto masks = (*model)->decode(**embedding, prompt);
        if (!masks) return fail(masks.message());
        QJsonArray names, ious;
        for (size_t i = 0; i < masks->masks.size(); ++i) {
            const QString name = QString("prompt%1_mask%2.png").arg(k).arg(i);
            if (auto ok = io::write_png((out_dir + "/" + name).toStdString(), masks->masks[i]);
                !ok) {
                return fail(ok.message());
            }
            names.append(name);
            ious.append(static_cast<double>(masks->iou[i]));
        }
        prompt_results.append(QJsonObject{{"iou", ious},
                                          {"masks", names},
                                          {"best", masks->best_index},
                                          {"decode_ms", masks->decode_ms},
                                          {"postprocess_ms", masks->postprocess_ms}});
        results.push_back(std::move(masks.value()));
    }
    const QJsonObject result{
        {"model", to_json((*model)->config())},
        {"checkpoint", QString::fromStdString(args->get("model"))},
        {"device", QString::fromStdString((*model)->device_name())},
        {"precision", QString::fromStdString(sam::to_string((*model)->precision()))},
        {"load_ms", (*model)->load_ms()},
        {"encode_ms", (*model)->last_encode_ms()},
        {"image", QJsonObject{{"path", QString::fromStdString(args->get("image"))},
                              {"width", image->cols},
                              {"height", image->rows}}},
        {"prompts", prompt_results}};
    if (auto ok = write_text_atomically(out_dir + "/result.json", QJsonDocument(result).toJson());
        !ok) {
        return fail(ok.message());
    }
    std::cout << "wrote " << results.size() << " prompt result(s) to " << args->get("out")
              << " (encode " << (*model)->last_encode_ms() << " ms on " << (*model)->device_name()
              << ")\n";
    return 0;
}

}  // namespace ps::cli
