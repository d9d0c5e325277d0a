// The batch annotation pipeline: a state machine per image (open → encode → decode each object
// → save), up to `jobs` images in flight on the engine's pool, driven from the caller's thread.
#include "batch/batch_annotator.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QFuture>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <list>
#include <memory>
#include <mutex>

#include "annotating/sam_prompt.h"
#include "batch/label_growth.h"
#include "batch/object_decode.h"
#include "engine/engine.h"

namespace ps::batch {
namespace {

// Wakes the caller's thread whenever one of the futures it watches finishes, so it sleeps
// instead of polling and never waits on one image while another is ready to move on.
class FinishedSignal {
  public:
    template <typename T>
    QFuture<T> watch(QFuture<T> future) {
        // Sync: the continuation only bumps a counter, on whichever thread finished the job.
        future.then(QtFuture::Launch::Sync, [state = state_](QFuture<T>) { state->notify(); });
        return future;
    }

    void wait() {
        std::unique_lock<std::mutex> lock(state_->mutex);
        state_->changed.wait(lock, [&] { return state_->finished > 0; });
        state_->finished = 0;
    }

  private:
    struct State {
        std::mutex mutex;
        std::condition_variable changed;
        int finished = 0;
        void notify() {
            {
                std::lock_guard<std::mutex> lock(mutex);
                ++finished;
            }
            changed.notify_one();
        }
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

enum class Stage { Opening, Encoding, Decoding, Finished };

// One image in flight.
struct ImageTask {
    std::string name;        // as in the point file, relative to the input folder
    std::string image_file;  // the project's name for it, relative to the image root
    const std::vector<PointObject>* objects = nullptr;
    annotation::ImageAnnotation annotation;  // as loaded (untouched); the objects are added
    int slot = 0;                            // decode channel kBatchChannelBase + slot
    QElapsedTimer clock;

    Stage stage = Stage::Opening;
    QFuture<Result<engine::ImageInfo>> opening;
    QFuture<Result<engine::EncodeInfo>> encoding;
    QFuture<Result<sam::SamMaskSet>> decoding;
    int image_id = 0;  // 0 until opened
    cv::Size full, work;
    std::vector<annotation::AnnotatedObject> decoded;
    std::string failure;  // non-empty: nothing is written for this image

    bool ready() const {
        switch (stage) {
            case Stage::Opening:
                return opening.isFinished();
            case Stage::Encoding:
                return encoding.isFinished();
            case Stage::Decoding:
                return decoding.isFinished();
            case Stage::Finished:
                return true;
        }
        return true;
    }
};

std::string object_name(const PointObject& object, size_t index) {
    return "object " + std::to_string(index + 1) + " (" + object.label + ")";
}

class BatchRun {
  public:
    BatchRun(engine::Engine& engine, std::string model_id, std::string model_name,
             QString input_dir, QString prefix, annotation::Project& project,
             const BatchOptions& options)
        : engine_(engine),
          model_id_(std::move(model_id)),
          model_name_(std::move(model_name)),
          input_dir_(std::move(input_dir)),
          prefix_(std::move(prefix)),
          project_(project),
          options_(options),
          free_slots_(static_cast<size_t>(std::max(1, options.jobs)), true) {}

    BatchSummary run(const PointFile& points) {
        QElapsedTimer wall;
        wall.start();
        total_ = static_cast<int>(points.images.size());
        std::deque<const std::pair<const std::string, std::vector<PointObject>>*> queue;
        for (const auto& entry : points.images) queue.push_back(&entry);  // std::map: by name
        while (!queue.empty() || !in_flight_.empty()) {
            while (!queue.empty() && in_flight_.size() < free_slots_.size() && !cancelled()) {
                start(queue.front()->first, queue.front()->second);
                queue.pop_front();
            }
            if (in_flight_.empty()) break;  // cancelled with nothing running
            signal_.wait();
            advance_ready_tasks();
        }
        summary_.cancelled = !queue.empty();
        summary_.images_not_reached = static_cast<int>(queue.size());
        summary_.total_ms = static_cast<double>(wall.nsecsElapsed()) / 1e6;
        if (summary_.images_annotated > 0)
            summary_.ms_per_image = summary_.total_ms / summary_.images_annotated;
        if (summary_.objects > 0) summary_.ms_per_object = summary_.total_ms / summary_.objects;
        std::sort(summary_.failures.begin(), summary_.failures.end());
        return summary_;
    }

  private:
    bool cancelled() const { return options_.cancel && options_.cancel->load(); }

