// `photosynth-cli annotate`: a point file over a folder of images into an annotation project,
// each image encoded once, progress per image, a summary, resumable after an interruption.
#include <QFileInfo>

#include <cstdio>
#include <iostream>

#include "batch/batch_annotator.h"
#include "batch/point_file.h"
#include "batch_runner.h"
#include "cli_args.h"
#include "commands.h"
#include "engine/engine.h"
#include "io/atomic_file.h"
#include "output_checks.h"

namespace ps::cli {

const char kAnnotateUsage[] =
    "usage: photosynth-cli annotate --model CKPT --input-dir DIR --points POINTS.json "
    "--project DIR [--jobs N] [--device cpu|cuda|auto] [--precision fp32|fp16|bf16] "
    "[--metrics FILE.json]";

namespace {

// Images in flight when --jobs is not given: reading the next image and saving this one overlap
// the model's work (which the engine runs one call at a time per device); memory holds two.
constexpr int kDefaultJobs = 2;

// One line per image, so a log (or a test) can follow the run and see where it stopped.
void print_progress(const batch::BatchProgress& progress) {
    std::cerr << "annotate: [" << progress.done << "/" << progress.total << "] " << progress.current
              << ": ";
    switch (progress.outcome) {
        case batch::ImageOutcome::Annotated:
            std::cerr << progress.objects << " object(s), " << static_cast<long>(progress.image_ms)
                      << " ms";
            break;
        case batch::ImageOutcome::Skipped:
            std::cerr << "skipped, " << progress.detail;
            break;
        case batch::ImageOutcome::Failed:
            std::cerr << "FAILED: " << progress.detail;
            break;
    }
    std::cerr << std::endl;
}

void print_summary(const batch::BatchSummary& summary, int jobs) {
    const int total = summary.images_annotated + summary.images_skipped_done +
                      static_cast<int>(summary.failures.size()) + summary.images_not_reached;
    std::fprintf(stderr,
                 "annotate: %d image(s): %d annotated (%d object(s)), %d skipped (already "
                 "annotated), %zu failed\n",
                 total, summary.images_annotated, summary.objects, summary.images_skipped_done,
                 summary.failures.size());
    std::fprintf(stderr,
                 "annotate: %.0f ms in all; %.1f ms per image, %.1f ms per object (wall clock, "
                 "--jobs %d)\n",
                 summary.total_ms, summary.ms_per_image, summary.ms_per_object, jobs);
    if (!summary.labels_added.empty()) {
        std::string names;
        for (const std::string& label : summary.labels_added)
            names += (names.empty() ? "" : ", ") + label;
        std::fprintf(stderr, "annotate: labels added to the project: %s\n", names.c_str());
    }
    for (const std::string& problem : summary.set_aside)
        std::fprintf(stderr, "annotate: set aside: %s\n", problem.c_str());
    for (const std::string& failure : summary.failures)
        std::fprintf(stderr, "  %s\n", failure.c_str());
}

}  // namespace

int run_annotate(const std::vector<std::string>& argv) {
    auto args = parse_args(
        argv, {"model", "input-dir", "points", "project", "jobs", "device", "precision", "metrics"},
        {});
    if (!args) return fail(args.message() + " (" + kAnnotateUsage + ")", 2);
    if (auto ok = require(*args, "annotate", {"model", "input-dir", "points", "project"}); !ok)
        return fail(ok.message() + " (" + kAnnotateUsage + ")", 2);
    batch::BatchOptions batch_options;
    batch_options.jobs = kDefaultJobs;
    if (args->has("jobs")) {
        auto jobs = parse_jobs(args->get("jobs"));
        if (!jobs) return fail(jobs.message(), 2);
        batch_options.jobs = *jobs;
    }
    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    // Masks straight at the original size, as `segment` does: SAM upsamples its logits there,
    // which is finer than upscaling a binary mask from a working copy.
    settings.downscale_max = 0;
    sam::SamOptions model_options{settings.device, settings.precision};
    if (auto ok = read_device_options(*args, model_options.device, model_options.precision); !ok)
        return fail(ok.message(), 2);

    // The cheap checks first, so a typo costs no model load.
    auto points = batch::read_point_file(args->get("points"));
    if (!points) return fail(points.message());
    const std::string input_dir = args->get("input-dir");
    if (!QFileInfo(QString::fromStdString(input_dir)).isDir())
        return fail(input_dir + ": no such folder");
    if (args->has("metrics"))
        if (auto ok = check_output_file("metrics", args->get("metrics")); !ok)
            return fail(ok.message());
    engine::Engine engine(settings);
    auto model = engine.load_model(args->get("model"), model_options).result();
    if (!model) return fail(model.message());
    // Created (when new) only once everything else is known good: a failed start leaves no
    // empty project behind.
    auto project = annotation::Project::open(args->get("project"), {}, input_dir);
    if (!project) return fail(project.message());

    batch_options.on_progress = print_progress;
    auto summary =
        batch::annotate_batch(engine, model->id, input_dir, *points, *project, batch_options);
    if (!summary) return fail(summary.message());
    print_summary(*summary, batch_options.jobs);

    if (args->has("metrics")) {
        const engine::MetricsSnapshot metrics = engine.metrics().snapshot();
        if (auto ok = io::atomic_write(args->get("metrics"), engine.metrics().to_json(metrics));
            !ok)
            return fail(ok.message());
    }
    return summary->failures.empty() ? 0 : 1;
}

}  // namespace ps::cli
