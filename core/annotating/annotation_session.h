// The annotation project behind the window: keeps the open image's ImageAnnotation in step with
// the EditDocument and saves it through Project after every accepted, edited or deleted object.
// Saves run on the engine's pool one at a time, in order, newest snapshot per image; flush()
// writes whatever is still queued (closing, exporting, tests). No widgets: the window's
// annotation controller drives it, and tests drive it with a bare EditDocument.
#pragma once

#include <QColor>
#include <QFuture>
#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <opencv2/core/mat.hpp>

#include "annotation/project.h"
#include "editing/edit_document.h"

namespace ps::engine {
class Engine;
}

namespace ps::annotating {

class AnnotationSession : public QObject {
    Q_OBJECT
  public:
    AnnotationSession(engine::Engine& engine, editing::EditDocument& document,
                      QObject* parent = nullptr);
    ~AnnotationSession() override;  // flush()

    // The label set a new project starts with (hotkeys Alt+1..: the digits alone choose
    // candidate masks).
    static annotation::LabelSet default_labels();

    // Opens (creating with default_labels() if new) in the background; project_opened or
    // project_failed follows. reload() re-reads the same project (after a batch or an import).
    void open_project(const QString& folder);
    void reload();
    bool active() const { return project_ != nullptr; }
    QString folder() const;
    std::shared_ptr<const annotation::Project> project() const { return project_; }
    const annotation::LabelSet& labels() const;
    Status set_labels(const annotation::LabelSet& labels);  // saved at once
    QColor label_colour(const QString& label) const;

    QStringList image_paths() const;  // absolute, in the project's order
    // The project's name for an image path; empty when the image is not in the project.
    std::string image_file_for(const QString& path) const;
    annotation::ImageStatus status(const std::string& image_file) const;
    const std::map<std::string, annotation::ImageStatus>& statuses() const { return statuses_; }
    // Corrupt annotation files found this session, by image: the message names the file.
    const std::map<std::string, QString>& problems() const { return problems_; }
    // The first image after `after` (wrapping around) that is not done; nullopt when all are.
    std::optional<std::string> next_unannotated(const std::string& after) const;

    // The window's image life cycle. prefetch() starts reading the image's annotation while the
    // engine decodes the image; detach_image() comes before the document is cleared, and
    // attach_image() loads the annotation into the document once the image is shown.
    void prefetch(const QString& path);
    void detach_image();
    void attach_image(const QString& path, cv::Size full_size, cv::Size work_size);
    bool image_attached() const { return attached_; }
    const std::string& current_image_file() const { return current_.image_file; }
    const annotation::ImageAnnotation& current_annotation() const { return current_; }

    void mark_done();  // the attached image, saved at once

    // Blocks until every queued save is written.
    void flush();
    bool saving() const { return in_flight_ || !pending_.empty() || !converting_.empty(); }

  signals:
    void project_opened(const QString& folder);
    void project_failed(const QString& message);
    void statuses_changed();
    void labels_changed();
    void problem_found(const QString& image_file, const QString& message);
    void save_failed(const QString& message);

  private:
    struct Opened;
    struct Prefetched;
    // The full-resolution RLE last saved for an object, with the work mask it came from: an
    // unchanged mask keeps its exact RLE, and a brush edit of a downscaled mask changes only
    // the pixels the stroke changed.
    struct SavedMask {
        cv::Mat work;
        annotation::Rle full;
    };

    void start_open(const QString& folder, bool fresh);
    void sync_from_document();
    // The object's full-resolution RLE when known; otherwise starts converting its work mask in
    // the background (sync_from_document runs again when it is done) and returns nothing.
    std::optional<annotation::Rle> full_mask(const editing::SegmentObject& object);
    void finish_conversions();  // waits for them (flush)
    void queue_save(const annotation::ImageAnnotation& annotation);
    void pump_saves();
    QFuture<Result<Prefetched>> load_job(const std::string& image_file) const;

    engine::Engine& engine_;
    editing::EditDocument& document_;
    // Copy-on-write: jobs hold the snapshot they started with; label edits swap in a new one.
    std::shared_ptr<const annotation::Project> project_;
    std::map<std::string, annotation::ImageStatus> statuses_;
    std::map<std::string, QString> problems_;
    int open_ticket_ = 0;  // a newer open_project() makes an older answer stale

    std::map<QString, QFuture<Result<Prefetched>>> prefetched_;
    bool attached_ = false;
    bool writable_ = false;  // false when the file on disk cannot be matched to the image
    bool loading_ = false;
    cv::Size full_size_, work_size_;
    annotation::ImageAnnotation current_;  // as last queued: an unchanged document saves nothing
    std::map<int, SavedMask> saved_masks_;
    // Work-to-full conversions in flight (a decode, an upscale and an encode at full resolution:
    // tens of ms on a large photo, so never on the GUI thread), per object id.
    struct Conversion {
        QFuture<Result<SavedMask>> job;
        cv::Mat work, saved_work;
        std::optional<annotation::Rle> saved_full;
        SavedMask finish(cv::Size full_size);  // the job's answer, or computed here if it failed
    };
    std::map<int, Conversion> converting_;
    // The newest document snapshot still waiting for converted masks (their objects hold an
    // empty RLE), with the work masks it needs: finish_conversions() completes and saves it
    // without reading the document, which may already be cleared by then.
    std::optional<annotation::ImageAnnotation> unconverted_;
    std::map<int, cv::Mat> unconverted_work_;
    int attach_generation_ = 0;  // a conversion for an image no longer attached is dropped

    // Newest unsaved snapshot per image; `latest_` also covers the one being written, so a
    // re-opened image reads its newest state, not a file about to be replaced.
    std::map<std::string, annotation::ImageAnnotation> pending_;
    std::map<std::string, annotation::ImageAnnotation> latest_;
    bool in_flight_ = false;
    std::string in_flight_file_;
    QFuture<Status> in_flight_future_;
};

}  // namespace ps::annotating