    // Checks the project, then opens the image; an image that needs no work is reported at once.
    void start(const std::string& name, const std::vector<PointObject>& objects) {
        auto task = std::make_unique<ImageTask>();
        task->clock.start();
        task->name = name;
        task->image_file = QDir::cleanPath(prefix_ + QString::fromStdString(name)).toStdString();
        task->objects = &objects;
        auto loaded = project_.load(task->image_file);
        if (!loaded) {
            report(*task, ImageOutcome::Failed, loaded.message());
            return;
        }
        if (loaded->problem) summary_.set_aside.push_back(*loaded->problem);
        const annotation::ImageAnnotation& existing = loaded->annotation;
        if (existing.status != annotation::ImageStatus::NotStarted || !existing.objects.empty()) {
            report(*task, ImageOutcome::Skipped,
                   std::string("already annotated (") + annotation::to_string(existing.status) +
                       ", " + std::to_string(existing.objects.size()) + " object(s))");
            return;
        }
        task->annotation = std::move(loaded->annotation);
        const auto slot = std::find(free_slots_.begin(), free_slots_.end(), true);
        *slot = false;
        task->slot = static_cast<int>(slot - free_slots_.begin());
        const std::string path =
            QDir(input_dir_).filePath(QString::fromStdString(name)).toStdString();
        task->opening = signal_.watch(engine_.open_image(path));
        in_flight_.push_back(std::move(task));
    }

    void advance_ready_tasks() {
        for (auto it = in_flight_.begin(); it != in_flight_.end();) {
            ImageTask& task = **it;
            if (!task.ready()) {
                ++it;
                continue;
            }
            try {
                advance(task);
            } catch (const std::exception& e) {  // nothing thrown leaves the batch
                fail(task, std::string("internal error: ") + e.what());
            }
            if (task.stage != Stage::Finished) {
                ++it;
                continue;
            }
            finish(task);
            it = in_flight_.erase(it);
        }
    }

    void fail(ImageTask& task, const std::string& reason) {
        task.failure = reason;
        task.stage = Stage::Finished;
    }

    void advance(ImageTask& task) {
        switch (task.stage) {
            case Stage::Opening:
                return opened(task);
            case Stage::Encoding:
                return encoded(task);
            case Stage::Decoding:
                return decoded(task);
            case Stage::Finished:
                return;
        }
    }

    void opened(ImageTask& task) {
        const Result<engine::ImageInfo> image = task.opening.result();
        if (!image) return fail(task, image.message());
        task.image_id = image->id;
        task.full = {image->width, image->height};
        task.work = {image->work_width, image->work_height};
        // Every prompt is checked before the encoder runs: a bad one fails the image cheaply.
        for (size_t i = 0; i < task.objects->size(); ++i) {
            const PointObject& object = (*task.objects)[i];
            if (auto inside =
                    check_prompts_inside(object.prompts, task.full, object_name(object, i));
                !inside)
                return fail(task, inside.message());
        }
        task.stage = Stage::Encoding;
        task.encoding =
            signal_.watch(engine_.encode(task.image_id, model_id_, engine::Priority::Batch));
    }

    void encoded(ImageTask& task) {
        const Result<engine::EncodeInfo> encoded = task.encoding.result();
        if (!encoded) return fail(task, encoded.message());
        task.stage = Stage::Decoding;
        decode_next(task);
    }

    // Objects of one image are decoded one after another on the image's own channel (the
    // embedding is cached, so each costs only the mask decoder); other images fill the pool.
    void decode_next(ImageTask& task) {
        const PointObject& object = (*task.objects)[task.decoded.size()];
        task.decoding = signal_.watch(
            engine_.decode(task.image_id, model_id_,
                           annotating::to_sam_prompt(object.prompts, task.full, task.work),
                           kBatchChannelBase + task.slot));
    }

    void decoded(ImageTask& task) {
        const Result<sam::SamMaskSet> masks = task.decoding.result();
        const size_t index = task.decoded.size();
        const PointObject& object = (*task.objects)[index];
        if (!masks) return fail(task, object_name(object, index) + ": " + masks.message());
        auto result = object_from_masks(*masks, object.label, object.prompts, model_name_,
                                        task.full, object_name(object, index));
        if (!result) return fail(task, result.message());
        task.decoded.push_back(std::move(*result));
        if (task.decoded.size() < task.objects->size()) return decode_next(task);
        task.stage = Stage::Finished;
    }

    // Labels first, so a saved annotation never names a label the project lacks; then the
    // image's one atomic write.
    Status save(ImageTask& task) {
        annotation::LabelSet labels = project_.labels();
        std::vector<std::string> names;
        for (const auto& object : task.decoded) names.push_back(object.label);
        const size_t known = labels.labels.size();
        if (add_missing_labels(labels, names)) {
            if (auto saved = project_.set_labels(labels); !saved) return saved;
            for (size_t i = known; i < labels.labels.size(); ++i)
                summary_.labels_added.push_back(labels.labels[i].name);
        }
        annotation::ImageAnnotation& annotation = task.annotation;
        annotation.image_file = task.image_file;
        annotation.width = task.full.width;
        annotation.height = task.full.height;
        annotation.status = annotation::ImageStatus::InProgress;  // unverified: for review
        for (auto& object : task.decoded) annotation.add(std::move(object));
        return project_.save(annotation);
    }

