// Export Video Annotations…: per-frame PNG masks per object, YouTube-VIS JSON and RGBA cut-outs
// (core's video/track_export.h), written on the engine's pool with progress, all-or-nothing: the
// chosen exports go into a staging folder that becomes the output folder only when all are done.
#pragma once

#include <QDialog>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace ps::engine {
class Engine;
}

namespace ps::ui {

class VideoStore;

class VideoExportDialog : public QDialog {
    Q_OBJECT
  public:
    // `store` is shared: the export keeps it alive if the video is closed meanwhile; frames for
    // the cut-outs are read from `video_path` by the export's own reader.
    VideoExportDialog(engine::Engine& engine, std::shared_ptr<VideoStore> store,
                      const QString& video_path, QWidget* parent = nullptr);
    ~VideoExportDialog() override;

    void start_export();  // the Export button
    bool running() const { return running_; }
    QString status_text() const;

  signals:
    void export_finished(bool ok, const QString& message);

  protected:
    void reject() override;  // not while an export runs: it finishes or fails first

  private:
    struct Relay;
    void set_running(bool running, const QString& status);

    engine::Engine& engine_;
    std::shared_ptr<VideoStore> store_;
    QString video_path_;
    std::shared_ptr<Relay> relay_;
    QLineEdit* folder_ = nullptr;
    QCheckBox* masks_ = nullptr;
    QCheckBox* vis_ = nullptr;
    QCheckBox* cutouts_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QPushButton* export_button_ = nullptr;
    bool running_ = false;
};

}  // namespace ps::ui
