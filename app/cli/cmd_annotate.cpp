// `photosynth-cli annotate`: a point file over a folder of images into an annotation project,
// each image encoded once, progress per image, a summary, resumable after an interruption.
#include <QDir>
#include <QFileInfo>

#include <cstdio>
#include <iostream>
#include <optional>

#include "batch/batch_annotator.h"
#include "batch/label_growth.h"
#include "batch/point_file.h"
#include "batch/shard_journal.h"
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
    "[--metrics FILE.json] [--embedding-cache DIR] [--shard I/N | --shards N]";

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

// Every label of the whole point file, in its order (images by name, objects in order), added
// before any image is annotated: all shards of a split then write the same label set, whatever
// order their images finish in, and the project matches a one-machine run.
Result<std::vector<std::string>> add_point_file_labels(annotation::Project& project,
                                                       const batch::PointFile& points) {
    std::vector<std::string> names;
    for (const auto& [image, objects] : points.images)
        for (const batch::PointObject& object : objects) names.push_back(object.label);
    annotation::LabelSet labels = project.labels();
    const size_t known = labels.labels.size();
    if (!batch::add_missing_labels(labels, names)) return std::vector<std::string>{};
    if (auto saved = project.set_labels(labels); !saved) return saved.error();
    std::vector<std::string> added;
    for (size_t i = known; i < labels.labels.size(); ++i) added.push_back(labels.labels[i].name);
    return added;
}

// A shard's bookkeeping around annotate_batch: which images of the point file it owns, which
// of those an earlier run finished (journal sizes and hashes of the image and its annotation
// file), and a journal line for each image this run reports.
class AnnotateShard {
  public:
    AnnotateShard(const annotation::Project& project, const std::string& input_dir,
                  batch::ShardJournal journal)
        : project_(project),
          input_(QString::fromStdString(input_dir)),
          journal_(std::move(journal)) {
        const QString root =
            QFileInfo(QString::fromStdString(project.image_root())).canonicalFilePath();
        prefix_ = QDir(root).relativeFilePath(QFileInfo(input_).canonicalFilePath());
    }

    // Takes the images an earlier run finished out of `points`, logging each.
    int drop_finished(batch::PointFile& points) {
        int resumed = 0;
        for (auto it = points.images.begin(); it != points.images.end();) {
            if (!journal_.still_finished(it->first, input_path(it->first))) {
                ++it;
                continue;
            }
            std::cerr << "annotate: [resumed] " << it->first
                      << ": skipped, done in an earlier run (sizes and hashes checked)"
                      << std::endl;
            record({it->first, batch::EntryOutcome::Resumed, {}, {}, {}, 0});
            it = points.images.erase(it);
            ++resumed;
        }
        return resumed;
    }

    void report(const batch::BatchProgress& progress) {
        batch::JournalEntry entry;
        entry.input = progress.current;
        entry.ms = progress.image_ms;
        entry.reason = progress.detail;
        entry.outcome =
            progress.outcome == batch::ImageOutcome::Annotated ? batch::EntryOutcome::Done
            : progress.outcome == batch::ImageOutcome::Skipped ? batch::EntryOutcome::Skipped
                                                               : batch::EntryOutcome::Failed;
        if (auto digest = batch::digest_file(input_path(entry.input))) entry.input_digest = *digest;
        if (entry.outcome != batch::EntryOutcome::Failed) {
            const std::string image_file =
                QDir::cleanPath(prefix_ + "/" + QString::fromStdString(entry.input)).toStdString();
            const std::string path = project_.annotation_path(image_file);
            auto digest = batch::digest_file(path);
            if (digest) entry.outputs.emplace_back(journal_.relative_to_root(path), *digest);
        }
        record(entry);
    }

    Status finish() {
        if (status_) status_ = journal_.finish();
        return status_;
    }

