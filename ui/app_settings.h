// The app's one settings class: every persisted preference, read and written through QSettings.
#pragma once

#include <QByteArray>
#include <QColor>
#include <QSettings>
#include <QString>
#include <QStringList>

#include <memory>

#include "common/result.h"
#include "engine/engine_settings.h"
#include "models/sam/sam_model.h"

namespace ps::ui {

class AppSettings {
  public:
    static constexpr int kMaxRecentFiles = 10;
    static constexpr int kMaxWorkers = 256;      // as PHOTOSYNTH_MAX_WORKERS accepts
    static constexpr int kMaxCacheMb = 1 << 24;  // as PHOTOSYNTH_EMBED_CACHE_MB accepts
    static constexpr int kMaxDownscalePx = 1 << 16;

    // The user's settings (organisation and application "Photosynth", native format).
    AppSettings();
    // Tests: an existing QSettings, not owned; it must outlive this object.
    explicit AppSettings(QSettings* settings);
    // Tests and portable setups: an INI file at `ini_path`.
    explicit AppSettings(const QString& ini_path);

    AppSettings(const AppSettings&) = delete;
    AppSettings& operator=(const AppSettings&) = delete;

    // Checkpoints per role. Empty = none chosen.
    QString sam_checkpoint() const;
    QString background_checkpoint() const;
    // An empty path clears the role; any other path must name an existing file.
    Status set_sam_checkpoint(const QString& path);
    Status set_background_checkpoint(const QString& path);
    static Status check_checkpoint_path(const QString& path);

    runtime::Device device() const;        // stored text that does not parse reads as Auto
    runtime::Precision precision() const;  // likewise Fp32
    void set_device(runtime::Device device);
    void set_precision(runtime::Precision precision);

    int cache_budget_mb() const;            // 0 = automatic (from free memory)
    int worker_count() const;               // 0 = automatic (one per core)
    int downscale_limit_px() const;         // long side of the interactive copy; 0 = off
    Status set_cache_budget_mb(int mb);     // [0, kMaxCacheMb]
    Status set_worker_count(int workers);   // [0, kMaxWorkers]
    Status set_downscale_limit_px(int px);  // [0, kMaxDownscalePx]

    bool warm_loading() const;
    bool hover_preview() const;
    void set_warm_loading(bool on);
    void set_hover_preview(bool on);

    // The main window's geometry (size, position, maximised) and dock layout, as Qt saves them;
    // empty before the first quit.
    QByteArray window_geometry() const;
    QByteArray window_state() const;
    void set_window_layout(const QByteArray& geometry, const QByteArray& state);

    // Most recent first, at most kMaxRecentFiles, each file once (compared as absolute paths).
    QStringList recent_files() const;
    void add_recent_file(const QString& path);
    void remove_recent_file(const QString& path);
    void clear_recent_files();

    QColor overlay_color() const;
    double overlay_opacity() const;                 // [0, 1]
    Status set_overlay_color(const QColor& color);  // must be valid; alpha is ignored
    Status set_overlay_opacity(double opacity);     // [0, 1]

    // The engine's settings: EngineSettings::from_environment(), then the stored values for
    // every knob whose PHOTOSYNTH_* variable is unset. The environment wins because it is the
    // more specific, per-launch choice (a benchmark forcing PHOTOSYNTH_DEVICE=cpu, a test
    // capping the workers) and must not be undone by whatever the dialog saved last week.
    // "Automatic" stored values (0 workers, 0 MB) keep the engine's own defaults.
    engine::EngineSettings to_engine_settings() const;
    // Names of the PHOTOSYNTH_* variables now set that override stored settings (for the UI).
    static QStringList overriding_environment();

    void sync() { settings_->sync(); }
    QSettings& storage() { return *settings_; }

  private:
    std::unique_ptr<QSettings> owned_;
    QSettings* settings_ = nullptr;
};

// "auto", "cpu", "cuda": the stored and displayed names (sam::parse_device reads them back).
QString device_name(runtime::Device device);

}  // namespace ps::ui
