// Batch point prompts: every image of a point file is opened and encoded once, every object
// decoded from the cached embedding, and the image's objects saved into the project in one
// atomic write (unverified, for review). Images already annotated by an earlier run are skipped,
// so an interrupted run resumes; bad images are listed, never half-written.
//
// The rule that makes resuming exact: an image is annotated only while its annotation is
// untouched (status NotStarted, no objects). The batch writes all of an image's objects in one
// atomic save with status InProgress — "has unverified objects, waiting for review", so the
// GUI's "next unannotated image" walks a reviewer through them; a person sets Done. After a
// kill an image therefore has either its complete batch result (skipped on the next run) or
// no file at all (annotated again): never a duplicate, never a half. An image a person has
// started or finished, or that holds imported objects, is skipped the same way.
#pragma once

#include <QFuture>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "annotation/project.h"
#include "batch/point_file.h"
#include "common/result.h"

namespace ps::engine {
class Engine;
}

namespace ps::batch {

enum class ImageOutcome { Annotated, Skipped, Failed };

struct BatchProgress {
    int done = 0, total = 0;
    std::string current;  // image file
    // What happened to `current`:
    ImageOutcome outcome = ImageOutcome::Annotated;
    std::string detail;   // the failure's reason, or why it was skipped
    int objects = 0;      // objects written for it
    double image_ms = 0;  // from opening to saved (overlaps other images with jobs > 1)
};

struct BatchSummary {
    int images_annotated = 0;
    int images_skipped_done = 0;  // resumed: already in the project
    int objects = 0;
    std::vector<std::string> failures;  // "<image>: <reason>", sorted by image
    double total_ms = 0;
    // Wall-clock throughput, total_ms over images_annotated and over objects, so the work that
    // overlaps with jobs > 1 is not counted twice.
    double ms_per_image = 0;  // over the images annotated in this run
    double ms_per_object = 0;
    bool cancelled = false;              // stopped by BatchOptions::cancel before the end
    int images_not_reached = 0;          // left for a later run by the cancel
    std::vector<std::string> set_aside;  // corrupt annotation files renamed aside (messages)
    std::vector<std::string> labels_added;
};

struct BatchOptions {
    // Images in flight. The engine runs one model call per device at a time, so what overlaps
    // is the rest: reading the next images, and masks to RLE and saving while the model works.
    int jobs = 1;
    std::function<void(const BatchProgress&)> on_progress;  // called on the caller's thread
    const std::atomic<bool>* cancel = nullptr;              // stop between images
};

// `input_dir` holds the images named in `points`; it must be the project's image root or a
// folder inside it (the project names images relative to its root). Results go to `project`.
// Blocks the calling thread (never the GUI thread) while the work runs on the engine's pool. On
// one of that pool's own threads, release it for the call (QThreadPool::releaseThread): the
// waits need the pool's workers.
// Returns an error only when nothing could start (an unknown model, an unusable input folder);
// per-image problems are in the summary's failures. One batch per engine at a time: its
// decodes use the engine's latest-wins channels kBatchChannelBase and up.
Result<BatchSummary> annotate_batch(engine::Engine& engine, const std::string& model_id,
                                    const std::string& input_dir, const PointFile& points,
                                    annotation::Project& project, const BatchOptions& options);

// annotate_batch as an engine task at Priority::Batch, for a caller that must not block (the
// GUI). `project` is the task's own copy; the worker the task runs on is lent back to the pool
// while it waits on its own encodes and decodes, so the run makes progress even with one worker.
// `cancel` (kept alive by the task, so its caller may go away) replaces options.cancel.
QFuture<Result<BatchSummary>> start_batch(engine::Engine& engine, const std::string& model_id,
                                          const std::string& input_dir, PointFile points,
                                          std::shared_ptr<annotation::Project> project,
                                          BatchOptions options,
                                          std::shared_ptr<const std::atomic<bool>> cancel);

// Far above the GUI's interactive channels (0, 1): a batch never supersedes a click.
constexpr int kBatchChannelBase = 1 << 20;

}  // namespace ps::batch