  private:
    std::string input_path(const std::string& name) const {
        return QDir(input_).filePath(QString::fromStdString(name)).toStdString();
    }
    void record(const batch::JournalEntry& entry) {
        if (status_) status_ = journal_.record(entry);
    }

    const annotation::Project& project_;
    QString input_, prefix_;
    batch::ShardJournal journal_;
    Status status_ = Ok{};
};

}  // namespace

int run_annotate(const std::vector<std::string>& argv) {
    auto args =
        parse_args(argv,
                   with_shard_options({"model", "input-dir", "points", "project", "jobs", "device",
                                       "precision", "metrics", "embedding-cache"}),
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

    auto shard = read_shard_options(*args);
    if (!shard) return fail(shard.message(), 2);

    // The cheap checks first, so a typo costs no model load.
    auto points = batch::read_point_file(args->get("points"));
    if (!points) return fail(points.message());
    batch::PointFile owned = *points;  // the images this shard annotates
    if (*shard)
        for (auto it = owned.images.begin(); it != owned.images.end();)
            it = batch::shard_of(it->first, (*shard)->count) == (*shard)->index
                     ? std::next(it)
                     : owned.images.erase(it);
    const std::string input_dir = args->get("input-dir");
    if (!QFileInfo(QString::fromStdString(input_dir)).isDir())
        return fail(input_dir + ": no such folder");
    if (args->has("metrics"))
        if (auto ok = check_output_file("metrics", args->get("metrics")); !ok)
            return fail(ok.message());
    engine::Engine engine(settings);
    // Embeddings kept on disk (a cluster node's local scratch): a run again on that node
    // encodes nothing twice.
    if (args->has("embedding-cache"))
        if (auto ok =
                engine.enable_disk_cache(QString::fromStdString(args->get("embedding-cache")));
            !ok)
            return fail(ok.message());
    auto model = engine.load_model(args->get("model"), model_options).result();
    if (!model) return fail(model.message());
    // Created (when new) only once everything else is known good: a failed start leaves no
    // empty project behind.
    auto project = annotation::Project::open(args->get("project"), {}, input_dir);
    if (!project) return fail(project.message());

    auto labels_added = add_point_file_labels(*project, *points);
    if (!labels_added) return fail(labels_added.message());

    std::optional<AnnotateShard> shard_run;
    int resumed = 0;
    if (*shard) {
        auto journal = batch::ShardJournal::open(args->get("project"), "annotate", **shard,
                                                 static_cast<int>(owned.images.size()));
        if (!journal) return fail(journal.message());
        std::cerr << "annotate: shard " << batch::to_string(**shard) << ": " << owned.images.size()
                  << " of " << points->images.size() << " image(s)" << std::endl;
        shard_run.emplace(*project, input_dir, std::move(*journal));
        resumed = shard_run->drop_finished(owned);
    }
    batch_options.on_progress = [&shard_run](const batch::BatchProgress& progress) {
        print_progress(progress);
        if (shard_run) shard_run->report(progress);
    };
    auto summary =
        batch::annotate_batch(engine, model->id, input_dir, owned, *project, batch_options);
    if (!summary) return fail(summary.message());
    summary->labels_added.insert(summary->labels_added.begin(), labels_added->begin(),
                                 labels_added->end());
    print_summary(*summary, batch_options.jobs);
    if (shard_run) {
        std::fprintf(stderr, "annotate: shard %s: %d image(s) skipped, done in an earlier run\n",
                     batch::to_string(**shard).c_str(), resumed);
        if (auto ok = shard_run->finish(); !ok) return fail(ok.message());
    }

    if (args->has("metrics")) {
        const engine::MetricsSnapshot metrics = engine.metrics().snapshot();
        if (auto ok = io::atomic_write(args->get("metrics"), engine.metrics().to_json(metrics));
            !ok)
            return fail(ok.message());
    }
    return summary->failures.empty() ? 0 : 1;
}

}  // namespace ps::cli
