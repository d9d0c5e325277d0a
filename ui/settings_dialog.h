// The settings dialog: edits AppSettings and offers the checkpoints found in the model folders.
#pragma once

#include <QDialog>
#include <QString>
#include <QStringList>

#include <vector>

#include "engine/checkpoint_discovery.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace ps::engine {
class Engine;
}

namespace ps::ui {

class AppSettings;

class SettingsDialog : public QDialog {
    Q_OBJECT
  public:
    // Table columns, in order.
    enum Column { ColumnName, ColumnFamily, ColumnArch, ColumnSize, ColumnDetails, ColumnCount };

    // Reads `settings` now; OK writes the edited values back, Cancel leaves them untouched.
    // With an engine the checkpoint scan runs on its pool (Engine::run_task), so opening the
    // dialog never waits on the disk; without one it runs here, before the constructor returns.
    explicit SettingsDialog(AppSettings& settings, QWidget* parent = nullptr,
                            engine::Engine* engine = nullptr);

    // Default model folders plus the folders of the configured and browsed checkpoints.
    std::vector<QString> scanned_folders() const;
    const std::vector<engine::DiscoveredCheckpoint>& checkpoints() const { return checkpoints_; }
    bool scanning() const { return scanning_; }
    // Rescans scanned_folders(); discovery_finished() follows (at once without an engine).
    void rescan();

    void accept() override;

  signals:
    void discovery_finished();

  private:
    QWidget* build_engine_group();
    QWidget* build_models_group();
    void load_from_settings();
    void show_checkpoints(std::vector<engine::DiscoveredCheckpoint> found);
    void use_row(int row);
    void browse();
    void show_error(const QString& message);

    AppSettings& settings_;
    engine::Engine* engine_ = nullptr;
    std::vector<engine::DiscoveredCheckpoint> checkpoints_;
    QStringList browsed_files_;       // picked with Browse…; scanned even outside the folders
    bool accept_after_scan_ = false;  // OK waits for the scan of a typed, unseen path
    QString select_after_scan_;       // a browsed file, chosen once the scan lists it
    bool scanning_ = false;
    unsigned scan_generation_ = 0;  // only the newest scan's result is shown

    QComboBox* device_ = nullptr;
    QComboBox* precision_ = nullptr;
    QSpinBox* cache_mb_ = nullptr;
    QSpinBox* workers_ = nullptr;
    QSpinBox* downscale_px_ = nullptr;
    QCheckBox* warm_loading_ = nullptr;
    QCheckBox* hover_preview_ = nullptr;
    QLineEdit* sam_path_ = nullptr;
    QLineEdit* background_path_ = nullptr;
    QTableWidget* table_ = nullptr;
    QLabel* scan_status_ = nullptr;
    QLabel* error_ = nullptr;
    QDialogButtonBox* buttons_ = nullptr;
};

}  // namespace ps::ui
