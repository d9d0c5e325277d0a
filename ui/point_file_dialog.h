// "Apply point file…": batch point prompts from the GUI. Runs batch::annotate_batch with the
// project and the loaded SAM model on the engine's pool, with progress, cancel and a summary
// that lists the images that failed. Window-modal: nothing else writes the project meanwhile.
#pragma once

#include <QDialog>

#include <atomic>
#include <memory>
#include <string>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ps::batch {
struct BatchProgress;
}
namespace ps::engine {
class Engine;
}

namespace ps::annotating {
class AnnotationSession;
}

namespace ps::ui {

class PointFileDialog : public QDialog {
    Q_OBJECT
  public:
    // `model_id`: a loaded SAM model (the batch needs one); empty shows why it cannot run.
    PointFileDialog(engine::Engine& engine, annotating::AnnotationSession& session,
                    std::string model_id, const QString& model_name, QWidget* parent = nullptr);
    ~PointFileDialog() override;  // cancels a run still going

    void start();   // the Run button
    void cancel();  // the Cancel button
    bool running() const { return running_; }
    QString summary_text() const;

  signals:
    void progress_changed(int done, int total);
    // After every run that started (also a cancelled one): the project may have new objects.
    void run_finished(bool ok, const QString& summary);

  protected:
    void reject() override;  // Esc / Close: cancel first, close when the run has stopped

  private:
    void on_progress(const batch::BatchProgress& progress);
    void set_running(bool running);

    engine::Engine& engine_;
    annotating::AnnotationSession& session_;
    std::string model_id_;
    QLineEdit* points_path_ = nullptr;
    QLineEdit* input_dir_ = nullptr;
    QSpinBox* jobs_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* current_ = nullptr;
    QPlainTextEdit* summary_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    std::shared_ptr<std::atomic<bool>> cancel_flag_;
    bool running_ = false;
    bool close_when_stopped_ = false;
};

}  // namespace ps::ui
