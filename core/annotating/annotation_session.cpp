// AnnotationSession: document objects (work-image masks) <-> annotation objects (full-resolution
// RLE), and the ordered background saves.
#include "annotating/annotation_session.h"

#include <QDir>
#include <QFileInfo>

#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "annotating/sam_prompt.h"
#include "engine/engine.h"
#include "engine/future_watch.h"
#include "image/mask_export.h"

namespace ps::annotating {

struct AnnotationSession::Opened {
    annotation::Project project;
    std::map<std::string, annotation::ImageStatus> statuses;
};

struct AnnotationSession::Prefetched {
    annotation::LoadedAnnotation loaded;
    std::vector<cv::Mat> full_masks;  // decoded, one per object
};

namespace {

using annotation::ImageStatus;

cv::Mat to_work_size(const cv::Mat& full, cv::Size work) {
    if (full.size() == work) return full;
    // Area averaging then the 50 % threshold: a pixel of the work mask is set when most of the
    // full-resolution pixels it covers are (the inverse of image::upscale_mask's rule).
    cv::Mat small;
    cv::resize(full, small, work, 0, 0, cv::INTER_AREA);
    cv::threshold(small, small, 127, 255, cv::THRESH_BINARY);
    return small;
}

QString qstr(const std::string& text) {
    return QString::fromStdString(text);
}

// True when annotation_to_json would write the same file (the bbox follows the mask, so it is
// not compared). Field by field rather than by serialising: every document change would
// otherwise re-encode every object's RLE string on the GUI thread.
bool same_content(const annotation::ImageAnnotation& a, const annotation::ImageAnnotation& b) {
    const auto same_prompts = [](const annotation::ObjectPrompts& p,
                                 const annotation::ObjectPrompts& q) {
        return p.box == q.box &&
               std::equal(p.points.begin(), p.points.end(), q.points.begin(), q.points.end(),
                          [](const annotation::PromptPoint& u, const annotation::PromptPoint& v) {
                              return u.x == v.x && u.y == v.y && u.positive == v.positive;
                          });
    };
    const auto same_object = [&](const annotation::AnnotatedObject& o,
                                 const annotation::AnnotatedObject& p) {
        return o.id == p.id && o.label == p.label && o.model == p.model &&
               o.predicted_iou == p.predicted_iou && o.verified == p.verified &&
               o.hidden == p.hidden && same_prompts(o.prompts, p.prompts) && o.mask == p.mask;
    };
    return a.image_file == b.image_file && a.width == b.width && a.height == b.height &&
           a.status == b.status && a.next_object_id == b.next_object_id &&
           std::equal(a.objects.begin(), a.objects.end(), b.objects.begin(), b.objects.end(),
                      same_object);
}

}  // namespace

AnnotationSession::AnnotationSession(engine::Engine& engine, editing::EditDocument& document,
                                     QObject* parent)
    : QObject(parent), engine_(engine), document_(document) {
    connect(&document_, &editing::EditDocument::objects_changed, this,
            &AnnotationSession::sync_from_document);
}

AnnotationSession::~AnnotationSession() {
    flush();
}

annotation::LabelSet AnnotationSession::default_labels() {
    annotation::LabelSet set;
    set.labels = {{"object", {230, 25, 75}, "Alt+1"},
                  {"person", {60, 180, 75}, "Alt+2"},
                  {"animal", {255, 225, 25}, "Alt+3"},
                  {"vehicle", {0, 130, 200}, "Alt+4"}};
    return set;
}

void AnnotationSession::open_project(const QString& folder) {
    start_open(folder, true);
}

void AnnotationSession::reload() {
    if (project_) start_open(folder(), false);
}

void AnnotationSession::start_open(const QString& folder, bool fresh) {
    flush();
    const int ticket = ++open_ticket_;
    const std::string path = folder.toStdString();
    auto future =
        engine_.run_task<Opened>(engine::Priority::Interactive, [path]() -> Result<Opened> {
            auto project = annotation::Project::open(path, default_labels());
            if (!project) return project.error();
            auto statuses = project->statuses();
            return Opened{std::move(*project), std::move(statuses)};
        });
    engine::when_finished(this, future, [this, ticket, fresh, folder](Result<Opened> opened) {
        if (ticket != open_ticket_) return;
        if (!opened) {
            emit project_failed(qstr(opened.message()));
            return;
        }
        project_ = std::make_shared<const annotation::Project>(std::move(opened->project));
        statuses_ = std::move(opened->statuses);
        if (fresh) problems_.clear();
        emit labels_changed();
        emit statuses_changed();
        if (fresh) emit project_opened(folder);
    });
}

QString AnnotationSession::folder() const {
    return project_ ? qstr(project_->folder()) : QString();
}

const annotation::LabelSet& AnnotationSession::labels() const {
    static const annotation::LabelSet none;
    return project_ ? project_->labels() : none;
}

Status AnnotationSession::set_labels(const annotation::LabelSet& labels) {
    if (!project_) return make_error(ErrorKind::InvalidArgument, "no annotation project is open");
    auto next = std::make_shared<annotation::Project>(*project_);
    if (Status saved = next->set_labels(labels); !saved) return saved;
    project_ = std::move(next);
    emit labels_changed();
    return Ok{};
}

QColor AnnotationSession::label_colour(const QString& label) const {
    if (const annotation::Label* found = labels().find(label.toStdString())) {
        return QColor(found->colour[0], found->colour[1], found->colour[2]);
    }
    // A label outside the set (an imported name, say) still gets a stable colour.
    return QColor::fromHsv(int(qHash(label) % 360), 200, 230);
}

QStringList AnnotationSession::image_paths() const {
    QStringList paths;
    if (!project_) return paths;
    for (const std::string& file : project_->images()) paths << qstr(project_->image_path(file));
    return paths;
}

std::string AnnotationSession::image_file_for(const QString& path) const {
    if (!project_) return {};
    const QString root = QDir(qstr(project_->image_root())).canonicalPath();
    const QString canonical = QFileInfo(path).canonicalFilePath();
    if (root.isEmpty() || canonical.isEmpty()) return {};
    const QString relative = QDir(root).relativeFilePath(canonical);
    if (relative.startsWith("../")) return {};
    const std::string file = relative.toStdString();
    const auto& images = project_->images();
    return std::find(images.begin(), images.end(), file) != images.end() ? file : std::string();
}

ImageStatus AnnotationSession::status(const std::string& image_file) const {
    auto it = statuses_.find(image_file);
    return it == statuses_.end() ? ImageStatus::NotStarted : it->second;
}

std::optional<std::string> AnnotationSession::next_unannotated(const std::string& after) const {
    if (!project_) return std::nullopt;
    const auto& images = project_->images();
    const auto at = std::find(images.begin(), images.end(), after);
    const size_t start = at == images.end() ? 0 : size_t(at - images.begin()) + 1;
    for (size_t i = 0; i < images.size(); ++i) {
        const std::string& file = images[(start + i) % images.size()];
        if (status(file) != ImageStatus::Done) return file;
    }
    return std::nullopt;
}

QFuture<Result<AnnotationSession::Prefetched>> AnnotationSession::load_job(
    const std::string& image_file) const {
    std::optional<annotation::ImageAnnotation> snapshot;
    if (auto it = latest_.find(image_file); it != latest_.end()) snapshot = it->second;
    auto project = project_;
    return engine_.run_task<Prefetched>(
        engine::Priority::Interactive, [project, image_file, snapshot]() -> Result<Prefetched> {
            Prefetched out;
            if (snapshot) {
                out.loaded.annotation = *snapshot;
            } else {
                auto loaded = project->load(image_file);
                if (!loaded) return loaded.error();
                out.loaded = std::move(*loaded);
            }
            for (const annotation::AnnotatedObject& object : out.loaded.annotation.objects) {
                out.full_masks.push_back(annotation::rle_decode(object.mask));
            }
            return out;
        });
}

void AnnotationSession::prefetch(const QString& path) {
    const std::string file = image_file_for(path);
    if (file.empty()) return;
    if (prefetched_.size() > 8) prefetched_.clear();  // opens that failed leave theirs behind
    prefetched_[path] = load_job(file);
}

void AnnotationSession::detach_image() {
    finish_conversions();  // the last edits of this image are saved
    ++attach_generation_;
    attached_ = false;
    writable_ = false;
    saved_masks_.clear();
    current_ = {};
}

void AnnotationSession::attach_image(const QString& path, cv::Size full_size, cv::Size work_size) {
    detach_image();
    const std::string file = image_file_for(path);
    auto it = prefetched_.find(path);
    QFuture<Result<Prefetched>> future =
        it != prefetched_.end() ? it->second : QFuture<Result<Prefetched>>();
    prefetched_.erase(path);
    if (file.empty()) return;
    // Normally finished already: it ran while the engine decoded the image.
    if (!future.isValid()) future = load_job(file);
    future.waitForFinished();
    if (future.resultCount() == 0) return;
    Result<Prefetched> result = future.result();
    attached_ = true;
    full_size_ = full_size;
    work_size_ = work_size;
    current_.image_file = file;
    current_.width = full_size.width;
    current_.height = full_size.height;
    if (!result) {
        // Unreadable for another reason than a corrupt file (permissions, say): leave it alone.
        problems_[file] = qstr(result.message());
        emit problem_found(qstr(file), problems_[file]);
        return;
    }
    const annotation::LoadedAnnotation& loaded = result->loaded;
    if (loaded.problem) {
        // Project has renamed the corrupt file aside: a save now starts a new file.
        problems_[file] = qstr(*loaded.problem);
        emit problem_found(qstr(file), problems_[file]);
    }
    const annotation::ImageAnnotation& saved = loaded.annotation;
    const bool sized =
        saved.width == 0 || (saved.width == full_size.width && saved.height == full_size.height);
    if (!sized) {
        problems_[file] = tr("%1: the annotation is for a %2 × %3 image, the image is %4 × %5; "
                             "it is shown read-only")
                              .arg(qstr(project_->annotation_path(file)))
                              .arg(saved.width)
                              .arg(saved.height)
                              .arg(full_size.width)
                              .arg(full_size.height);
        emit problem_found(qstr(file), problems_[file]);
        return;
    }
    writable_ = true;
    if (!loaded.problem) {
        current_.status = saved.status;
        current_.next_object_id = saved.next_object_id;
    }
    std::vector<editing::SegmentObject> objects;
    for (size_t i = 0; i < saved.objects.size(); ++i) {
        const annotation::AnnotatedObject& a = saved.objects[i];
        editing::SegmentObject object;
        object.id = a.id;
        object.name = qstr(a.label);
        object.colour = label_colour(object.name);
        object.mask = to_work_size(result->full_masks[i], work_size);
        object.visible = !a.hidden;
        const runtime::Prompt work_prompt =
            annotating::to_sam_prompt(a.prompts, full_size, work_size);
        object.prompts.points = work_prompt.points;
        object.prompts.box = work_prompt.box;
        object.iou = float(a.predicted_iou);
        object.segmenter = qstr(a.model);
        object.verified = a.verified;
        saved_masks_[a.id] = {object.mask, a.mask};
        objects.push_back(std::move(object));
    }
    current_.objects = saved.objects;
    // As annotation_to_json writes it, so that an unchanged document compares equal.
    for (const annotation::AnnotatedObject& object : current_.objects)
        current_.next_object_id = std::max(current_.next_object_id, object.id + 1);
    loading_ = true;
    document_.load_objects(std::move(objects), current_.next_object_id);
    loading_ = false;
}

namespace {

// The full-resolution RLE of a work-size mask. `saved` is the object's last saved mask, if any:
// only the pixels that changed at work size change at full size, so a stroke on a downscaled
// view keeps the rest of the saved full-resolution edge.
annotation::Rle convert_to_full(const cv::Mat& work,
                                const std::optional<annotation::Rle>& saved_full,
                                const cv::Mat& saved_work, cv::Size full_size) {
    if (work.empty()) return annotation::rle_encode(cv::Mat::zeros(full_size, CV_8UC1));
    if (work.size() == full_size) return annotation::rle_encode(work);
    if (saved_full && saved_work.size() == work.size()) {
        cv::Mat mask = annotation::rle_decode(*saved_full);
        const cv::Mat added = work & ~saved_work;
        const cv::Mat removed = saved_work & ~work;
        if (cv::countNonZero(added)) mask.setTo(255, image::upscale_mask(added, full_size));
        if (cv::countNonZero(removed)) mask.setTo(0, image::upscale_mask(removed, full_size));
        return annotation::rle_encode(mask);
    }
    return annotation::rle_encode(image::upscale_mask(work, full_size));
}

}  // namespace

AnnotationSession::SavedMask AnnotationSession::Conversion::finish(cv::Size full_size) {
    job.waitForFinished();
    if (job.resultCount() && job.result().ok()) return job.result().value();
    // Cancelled (the pool shutting down) or failed: the edit is still saved.
    return {work, convert_to_full(work, saved_full, saved_work, full_size)};
}

std::optional<annotation::Rle> AnnotationSession::full_mask(const editing::SegmentObject& object) {
    const auto it = saved_masks_.find(object.id);
    // Masks are never changed in place (edits make new ones), so the same data is the same mask.
    if (it != saved_masks_.end() && it->second.work.data == object.mask.data &&
        it->second.work.size() == object.mask.size()) {
        return it->second.full;
    }
    if (const auto running = converting_.find(object.id); running != converting_.end()) {
        if (!running->second.job.isFinished()) return std::nullopt;  // its callback re-syncs
        // Finished, its callback not yet run: take the answer if it is for this mask.
        SavedMask done = running->second.finish(full_size_);
        converting_.erase(running);
        if (done.work.data == object.mask.data) {
            saved_masks_[object.id] = done;
            return done.full;
        }
    }
    Conversion conversion;
    conversion.work = object.mask;
    if (it != saved_masks_.end()) {
        conversion.saved_full = it->second.full;
        conversion.saved_work = it->second.work;
    }
    conversion.job = engine_.run_task<SavedMask>(
        engine::Priority::Interactive,
        [work = conversion.work, saved_full = conversion.saved_full,
         saved_work = conversion.saved_work, full_size = full_size_]() -> Result<SavedMask> {
            return SavedMask{work, convert_to_full(work, saved_full, saved_work, full_size)};
        });
    const QFuture<Result<SavedMask>> job = conversion.job;
    converting_[object.id] = std::move(conversion);
    const int generation = attach_generation_, id = object.id;
    engine::when_finished(this, job, [this, generation, id](const Result<SavedMask>&) {
        if (generation != attach_generation_) return;
        const auto running = converting_.find(id);
        if (running == converting_.end()) return;  // already taken by full_mask or a flush
        saved_masks_[id] = running->second.finish(full_size_);
        converting_.erase(running);
        sync_from_document();
    });
    return std::nullopt;
}

void AnnotationSession::finish_conversions() {
    while (!converting_.empty()) {
        auto node = converting_.extract(converting_.begin());
        saved_masks_[node.key()] = node.mapped().finish(full_size_);
    }
    if (!unconverted_) return;
    annotation::ImageAnnotation next = std::move(*unconverted_);
    unconverted_.reset();
    for (annotation::AnnotatedObject& object : next.objects) {
        const auto work = unconverted_work_.find(object.id);
        if (work == unconverted_work_.end()) continue;
        const auto saved = saved_masks_.find(object.id);
        if (saved == saved_masks_.end() || saved->second.work.data != work->second.data) {
            // Edited again while the older mask converted: convert this one here.
            std::optional<annotation::Rle> saved_full;
            cv::Mat saved_work;
            if (saved != saved_masks_.end()) {
                saved_full = saved->second.full;
                saved_work = saved->second.work;
            }
            saved_masks_[object.id] = {
                work->second, convert_to_full(work->second, saved_full, saved_work, full_size_)};
        }
        object.mask = saved_masks_[object.id].full;
        object.bbox = annotation::rle_bbox(object.mask);
    }
    unconverted_work_.clear();
    if (same_content(next, current_)) return;
    current_ = std::move(next);
    queue_save(current_);
}

void AnnotationSession::sync_from_document() {
    if (!attached_ || !writable_ || loading_) return;
    annotation::ImageAnnotation next = current_;
    next.objects.clear();
    std::map<int, cv::Mat> waiting;  // objects whose full-resolution mask is being converted
    for (const editing::SegmentObject& object : document_.objects()) {
        annotation::AnnotatedObject a;
        a.id = object.id;
        a.label = object.name.toStdString();
        std::optional<annotation::Rle> full = full_mask(object);
        if (full) {
            a.mask = std::move(*full);
        } else {
            waiting[object.id] = object.mask;
        }
        a.bbox = annotation::rle_bbox(a.mask);
        a.prompts = annotating::to_object_prompts(object.prompts.points, object.prompts.box,
                                                  work_size_, full_size_);
        a.model = object.segmenter.toStdString();
        a.predicted_iou = object.iou;
        a.verified = object.verified;
        a.hidden = !object.visible;
        next.next_object_id = std::max(next.next_object_id, a.id + 1);
        next.objects.push_back(std::move(a));
    }
    // Done is a person's decision and stays; otherwise the objects say where the image stands.
    if (next.status != ImageStatus::Done) {
        next.status = next.objects.empty() ? ImageStatus::NotStarted : ImageStatus::InProgress;
    }
    if (!waiting.empty()) {
        // Saved when the conversions are done (their callback syncs again) or at a flush.
        unconverted_ = std::move(next);
        unconverted_work_ = std::move(waiting);
        return;
    }
    unconverted_.reset();
    unconverted_work_.clear();
    if (same_content(next, current_)) return;
    current_ = std::move(next);
    queue_save(current_);
}

void AnnotationSession::mark_done() {
    if (!attached_ || !writable_) return;
    finish_conversions();  // an object accepted a moment ago is part of what is done
    current_.status = ImageStatus::Done;
    queue_save(current_);
}

void AnnotationSession::queue_save(const annotation::ImageAnnotation& annotation) {
    pending_[annotation.image_file] = annotation;
    latest_[annotation.image_file] = annotation;
    statuses_[annotation.image_file] = annotation.status;  // shown at once; the write follows
    emit statuses_changed();
    pump_saves();
}

void AnnotationSession::pump_saves() {
    if (in_flight_ || pending_.empty() || !project_) return;
    auto node = pending_.extract(pending_.begin());
    const std::string file = node.key();
    in_flight_ = true;
    in_flight_file_ = file;
    auto project = project_;
    in_flight_future_ =
        engine_.run_task<Ok>(engine::Priority::Interactive,
                             [project, annotation = std::move(node.mapped())]() -> Status {
                                 return project->save(annotation);
                             });
    engine::when_finished(this, in_flight_future_, [this, file](Status saved) {
        in_flight_ = false;
        if (!saved) emit save_failed(qstr(saved.message()));
        if (!pending_.count(file)) latest_.erase(file);
        pump_saves();
    });
}

void AnnotationSession::flush() {
    finish_conversions();
    if (in_flight_) {
        in_flight_future_.waitForFinished();
        // A write that did not happen (the pool shutting down, a full disk) is tried once more
        // here, from the newest snapshot, unless a newer one is queued anyway.
        const bool written = in_flight_future_.resultCount() && in_flight_future_.result().ok();
        if (!written && !pending_.count(in_flight_file_) && latest_.count(in_flight_file_)) {
            pending_[in_flight_file_] = latest_[in_flight_file_];
        }
    }
    for (auto& [file, annotation] : pending_) {
        if (Status saved = project_->save(annotation); !saved)
            emit save_failed(qstr(saved.message()));
    }
    pending_.clear();
    latest_.clear();
}

}  // namespace ps::annotating
