// Video export dialog: the exports of core/video/track_export.h into one staged folder.
#include "video_export_dialog.h"

#include "engine/engine.h"
#include "engine/future_watch.h"
#include "io/staged_folder.h"
#include "video/frame_source.h"
#include "video/track_export.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include <mutex>

#include "video_store.h"

namespace ps::ui {

// Where the export posts its progress from the pool: cleared when the dialog goes.
struct VideoExportDialog::Relay {
    std::mutex mutex;
    VideoExportDialog* target = nullptr;
    void post(const QString& step, long long done, long long total) {
        const std::lock_guard lock(mutex);
        if (!target) return;
        QMetaObject::invokeMethod(
            target,
            [dialog = target, step, done, total] {
                dialog->progress_->setRange(0, int(std::max(1LL, total)));
                dialog->progress_->setValue(int(done));
                dialog->status_->setText(tr("%1: %2 of %3").arg(step).arg(done).arg(total));
            },
            Qt::QueuedConnection);
    }
};

VideoExportDialog::VideoExportDialog(engine::Engine& engine, std::shared_ptr<VideoStore> store,
                                     const QString& video_path, QWidget* parent)
    : QDialog(parent),
      engine_(engine),
      store_(std::move(store)),
      video_path_(video_path),
      relay_(std::make_shared<Relay>()) {
    relay_->target = this;
    setObjectName("video_export_dialog");
    setWindowTitle(tr("Export Video Annotations"));
    setWindowModality(Qt::WindowModal);
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    auto* folder_row = new QHBoxLayout;
    folder_ = new QLineEdit(this);
    folder_->setObjectName("video_export_folder");
    folder_->setPlaceholderText(tr("Output folder"));
    auto* browse = new QPushButton(tr("Browse…"), this);
    folder_row->addWidget(folder_, 1);
    folder_row->addWidget(browse);
    form->addRow(tr("Folder"), folder_row);
    layout->addLayout(form);
    masks_ = new QCheckBox(tr("PNG masks per object and frame (masks/<object>/<frame>.png)"), this);
    masks_->setObjectName("video_export_masks");
    vis_ = new QCheckBox(tr("YouTube-VIS JSON with RLE (vis.json)"), this);
    vis_->setObjectName("video_export_vis");
    cutouts_ = new QCheckBox(tr("Cut-out frames, RGBA PNG (cutout/<frame>.png)"), this);
    cutouts_->setObjectName("video_export_cutouts");
    for (QCheckBox* box : {masks_, vis_, cutouts_}) {
        box->setChecked(true);
        layout->addWidget(box);
    }
    progress_ = new QProgressBar(this);
    progress_->setValue(0);
    layout->addWidget(progress_);
    status_ = new QLabel(this);
    status_->setObjectName("video_export_status");
    status_->setWordWrap(true);
    layout->addWidget(status_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    export_button_ = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    export_button_->setObjectName("video_export_button");
    layout->addWidget(buttons);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Export To"));
        if (!folder.isEmpty()) folder_->setText(folder);
    });
    // The Export button starts; it must not close the dialog (AcceptRole would).
    disconnect(buttons, &QDialogButtonBox::accepted, this, nullptr);
    connect(export_button_, &QPushButton::clicked, this, &VideoExportDialog::start_export);
    connect(buttons, &QDialogButtonBox::rejected, this, &VideoExportDialog::reject);
}

VideoExportDialog::~VideoExportDialog() {
    const std::lock_guard lock(relay_->mutex);
    relay_->target = nullptr;
}

QString VideoExportDialog::status_text() const {
    return status_->text();
}

void VideoExportDialog::reject() {
    if (!running_) QDialog::reject();
}

void VideoExportDialog::set_running(bool running, const QString& status) {
    running_ = running;
    for (QWidget* widget : {static_cast<QWidget*>(folder_), static_cast<QWidget*>(masks_),
                            static_cast<QWidget*>(vis_), static_cast<QWidget*>(cutouts_),
                            static_cast<QWidget*>(export_button_)})
        widget->setEnabled(!running);
    status_->setText(status);
}

void VideoExportDialog::start_export() {
    if (running_) return;
    const QString folder = folder_->text().trimmed();
    if (folder.isEmpty()) return status_->setText(tr("Choose an output folder first."));
    std::vector<video::TrackExportKind> kinds;
    if (masks_->isChecked()) kinds.push_back(video::TrackExportKind::Masks);
    if (vis_->isChecked()) kinds.push_back(video::TrackExportKind::YouTubeVis);
    if (cutouts_->isChecked()) kinds.push_back(video::TrackExportKind::Cutout);
    if (kinds.empty()) return status_->setText(tr("Choose at least one export."));
    set_running(true, tr("Exporting…"));
    using Summary = long long;
    auto body = [store = store_, video = video_path_.toStdString(),
                 target = QFileInfo(folder).absoluteFilePath().toStdString(), kinds,
                 relay = relay_]() -> Result<Summary> {
        auto staged = io::StagedFolder::begin(target);
        if (!staged) return staged.error();
        const video::TrackStore& tracks = store->track_store();
        long long files = 0;
        for (video::TrackExportKind kind : kinds) {
            const std::string name = video::track_export_name(kind);
            const std::string path = staged->path() + "/" + name;
            auto progress = [&relay, name](long long done, long long total) {
                relay->post(QString::fromStdString(name), done, total);
            };
            Result<video::TrackExportSummary> made = Error{};
            if (kind == video::TrackExportKind::Masks) {
                made = video::export_track_masks(tracks, path, progress);
            } else if (kind == video::TrackExportKind::YouTubeVis) {
                made = video::export_track_youtube_vis(tracks, path, {}, progress);
            } else {
                // Its own reader: the window's and the tracker's stay on their threads.
                auto source = video::FrameSource::open(video);
                if (!source) return staged->failed(source.error());
                made = video::export_track_cutouts(
                    tracks, [&](long long index) { return (*source)->frame(index); }, path, {},
                    progress);
            }
            if (!made) return staged->failed(made.error());
            files += made->files;
        }
        if (auto done = staged->commit(); !done) return done.error();
        return files;
    };
    engine::when_finished(
        this, engine_.run_task<Summary>(engine::Priority::Batch, body),
        [this, folder](Result<Summary> files) {
            const QString message =
                files ? tr("Exported %n file(s) to %1", nullptr, int(*files)).arg(folder)
                      : tr("Export failed, nothing written: %1")
                            .arg(QString::fromStdString(files.message()));
            set_running(false, message);
            emit export_finished(bool(files), message);
        });
}

}  // namespace ps::ui
