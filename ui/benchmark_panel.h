// The benchmark panel: picks models, device, precision, images and iterations, runs the engine
// benchmark on the engine's pool with progress and cancel, and shows, exports and keeps results.
#pragma once

#include <QDockWidget>
#include <QString>

#include <atomic>
#include <memory>
#include <vector>

class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace ps::engine {
class Engine;
struct BenchmarkReport;
}  // namespace ps::engine

namespace ps::ui {

class BenchmarkPanel : public QDockWidget {
    Q_OBJECT
  public:
    explicit BenchmarkPanel(engine::Engine& engine, QWidget* parent = nullptr);
    ~BenchmarkPanel() override;  // cancels a running benchmark

    void add_model(const QString& path);
    bool running() const { return running_; }
    // The report on screen (the newest run unless another was picked in the history), or null.
    const engine::BenchmarkReport* shown_report() const;
    // Atomic writes of the shown report; return an empty string on success, else the error.
    QString export_json(const QString& path) const;
    QString export_csv(const QString& path) const;

  signals:
    void finished(bool ok);
    void progress_changed(int done, int total);

  private:
    void build_ui();
    void start_run();
    void cancel_run();
    void on_progress(int done, int total);
    void set_running(bool running);
    void show_report(int history_index);
    void fill_table(const engine::BenchmarkReport& report);
    void fill_chart(const engine::BenchmarkReport& report);
    void export_with_dialog(bool json);

    engine::Engine& engine_;
    bool running_ = false;
    // Shared with the job: the panel may be gone before the worker reads it.
    std::shared_ptr<std::atomic<bool>> cancel_;
    std::vector<std::shared_ptr<const engine::BenchmarkReport>> history_;

    QListWidget* models_ = nullptr;
    QComboBox* device_ = nullptr;
    QComboBox* precision_ = nullptr;
    QSpinBox* width_ = nullptr;
    QSpinBox* height_ = nullptr;
    QLineEdit* images_dir_ = nullptr;
    QSpinBox* iterations_ = nullptr;
    QSpinBox* warmup_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_button_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QTableWidget* results_ = nullptr;
    QChartView* chart_ = nullptr;
    QLabel* chart_legend_ = nullptr;  // wrapped names under the chart
    QComboBox* history_box_ = nullptr;
    QPushButton* export_json_ = nullptr;
    QPushButton* export_csv_ = nullptr;
};

}  // namespace ps::ui