    void finish(ImageTask& task) {
        if (task.image_id) engine_.close_image(task.image_id);  // memory stays flat
        free_slots_[static_cast<size_t>(task.slot)] = true;
        if (task.failure.empty()) {
            if (auto saved = save(task); !saved) task.failure = saved.message();
        }
        if (!task.failure.empty()) return report(task, ImageOutcome::Failed, task.failure);
        report(task, ImageOutcome::Annotated, {});
    }

    void report(const ImageTask& task, ImageOutcome outcome, const std::string& detail) {
        BatchProgress progress;
        progress.done = ++done_;
        progress.total = total_;
        progress.current = task.name;
        progress.outcome = outcome;
        progress.detail = detail;
        progress.image_ms = static_cast<double>(task.clock.nsecsElapsed()) / 1e6;
        switch (outcome) {
            case ImageOutcome::Annotated:
                progress.objects = static_cast<int>(task.annotation.objects.size());
                ++summary_.images_annotated;
                summary_.objects += progress.objects;
                break;
            case ImageOutcome::Skipped:
                ++summary_.images_skipped_done;
                break;
            case ImageOutcome::Failed:
                summary_.failures.push_back(task.name + ": " + detail);
                break;
        }
        if (options_.on_progress) options_.on_progress(progress);
    }

    engine::Engine& engine_;
    const std::string model_id_, model_name_;
    const QString input_dir_, prefix_;
    annotation::Project& project_;
    const BatchOptions& options_;
    std::vector<bool> free_slots_;  // one per image allowed in flight
    FinishedSignal signal_;
    std::list<std::unique_ptr<ImageTask>> in_flight_;  // in start order
    BatchSummary summary_;
    int done_ = 0, total_ = 0;
};

// The project names images relative to its image root: the input folder's place in it ("" for
// the root itself, "sub/" for a folder inside).
Result<QString> input_prefix(const std::string& input_dir, const annotation::Project& project) {
    const QString input = QFileInfo(QString::fromStdString(input_dir)).canonicalFilePath();
    if (input.isEmpty() || !QFileInfo(input).isDir())
        return make_error(ErrorKind::Io, input_dir + ": no such folder");
    const QString root =
        QFileInfo(QString::fromStdString(project.image_root())).canonicalFilePath();
    const QString relative = QDir(root).relativeFilePath(input);
    if (root.isEmpty() || relative == ".." || relative.startsWith("../") ||
        QFileInfo(relative).isAbsolute())
        return make_error(
            ErrorKind::InvalidArgument,
            input_dir + ": not inside the project's image folder " + project.image_root());
    return relative == "." ? QString() : relative + "/";
}

}  // namespace

Result<BatchSummary> annotate_batch(engine::Engine& engine, const std::string& model_id,
                                    const std::string& input_dir, const PointFile& points,
                                    annotation::Project& project, const BatchOptions& options) {
    std::string model_name;
    for (const engine::ModelInfo& model : engine.models())
        if (model.id == model_id)
            model_name = QFileInfo(QString::fromStdString(model.path)).fileName().toStdString();
    if (model_name.empty())
        return make_error(ErrorKind::InvalidArgument, "no loaded model " + model_id);
    if (options.jobs < 1)
        return make_error(ErrorKind::InvalidArgument,
                          "jobs must be at least 1, got " + std::to_string(options.jobs));
    auto prefix = input_prefix(input_dir, project);
    if (!prefix) return prefix.error();
    BatchRun run(engine, model_id, model_name, QString::fromStdString(input_dir), *prefix, project,
                 options);
    return run.run(points);
}

QFuture<Result<BatchSummary>> start_batch(engine::Engine& engine, const std::string& model_id,
                                          const std::string& input_dir, PointFile points,
                                          std::shared_ptr<annotation::Project> project,
                                          BatchOptions options,
                                          std::shared_ptr<const std::atomic<bool>> cancel) {
    engine::Engine* owner = &engine;
    options.cancel = cancel.get();
    // annotate_batch waits on encodes and decodes queued on the same pool.
    return engine.run_waiting_task<BatchSummary>(
        engine::Priority::Batch,
        [owner, model_id, input_dir, points = std::move(points), project = std::move(project),
         options = std::move(options), cancel = std::move(cancel)]() -> Result<BatchSummary> {
            return annotate_batch(*owner, model_id, input_dir, points, *project, options);
        });
}

}  // namespace ps::batch
