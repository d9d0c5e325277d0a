// "Download official weights": the manifest's checkpoints, one download at a time, resumable.
#pragma once

#include <QDialog>
#include <QString>

#include <vector>

#include "common/result.h"
#include "net/model_manifest.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace ps::net {
class WeightsDownloader;
}

namespace ps::ui {

class DownloadDialog : public QDialog {
    Q_OBJECT
  public:
    // `destination_folder` receives the files under their manifest names (the app passes the
    // user models folder). A manifest that fails to load is shown in the status line.
    DownloadDialog(const QString& manifest_path, const QString& destination_folder,
                   QWidget* parent = nullptr);

    int entry_count() const { return static_cast<int>(entries_.size()); }
    QString status_text() const;

  signals:
    void downloaded(const QString& path);  // saved and verified; the settings may rescan

  protected:
    void reject() override;  // closing cancels, which keeps the partial file for later

  private:
    void fill_table();
    void start_download();
    void show_progress(qint64 bytes_received, qint64 bytes_total);
    void show_result(const ps::Status& status);
    void update_buttons();
    QString destination_of(const net::ModelEntry& entry) const;
    const net::ModelEntry* selected_entry() const;

    std::vector<net::ModelEntry> entries_;
    QString destination_folder_;
    QString active_destination_;
    net::WeightsDownloader* downloader_ = nullptr;
    QTableWidget* table_ = nullptr;
    QPushButton* download_button_ = nullptr;
    QPushButton* cancel_button_ = nullptr;
    QProgressBar* progress_bar_ = nullptr;
    QLabel* status_label_ = nullptr;
};

}  // namespace ps::ui
