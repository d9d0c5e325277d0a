// `photosynth-cli effect`: a stylised effect on one image or a whole folder, optionally
// restricted to the object or the background by a matte.
#include <QImage>
#include <QImageReader>

#include <opencv2/core.hpp>

#include <chrono>
#include <cstring>
#include <iostream>

#include "batch_runner.h"
#include "cli_args.h"
#include "commands.h"
#include "image/effects/effect_registry.h"
#include "io/image_reader.h"
#include "io/image_writer.h"

namespace ps::cli {

const char kEffectUsage[] =
    "usage: photosynth-cli effect --name NAME [--param k=v ...] [--mask MASK.png --target "
    "object|background] (--image IMG --out OUT.png | --input-dir DIR --output-dir DIR [--jobs N] "
    "[--overwrite] [--shard I/N | --shards N]); `effect --list` shows the effects and their "
    "parameters";

namespace {

struct EffectJob {
    std::string name;
    image::EffectParams params;
    image::EffectTarget target = image::EffectTarget::All;
    std::string mask_path;  // empty unless target is object or background
    io::ImageReadOptions read_options;
};

bool has_translucency(const QImage& image) {
    for (int y = 0; y < image.height(); ++y) {
        const uchar* row = image.constScanLine(y);
        for (int x = 0; x < image.width(); ++x)
            if (row[x] != 255) return true;
    }
    return false;
}

// The matte as CV_8UC1: a grey mask's values, or the alpha of an image that has a translucent
// alpha channel (so a remove-bg cut-out serves as its own mask). It must match the image's size:
// a stretched mask would silently misplace the edit.
Result<cv::Mat> read_matte(const std::string& path, cv::Size image_size) {
    QImageReader reader(QString::fromStdString(path));
    reader.setAutoTransform(true);
    const QImage decoded = reader.read();
    if (decoded.isNull())
        return make_error(ErrorKind::Io,
                          path + ": cannot read the mask: " + reader.errorString().toStdString());
    QImage matte;
    if (decoded.hasAlphaChannel()) matte = decoded.convertToFormat(QImage::Format_Alpha8);
    if (matte.isNull() || !has_translucency(matte))
        matte = decoded.convertToFormat(QImage::Format_Grayscale8);
    if (matte.width() != image_size.width || matte.height() != image_size.height)
        return make_error(ErrorKind::Mismatch, path + ": the mask is " +
                                                   std::to_string(matte.width()) + "x" +
                                                   std::to_string(matte.height()) + ", the image " +
                                                   std::to_string(image_size.width) + "x" +
                                                   std::to_string(image_size.height));
    cv::Mat out(image_size, CV_8UC1);
    for (int y = 0; y < out.rows; ++y) std::memcpy(out.ptr(y), matte.constScanLine(y), out.cols);
    return out;
}

Status run_one(const EffectJob& job, const QString& input, const QString& output) {
    auto rgb = io::read_rgb_image(input.toStdString(), job.read_options);
    if (!rgb) return rgb.error();
    auto styled = image::apply_effect(job.name, *rgb, job.params);
    if (!styled)
        return make_error(styled.error().kind, input.toStdString() + ": " + styled.message());
    cv::Mat result = *styled;
    if (job.target != image::EffectTarget::All) {
        auto matte = read_matte(job.mask_path, rgb->size());
        if (!matte) return matte.error();
        result = image::apply_with_target(*rgb, result, *matte, job.target);
    }
    return io::write_png(output.toStdString(), result);
}

int usage_error(const std::string& message) {
    return fail(message + " (" + kEffectUsage + ")", 2);
}

}  // namespace

int run_effect(const std::vector<std::string>& argv) {
    auto args = parse_args(argv,
                           with_shard_options({"name", "param", "mask", "target", "image", "out",
                                               "input-dir", "output-dir", "jobs"}),
                           {"overwrite", "list"});
    if (!args) return usage_error(args.message());
    if (args->flags.count("list")) {
        std::cout << image::describe_effects();
        return 0;
    }
    if (auto ok = require(*args, "effect", {"name"}); !ok) return usage_error(ok.message());

    EffectJob job;
    job.name = args->get("name");
    const auto assignments =
        args->options.count("param") ? args->options.at("param") : std::vector<std::string>{};
    auto params = image::parse_effect_params(job.name, assignments);
    if (!params) return usage_error(params.message());
    job.params = std::move(*params);
    auto target = image::parse_effect_target(args->get("target", "all"));
    if (!target) return usage_error("effect: --" + target.message());
    job.target = *target;
    job.mask_path = args->get("mask");
    if (job.target != image::EffectTarget::All && job.mask_path.empty())
        return usage_error("effect: --target " + args->get("target") + " needs --mask");
    if (job.target == image::EffectTarget::All && !job.mask_path.empty())
        return usage_error("effect: --mask needs --target object or --target background");

    const bool folder = args->has("input-dir") || args->has("output-dir");
    if (folder == args->has("image"))
        return usage_error(
            "effect: give either --image and --out, or --input-dir and --output-dir");
    job.read_options = io::ImageReadOptions::from_environment();  // once, not on each thread

    if (!folder) {
        if (auto ok = require(*args, "effect", {"out"}); !ok) return usage_error(ok.message());
        if (args->has("jobs") || args->has("overwrite") || args->has("shard") ||
            args->has("shards"))
            return usage_error("effect: --jobs, --overwrite and --shard belong to folder mode");
        const auto start = std::chrono::steady_clock::now();
        const QString in = QString::fromStdString(args->get("image"));
        const QString out = QString::fromStdString(args->get("out"));
        if (auto ok = run_one(job, in, out); !ok) return fail(ok.message());
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        std::cout << "wrote " << args->get("out") << " (" << job.name << ", " << ms << " ms)\n";
        return 0;
    }

    if (auto ok = require(*args, "effect", {"input-dir", "output-dir"}); !ok)
        return usage_error(ok.message());
    if (!job.mask_path.empty())
        return usage_error(
            "effect: --mask applies to one --image; folder mode has no per-file masks");
    BatchOptions options;
    options.command = "effect";
    options.overwrite = args->flags.count("overwrite") > 0;
    if (args->has("jobs")) {
        auto jobs = parse_jobs(args->get("jobs"));
        if (!jobs) return usage_error("effect: " + jobs.message());
        options.jobs = *jobs;
    }
    auto shard = read_shard_options(*args);
    if (!shard) return usage_error("effect: " + shard.message());
    options.shard = *shard;
    return run_batch(
        QString::fromStdString(args->get("input-dir")),
        QString::fromStdString(args->get("output-dir")), options,
        [&job](const QString& in, const QString& out) { return run_one(job, in, out); });
}

}  // namespace ps::cli
