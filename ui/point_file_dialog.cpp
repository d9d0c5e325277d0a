// Point-file dialog: one annotate_batch call on the engine's pool, progress posted back.
#include "point_file_dialog.h"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "annotating/annotation_session.h"
#include "batch/batch_annotator.h"
#include "engine/engine.h"
#include "engine/future_watch.h"
#include "path_field.h"

namespace ps::ui {
namespace {

QString summary_of(const batch::BatchSummary& s) {
    QStringList lines;
    lines << QObject::tr("%1 images annotated, %2 objects; %3 already annotated (skipped).")
                 .arg(s.images_annotated)
                 .arg(s.objects)
                 .arg(s.images_skipped_done);
    if (s.images_annotated > 0) {
        lines << QObject::tr("%1 ms per image, %2 ms per object.")
                     .arg(s.ms_per_image, 0, 'f', 0)
                     .arg(s.ms_per_object, 0, 'f', 0);
    }
    if (s.cancelled) {
        lines << QObject::tr("Cancelled: %1 images not reached; run again to resume.")
                     .arg(s.images_not_reached);
    }
    if (!s.labels_added.empty()) {
        QStringList labels;
        for (const std::string& label : s.labels_added) labels << QString::fromStdString(label);
        lines << QObject::tr("New labels: %1.").arg(labels.join(", "));
    }
    for (const std::string& aside : s.set_aside) lines << QString::fromStdString(aside);
    if (!s.failures.empty()) {
        lines << QObject::tr("%n image(s) failed:", nullptr, int(s.failures.size()));
        for (const std::string& failure : s.failures)
            lines << "  " + QString::fromStdString(failure);
    }
    return lines.join("\n");
}

}  // namespace

PointFileDialog::PointFileDialog(engine::Engine& engine, annotating::AnnotationSession& session,
                                 std::string model_id, const QString& model_name, QWidget* parent)
    : QDialog(parent), engine_(engine), session_(session), model_id_(std::move(model_id)) {
    setObjectName("point_file_dialog");
    setWindowTitle(tr("Apply Point File"));
    resize(560, 420);
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    points_path_ = new QLineEdit(this);
    points_path_->setObjectName("points_path");
    form->addRow(tr("Point file"), path_field(points_path_, this, [this] {
                     return QFileDialog::getOpenFileName(this, tr("Point File"), session_.folder(),
                                                         tr("JSON (*.json);;All files (*)"));
                 }));
    const auto project = session_.project();
    input_dir_ =
        new QLineEdit(project ? QString::fromStdString(project->image_root()) : QString(), this);
    input_dir_->setObjectName("points_input_dir");
    form->addRow(tr("Images"), path_field(input_dir_, this, [this] {
                     return QFileDialog::getExistingDirectory(this, tr("Image Folder"),
                                                              input_dir_->text());
                 }));
    jobs_ = new QSpinBox(this);
    jobs_->setObjectName("points_jobs");
    jobs_->setRange(1, 16);
    jobs_->setValue(2);
    jobs_->setToolTip(tr("Images in flight: the decodes of one overlap the encode of the next"));
    form->addRow(tr("Images in flight"), jobs_);
    form->addRow(
        tr("Model"),
        new QLabel(model_id_.empty() ? tr("none — load SAM weights first (Models ▸ Settings)")
                                     : model_name,
                   this));
    layout->addLayout(form);
    progress_ = new QProgressBar(this);
    progress_->setObjectName("points_progress");
    progress_->setRange(0, 1);
    progress_->setValue(0);
    layout->addWidget(progress_);
    current_ = new QLabel(this);
    layout->addWidget(current_);
    summary_ = new QPlainTextEdit(this);
    summary_->setObjectName("points_summary");
    summary_->setReadOnly(true);
    layout->addWidget(summary_, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    run_ = buttons->addButton(tr("Run"), QDialogButtonBox::ActionRole);
    run_->setObjectName("points_run");
    cancel_ = buttons->addButton(tr("Cancel Run"), QDialogButtonBox::ActionRole);
    cancel_->setObjectName("points_cancel");
    connect(buttons, &QDialogButtonBox::rejected, this, &PointFileDialog::reject);
    connect(run_, &QPushButton::clicked, this, &PointFileDialog::start);
    connect(cancel_, &QPushButton::clicked, this, &PointFileDialog::cancel);
    layout->addWidget(buttons);
    set_running(false);
    run_->setEnabled(!model_id_.empty() && project);
}

PointFileDialog::~PointFileDialog() {
    // The run holds the engine's pool otherwise; it stops between images.
    if (cancel_flag_) cancel_flag_->store(true);
}

QString PointFileDialog::summary_text() const {
    return summary_->toPlainText();
}

void PointFileDialog::set_running(bool running) {
    running_ = running;
    run_->setEnabled(!running && !model_id_.empty());
    cancel_->setEnabled(running);
    points_path_->setEnabled(!running);
    input_dir_->setEnabled(!running);
    jobs_->setEnabled(!running);
}

void PointFileDialog::start() {
    if (running_ || model_id_.empty() || !session_.project()) return;
    auto points = batch::read_point_file(points_path_->text().trimmed().toStdString());
    if (!points) {
        summary_->setPlainText(QString::fromStdString(points.message()));
        return;
    }
    session_.flush();  // the batch decides what to skip from the files on disk
    auto project = std::make_shared<annotation::Project>(*session_.project());
    cancel_flag_ = std::make_shared<std::atomic<bool>>(false);
    set_running(true);
    progress_->setRange(0, int(points->images.size()));
    progress_->setValue(0);
    summary_->setPlainText(tr("Running…"));

    // Progress goes through the application object and the QPointer is tested on the GUI
    // thread: testing it on the worker, then posting to `this`, races with the dialog's deletion.
    QPointer<PointFileDialog> guard(this);
    batch::BatchOptions options;
    options.jobs = jobs_->value();
    options.on_progress = [guard](const batch::BatchProgress& progress) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [guard, progress] {
                if (guard) guard->on_progress(progress);
            },
            Qt::QueuedConnection);
    };
    auto future = batch::start_batch(engine_, model_id_, input_dir_->text().trimmed().toStdString(),
                                     std::move(*points), project, options, cancel_flag_);
    engine::when_finished(this, future, [this](Result<batch::BatchSummary> summary) {
        set_running(false);
        const QString text =
            summary ? summary_of(*summary) : QString::fromStdString(summary.message());
        summary_->setPlainText(text);
        current_->clear();
        const bool ok = summary && summary->failures.empty() && !summary->cancelled;
        emit run_finished(ok, text);
        if (close_when_stopped_) QDialog::reject();
    });
}

void PointFileDialog::cancel() {
    if (!running_ || !cancel_flag_) return;
    cancel_flag_->store(true);
    current_->setText(tr("Cancelling after the images in flight…"));
}

void PointFileDialog::reject() {
    if (!running_) return QDialog::reject();
    close_when_stopped_ = true;
    cancel();
}

void PointFileDialog::on_progress(const batch::BatchProgress& progress) {
    progress_->setRange(0, std::max(progress.total, 1));
    progress_->setValue(progress.done);
    current_->setText(tr("%1 / %2 · %3")
                          .arg(progress.done)
                          .arg(progress.total)
                          .arg(QString::fromStdString(progress.current)));
    if (progress.outcome == batch::ImageOutcome::Failed) {
        summary_->appendPlainText(
            QString::fromStdString(progress.current + ": " + progress.detail));
    }
    emit progress_changed(progress.done, progress.total);
}

}  // namespace ps::ui
