// The weights download dialog: the manifest as a table, a progress bar, errors shown verbatim.
#include "download_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "net/weights_downloader.h"

namespace ps::ui {
namespace {

enum Column { kName, kFamily, kSize, kState, kColumnCount };

// QProgressBar holds an int; checkpoints exceed 2^31 bytes, so it shows per mille instead.
constexpr int kProgressSteps = 1000;

}  // namespace

DownloadDialog::DownloadDialog(const QString& manifest_path, const QString& destination_folder,
                               QWidget* parent)
    : QDialog(parent),
      destination_folder_(destination_folder),
      downloader_(new net::WeightsDownloader(this)),
      table_(new QTableWidget(0, kColumnCount, this)),
      download_button_(new QPushButton(tr("Download"), this)),
      cancel_button_(new QPushButton(tr("Cancel download"), this)),
      progress_bar_(new QProgressBar(this)),
      status_label_(new QLabel(this)) {
    setWindowTitle(tr("Download official weights"));
    table_->setHorizontalHeaderLabels({tr("Model"), tr("Family"), tr("Size"), tr("In folder")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    progress_bar_->setRange(0, kProgressSteps);
    progress_bar_->setValue(0);
    // Errors are shown verbatim: they name the file and the cause, and users copy them.
    status_label_->setWordWrap(true);
    status_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* folder_label =
        new QLabel(tr("Saving to %1").arg(QDir::toNativeSeparators(destination_folder)), this);
    folder_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(download_button_);
    buttons->addWidget(cancel_button_);
    buttons->addStretch();
    auto* close_box = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table_);
    layout->addWidget(folder_label);
    layout->addLayout(buttons);
    layout->addWidget(progress_bar_);
    layout->addWidget(status_label_);
    layout->addWidget(close_box);

    connect(close_box, &QDialogButtonBox::rejected, this, &DownloadDialog::reject);
    connect(download_button_, &QPushButton::clicked, this, &DownloadDialog::start_download);
    connect(cancel_button_, &QPushButton::clicked, downloader_, &net::WeightsDownloader::cancel);
    connect(table_, &QTableWidget::itemSelectionChanged, this, &DownloadDialog::update_buttons);
    connect(downloader_, &net::WeightsDownloader::progress, this, &DownloadDialog::show_progress);
    connect(downloader_, &net::WeightsDownloader::finished, this, &DownloadDialog::show_result);

    auto manifest = net::load_model_manifest(manifest_path);
    if (manifest)
        entries_ = std::move(manifest).value();
    else
        status_label_->setText(QString::fromStdString(manifest.message()));
    fill_table();
    if (!entries_.empty()) table_->selectRow(0);
    update_buttons();
    resize(640, 420);
}

QString DownloadDialog::status_text() const {
    return status_label_->text();
}

QString DownloadDialog::destination_of(const net::ModelEntry& entry) const {
    return QDir(destination_folder_).filePath(entry.file);
}

const net::ModelEntry* DownloadDialog::selected_entry() const {
    const int row = table_->currentRow();
    if (row < 0 || row >= entry_count() || table_->selectedItems().isEmpty()) return nullptr;
    return &entries_[static_cast<size_t>(row)];
}

void DownloadDialog::fill_table() {
    const QLocale locale;
    table_->setRowCount(entry_count());
    for (int row = 0; row < entry_count(); ++row) {
        const net::ModelEntry& entry = entries_[static_cast<size_t>(row)];
        const QString destination = destination_of(entry);
        const QString partial = net::WeightsDownloader::partial_path(destination);
        QString state;
        if (QFileInfo::exists(destination))
            state = tr("present");
        else if (QFileInfo::exists(partial))
            state = tr("partial, %1").arg(locale.formattedDataSize(QFileInfo(partial).size()));
        const QString size =
            entry.size_bytes ? locale.formattedDataSize(*entry.size_bytes) : tr("unknown");
        const QStringList cells{entry.name, entry.family, size, state};
        // What the download is checked against, so that a user can check a copy of their own.
        const QString checksum = entry.sha256 ? "sha256 " + *entry.sha256
                                 : entry.md5  ? "md5 " + *entry.md5
                                              : tr("no checksum published");
        for (int column = 0; column < kColumnCount; ++column) {
            auto* item = new QTableWidgetItem(cells[column]);
            // Notes carry what the table cannot: approximate sizes, links that are web pages.
            item->setToolTip(entry.url + "\n" + checksum +
                             (entry.notes.isEmpty() ? "" : "\n\n" + entry.notes));
            table_->setItem(row, column, item);
        }
    }
    table_->resizeColumnsToContents();
}

void DownloadDialog::update_buttons() {
    const bool running = downloader_->is_running();
    const net::ModelEntry* entry = selected_entry();
    download_button_->setEnabled(!running && entry);
    cancel_button_->setEnabled(running);
    table_->setEnabled(!running);
    const bool resumable =
        entry && QFileInfo::exists(net::WeightsDownloader::partial_path(destination_of(*entry)));
    download_button_->setText(resumable ? tr("Resume") : tr("Download"));
}

void DownloadDialog::start_download() {
    const net::ModelEntry* entry = selected_entry();
    if (!entry || downloader_->is_running()) return;
    net::DownloadRequest request;
    request.url = QUrl(entry->url);
    request.destination_path = destination_of(*entry);
    request.expected_size_bytes = entry->size_bytes;
    request.expected_sha256 = entry->sha256;
    request.expected_md5 = entry->md5;
    const ps::Status started = downloader_->start(request);
    if (!started) {
        status_label_->setText(QString::fromStdString(started.message()));
        return;
    }
    active_destination_ = request.destination_path;
    progress_bar_->setRange(0, kProgressSteps);
    progress_bar_->setValue(0);
    status_label_->setText(tr("Downloading %1 …").arg(entry->url));
    update_buttons();
}

void DownloadDialog::show_progress(qint64 bytes_received, qint64 bytes_total) {
    const QLocale locale;
    if (bytes_total > 0) {
        progress_bar_->setRange(0, kProgressSteps);
        progress_bar_->setValue(static_cast<int>(bytes_received * kProgressSteps / bytes_total));
        progress_bar_->setFormat(tr("%1 of %2")
                                     .arg(locale.formattedDataSize(bytes_received),
                                          locale.formattedDataSize(bytes_total)));
    } else {
        progress_bar_->setRange(0, 0);  // unknown total: a busy indicator
        progress_bar_->setFormat(locale.formattedDataSize(bytes_received));
    }
}

void DownloadDialog::show_result(const ps::Status& status) {
    progress_bar_->setRange(0, kProgressSteps);
    if (status) {
        progress_bar_->setValue(kProgressSteps);
        status_label_->setText(
            tr("Saved %1\nsha256 %2")
                .arg(QDir::toNativeSeparators(active_destination_), downloader_->last_sha256()));
        emit downloaded(active_destination_);
    } else {
        status_label_->setText(QString::fromStdString(status.message()));
    }
    const int row = table_->currentRow();
    fill_table();  // "present" / "partial" changed
    if (row >= 0) table_->selectRow(row);
    update_buttons();
}

void DownloadDialog::reject() {
    downloader_->cancel();
    QDialog::reject();
}

}  // namespace ps::ui
