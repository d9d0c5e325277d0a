// `photosynth-cli segment`: one image, a prompts file, masks and result.json into a folder.
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

#include <iostream>
#include <optional>

#include "cli_args.h"
#include "commands.h"
#include "config_json.h"
#include "engine/engine.h"
#include "io/atomic_file.h"
#include "io/image_writer.h"
#include "io/staged_folder.h"
#include "models/sam/prompt_file.h"
#include "models/sam/sam_model.h"
#include "output_checks.h"

namespace ps::cli {

const char kSegmentUsage[] =
    "usage: photosynth-cli segment --model CKPT --image IMG --prompts PROMPTS.json --out DIR "
    "[--device cpu|cuda|auto] [--precision fp32|fp16|bf16] [--metrics FILE.json] "
    "[--mobile-sam-attention-biases]";

template <typename T>
T wait_for(QFuture<T> future) {
    future.waitForFinished();
    return future.result();
}

int run_segment(const std::vector<std::string>& argv) {
    auto args =
        parse_args(argv, {"model", "image", "prompts", "out", "device", "precision", "metrics"},
                   {"mobile-sam-attention-biases"});
    if (!args) return fail(args.message() + " (" + kSegmentUsage + ")", 2);
    if (auto ok = require(*args, "segment", {"model", "image", "prompts", "out"}); !ok) {
        return fail(ok.message() + " (" + kSegmentUsage + ")", 2);
    }
    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    settings.downscale_max = 0;  // masks at the original size: no interactive working copy
    sam::SamOptions options{settings.device, settings.precision};
    if (auto ok = read_device_options(*args, options.device, options.precision); !ok) {
        return fail(ok.message(), 2);
    }
    options.tiny_vit_attention_biases = args->flags.count("mobile-sam-attention-biases") > 0;

    // Validate the cheap inputs before the expensive steps, so a typo costs nothing.
    auto prompts = sam::read_prompts_file(args->get("prompts"));
    if (!prompts) return fail(prompts.message());
    if (args->has("metrics"))
        if (auto ok = check_output_file("metrics", args->get("metrics")); !ok)
            return fail(ok.message());
    // All or nothing: the masks and result.json are staged beside --out and moved there at the
    // end, so a failure leaves no new folder and no masks without their result.json.
    auto staged_out = io::StagedFolder::begin(args->get("out"));
    if (!staged_out) return fail(staged_out.message());
    const QString out_dir = QString::fromStdString(staged_out->path());

    engine::Engine engine(settings);
    auto image = wait_for(engine.open_image(args->get("image")));
    if (!image) return fail(image.message());
    // Every prompt against the image before the encode, so none fails after earlier PNGs exist.
    for (size_t k = 0; k < prompts->size(); ++k) {
        if (auto ok = runtime::check_prompt((*prompts)[k].prompt, image->width, image->height); !ok)
            return fail(args->get("prompts") + ": prompt " + std::to_string(k) + ": " +
                        ok.message());
    }
    auto model = wait_for(engine.load_model(args->get("model"), options));
    if (!model) return fail(model.message());
    // A fallback reason was already logged on stderr by the engine; result.json repeats it.
    auto encoded = wait_for(engine.encode(image->id, model->id));
    if (!encoded) return fail(encoded.message());

    QJsonArray prompt_results;
    std::vector<sam::SamMaskSet> results;
    for (size_t k = 0; k < prompts->size(); ++k) {
        sam::SamPrompt prompt = (*prompts)[k].prompt;
        if (const auto refine = (*prompts)[k].refine) {
            const sam::SamMaskSet& earlier = results[static_cast<size_t>(*refine)];
            prompt.mask_input = earlier.low_res_logits[earlier.best_index];
        }
        // One channel per prompt: these are not interactive edits to coalesce.
        auto masks = wait_for(engine.decode(image->id, model->id, prompt, static_cast<int>(k)));
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
    const engine::MetricsSnapshot metrics = engine.metrics().snapshot();
    const QJsonObject result{
        {"model", model->family == "sam2" ? to_json(engine.sam2_model_config(model->id).value())
                                          : to_json(engine.model_config(model->id).value())},
        {"checkpoint", QString::fromStdString(args->get("model"))},
        {"device", QString::fromStdString(model->device)},
        {"requested_device", args->get("device", "auto").c_str()},
        {"fallback_reason", model->fallback_reason.empty()
                                ? QJsonValue()
                                : QJsonValue(QString::fromStdString(model->fallback_reason))},
        {"precision", QString::fromStdString(model->precision)},
        {"load_ms", model->load_ms},
        {"encode_ms", encoded->encode_ms},
        {"preprocess_ms", metrics.stage(engine::Stage::Preprocess).last_ms},
        {"image", QJsonObject{{"path", QString::fromStdString(args->get("image"))},
                              {"width", image->width},
                              {"height", image->height}}},
        {"prompts", prompt_results}};
    if (auto ok = io::atomic_write((out_dir + "/result.json").toStdString(),
                                   QJsonDocument(result).toJson().toStdString());
        !ok) {
        return fail(ok.message());
    }
    // --metrics is written beside its target now and renamed into place after the masks: a
    // failure of either leaves neither.
    std::optional<io::AtomicFile> metrics_file;
    if (args->has("metrics")) {
        auto file = io::AtomicFile::create(args->get("metrics"));
        if (!file) return fail(file.message());
        if (auto ok = file->write(engine.metrics().to_json(metrics)); !ok)
            return fail(ok.message());
        metrics_file = std::move(file.value());
    }
    if (auto ok = staged_out->commit(); !ok) return fail(ok.message());
    if (metrics_file)
        if (auto ok = metrics_file->commit(); !ok)
            return fail(ok.message() + " (the masks are in " + args->get("out") + ")");
    std::cout << "wrote " << results.size() << " prompt result(s) to " << args->get("out")
              << " (encode " << encoded->encode_ms << " ms on " << model->device << ")\n";
    return 0;
}

}  // namespace ps::cli
