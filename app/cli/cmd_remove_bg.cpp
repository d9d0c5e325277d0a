// `photosynth-cli remove-bg`: one image through U²-Net, an RGBA cut-out and optionally the matte.
#include <QDir>
#include <QFileInfo>

#include <iostream>
#include <mutex>

#include "batch_runner.h"
#include "cli_args.h"
#include "commands.h"
#include "engine/engine_settings.h"
#include "image/mask_export.h"
#include "io/image_writer.h"
#include "io/image_reader.h"
#include "models/u2net/u2net_model.h"
#include "output_checks.h"

namespace ps::cli {

const char kRemoveBgUsage[] =
    "usage: photosynth-cli remove-bg --model CKPT --image IMG --out OUT.png [--matte MATTE.png] "
    "[--device cpu|cuda|auto] [--precision fp32|fp16|bf16] | --input-dir DIR --output-dir DIR "
    "[--matte-dir DIR] [--jobs N] [--overwrite]";

namespace {

// Folder mode: one model, shared by the batch workers one at a time (a model instance is never
// run by two threads at once); decoding and writing run in parallel.
int run_remove_bg_folder(const Args& args, const u2net::U2NetOptions& options) {
    BatchOptions batch;
    batch.command = "remove-bg";
    batch.overwrite = args.flags.count("overwrite") > 0;
    if (args.has("jobs")) {
        auto jobs = parse_jobs(args.get("jobs"));
        if (!jobs) return fail(jobs.message(), 2);
        batch.jobs = *jobs;
    }
    // The folders before the model: a typo in one costs no load.
    if (!QFileInfo(QString::fromStdString(args.get("input-dir"))).isDir())
        return fail(args.get("input-dir") + ": no such folder");
    if (auto ok = check_output_folder("output-dir", args.get("output-dir")); !ok)
        return fail(ok.message());
    if (args.has("matte-dir"))
        if (auto ok = check_output_folder("matte-dir", args.get("matte-dir")); !ok)
            return fail(ok.message());
    auto model = u2net::U2NetModel::load(args.get("model"), options);
    if (!model) return fail(model.message());
    std::mutex model_mutex;
    const QString matte_dir = QString::fromStdString(args.get("matte-dir"));
    if (!matte_dir.isEmpty() && !QDir().mkpath(matte_dir)) {
        return fail(args.get("matte-dir") + ": cannot create the folder");
    }
    return run_batch(
        QString::fromStdString(args.get("input-dir")),
        QString::fromStdString(args.get("output-dir")), batch,
        [&](const QString& in, const QString& out) -> Status {
            auto rgb =
                io::read_rgb_image(in.toStdString(), io::ImageReadOptions::from_environment());
            if (!rgb) return rgb.error();
            Result<u2net::U2NetOutput> result = [&] {
                std::lock_guard<std::mutex> lock(model_mutex);
                return (*model)->run(*rgb);
            }();
            if (!result) return result.error();
            if (!matte_dir.isEmpty()) {
                const QString matte = matte_dir + "/" + QFileInfo(out).fileName();
                if (auto ok = io::write_png(matte.toStdString(), result->matte); !ok) return ok;
            }
            return io::write_rgba_png(out.toStdString(), image::cutout_rgba(*rgb, result->matte));
        });
}

}  // namespace

int run_remove_bg(const std::vector<std::string>& argv) {
    auto args = parse_args(argv,
                           {"model", "image", "out", "matte", "device", "precision", "input-dir",
                            "output-dir", "matte-dir", "jobs"},
                           {"overwrite"});
    if (!args) return fail(args.message() + " (" + kRemoveBgUsage + ")", 2);
    const bool folder_mode = args->has("input-dir");
    const std::vector<std::string> required =
        folder_mode ? std::vector<std::string>{"model", "input-dir", "output-dir"}
                    : std::vector<std::string>{"model", "image", "out"};
    if (auto ok = require(*args, "remove-bg", required); !ok) {
        return fail(ok.message() + " (" + kRemoveBgUsage + ")", 2);
    }
    // Same defaults as `segment`: PHOTOSYNTH_DEVICE / PHOTOSYNTH_PRECISION, then the options.
    const engine::EngineSettings settings = engine::EngineSettings::from_environment();
    u2net::U2NetOptions options{settings.device, settings.precision};
    if (auto ok = read_device_options(*args, options.device, options.precision); !ok) {
        return fail(ok.message(), 2);
    }

    if (folder_mode) return run_remove_bg_folder(*args, options);

    if (auto ok = check_output_file("out", args->get("out")); !ok) return fail(ok.message());
    if (args->has("matte"))
        if (auto ok = check_output_file("matte", args->get("matte")); !ok)
            return fail(ok.message());
    // The image first: a typo in its path should not cost a model load.
    auto rgb = io::read_rgb_image(args->get("image"), io::ImageReadOptions::from_environment());
    if (!rgb) return fail(rgb.message());
    auto model = u2net::U2NetModel::load(args->get("model"), options);
    if (!model) return fail(model.message());
    auto result = (*model)->run(*rgb);
    if (!result) return fail(result.message());

    if (auto ok = io::write_rgba_png(args->get("out"), image::cutout_rgba(*rgb, result->matte));
        !ok) {
        return fail(ok.message());
    }
    if (args->has("matte")) {
        if (auto ok = io::write_png(args->get("matte"), result->matte); !ok) {
            return fail(ok.message());
        }
    }
    std::cout << "wrote " << args->get("out") << " (" << (*model)->config().arch << " on "
              << (*model)->device_name() << ": preprocess " << result->preprocess_ms
              << " ms, forward " << result->forward_ms << " ms, postprocess "
              << result->postprocess_ms << " ms)\n";
    return 0;
}

}  // namespace ps::cli
