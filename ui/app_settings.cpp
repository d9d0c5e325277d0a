// AppSettings: typed, validated access to the persisted preferences; the keys live only here.
#include "app_settings.h"

#include <QDir>
#include <QFileInfo>
#include <QtGlobal>

#include "image/downscale.h"

namespace ps::ui {
namespace {

// INI groups keep a hand-edited file readable: [models], [engine], [editing], [overlay].
const char* const kSamCheckpoint = "models/sam_checkpoint";
const char* const kBackgroundCheckpoint = "models/background_checkpoint";
const char* const kDevice = "engine/device";
const char* const kPrecision = "engine/precision";
const char* const kCacheMb = "engine/cache_budget_mb";
const char* const kWorkers = "engine/worker_count";
const char* const kDownscalePx = "engine/downscale_limit_px";
const char* const kWarmLoading = "engine/warm_loading";
const char* const kHoverPreview = "editing/hover_preview";
const char* const kRecentFiles = "editing/recent_files";
const char* const kOverlayColor = "overlay/color";
const char* const kOverlayOpacity = "overlay/opacity";
const char* const kWindowGeometry = "window/geometry";
const char* const kWindowState = "window/state";

const QColor kDefaultOverlayColor(30, 144, 255);  // dodger blue: visible on skin, sky and foliage
constexpr double kDefaultOverlayOpacity = 0.5;

// Environment variables EngineSettings::from_environment() reads for the knobs stored here.
const char* const kEnvDevice = "PHOTOSYNTH_DEVICE";
const char* const kEnvPrecision = "PHOTOSYNTH_PRECISION";
const char* const kEnvWorkers = "PHOTOSYNTH_MAX_WORKERS";
const char* const kEnvCacheMb = "PHOTOSYNTH_EMBED_CACHE_MB";
const char* const kEnvDownscale = "PHOTOSYNTH_DOWNSCALE_MAX";
const char* const kEnvWarm = "PHOTOSYNTH_WARM_MODEL";
const char* const kEnvModels = "PHOTOSYNTH_MODELS";

Error out_of_range(const char* what, double value, double min, double max) {
    return make_error(ErrorKind::InvalidArgument, QStringLiteral("%1 %2 is out of range [%3, %4]")
                                                      .arg(what)
                                                      .arg(value)
                                                      .arg(min)
                                                      .arg(max)
                                                      .toStdString());
}

QString normalized_path(const QString& path) {
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}

bool env_set(const char* name) {
    return !qEnvironmentVariableIsEmpty(name);
}

}  // namespace

QString device_name(runtime::Device device) {
    return QString::fromStdString(runtime::to_string(device));
}

AppSettings::AppSettings()
    : owned_(std::make_unique<QSettings>("Photosynth", "Photosynth")), settings_(owned_.get()) {}

AppSettings::AppSettings(QSettings* settings) : settings_(settings) {
    Q_ASSERT(settings != nullptr);
}

AppSettings::AppSettings(const QString& ini_path)
    : owned_(std::make_unique<QSettings>(ini_path, QSettings::IniFormat)),
      settings_(owned_.get()) {}

// ---- checkpoints ----------------------------------------------------------------------------

QString AppSettings::sam_checkpoint() const {
    return settings_->value(kSamCheckpoint).toString();
}

QString AppSettings::background_checkpoint() const {
    return settings_->value(kBackgroundCheckpoint).toString();
}

Status AppSettings::check_checkpoint_path(const QString& path) {
    if (path.isEmpty()) return Ok{};
    const QFileInfo info(path);
    if (!info.exists()) {
        return make_error(ErrorKind::Io, (path + ": no such file").toStdString());
    }
    if (!info.isFile() || !info.isReadable()) {
        return make_error(ErrorKind::Io, (path + ": not a readable file").toStdString());
    }
    return Ok{};
}

Status AppSettings::set_sam_checkpoint(const QString& path) {
    Status valid = check_checkpoint_path(path);
    if (valid) settings_->setValue(kSamCheckpoint, path.isEmpty() ? path : normalized_path(path));
    return valid;
}

Status AppSettings::set_background_checkpoint(const QString& path) {
    Status valid = check_checkpoint_path(path);
    if (valid) {
        settings_->setValue(kBackgroundCheckpoint, path.isEmpty() ? path : normalized_path(path));
    }
    return valid;
}

// ---- device and precision -------------------------------------------------------------------

runtime::Device AppSettings::device() const {
    const auto parsed =
        runtime::parse_device(settings_->value(kDevice, "auto").toString().toStdString());
    return parsed ? *parsed : runtime::Device::Auto;
}

runtime::Precision AppSettings::precision() const {
    const auto parsed =
        runtime::parse_precision(settings_->value(kPrecision, "fp32").toString().toStdString());
    return parsed ? *parsed : runtime::Precision::Fp32;
}

void AppSettings::set_device(runtime::Device device) {
    settings_->setValue(kDevice, device_name(device));
}

void AppSettings::set_precision(runtime::Precision precision) {
    settings_->setValue(kPrecision, QString::fromStdString(runtime::to_string(precision)));
}

// ---- numbers --------------------------------------------------------------------------------

namespace {
// A hand-edited value that is not a number in range reads as the default.
int read_int(const QSettings& settings, const char* key, int fallback, int min, int max) {
    bool ok = false;
    const int value = settings.value(key, fallback).toInt(&ok);
    return ok && value >= min && value <= max ? value : fallback;
}
}  // namespace

int AppSettings::cache_budget_mb() const {
    return read_int(*settings_, kCacheMb, 0, 0, kMaxCacheMb);
}

int AppSettings::worker_count() const {
    return read_int(*settings_, kWorkers, 0, 0, kMaxWorkers);
}

int AppSettings::downscale_limit_px() const {
    return read_int(*settings_, kDownscalePx, image::kDefaultDownscaleMax, 0, kMaxDownscalePx);
}

Status AppSettings::set_cache_budget_mb(int mb) {
    if (mb < 0 || mb > kMaxCacheMb) return out_of_range("cache budget (MB)", mb, 0, kMaxCacheMb);
    settings_->setValue(kCacheMb, mb);
    return Ok{};
}

Status AppSettings::set_worker_count(int workers) {
    if (workers < 0 || workers > kMaxWorkers) {
        return out_of_range("worker count", workers, 0, kMaxWorkers);
    }
    settings_->setValue(kWorkers, workers);
    return Ok{};
}

Status AppSettings::set_downscale_limit_px(int px) {
    if (px < 0 || px > kMaxDownscalePx) {
        return out_of_range("downscale limit (px)", px, 0, kMaxDownscalePx);
    }
    settings_->setValue(kDownscalePx, px);
    return Ok{};
}

// ---- switches -------------------------------------------------------------------------------

bool AppSettings::warm_loading() const {
    return settings_->value(kWarmLoading, false).toBool();
}

bool AppSettings::hover_preview() const {
    return settings_->value(kHoverPreview, true).toBool();
}

void AppSettings::set_warm_loading(bool on) {
    settings_->setValue(kWarmLoading, on);
}

void AppSettings::set_hover_preview(bool on) {
    settings_->setValue(kHoverPreview, on);
}

QByteArray AppSettings::window_geometry() const {
    return settings_->value(kWindowGeometry).toByteArray();
}
QByteArray AppSettings::window_state() const {
    return settings_->value(kWindowState).toByteArray();
}

void AppSettings::set_window_layout(const QByteArray& geometry, const QByteArray& state) {
    settings_->setValue(kWindowGeometry, geometry);
    settings_->setValue(kWindowState, state);
}

// ---- recent files ---------------------------------------------------------------------------

QStringList AppSettings::recent_files() const {
    QStringList files = settings_->value(kRecentFiles).toStringList();
    files.removeDuplicates();  // a hand-edited list may repeat; the invariant holds on reading too
    return files.mid(0, kMaxRecentFiles);
}

void AppSettings::add_recent_file(const QString& path) {
    if (path.isEmpty()) return;
    const QString normalized = normalized_path(path);
    QStringList files = recent_files();
    files.removeAll(normalized);
    files.prepend(normalized);
    settings_->setValue(kRecentFiles, files.mid(0, kMaxRecentFiles));
}

void AppSettings::remove_recent_file(const QString& path) {
    QStringList files = recent_files();
    files.removeAll(normalized_path(path));
    settings_->setValue(kRecentFiles, files);
}

void AppSettings::clear_recent_files() {
    settings_->remove(kRecentFiles);
}

// ---- overlay --------------------------------------------------------------------------------

QColor AppSettings::overlay_color() const {
    // Stored as "#rrggbb" text, readable in the INI file (a QColor variant is stored as binary).
    const QColor color = QColor::fromString(settings_->value(kOverlayColor).toString());
    return color.isValid() ? color : kDefaultOverlayColor;
}

double AppSettings::overlay_opacity() const {
    bool ok = false;
    const double value = settings_->value(kOverlayOpacity, kDefaultOverlayOpacity).toDouble(&ok);
    return ok && value >= 0.0 && value <= 1.0 ? value : kDefaultOverlayOpacity;
}

Status AppSettings::set_overlay_color(const QColor& color) {
    if (!color.isValid()) return make_error(ErrorKind::InvalidArgument, "invalid overlay colour");
    settings_->setValue(kOverlayColor, color.name(QColor::HexRgb));
    return Ok{};
}

Status AppSettings::set_overlay_opacity(double opacity) {
    if (!(opacity >= 0.0 && opacity <= 1.0)) {  // also rejects NaN
        return out_of_range("overlay opacity", opacity, 0, 1);
    }
    settings_->setValue(kOverlayOpacity, opacity);
    return Ok{};
}

// ---- engine ---------------------------------------------------------------------------------

engine::EngineSettings AppSettings::to_engine_settings() const {
    // A variable that is set wins even when from_environment() rejected its value (and warned):
    // the user asked for an override, and silently using the stored value instead would hide it.
    engine::EngineSettings s = engine::EngineSettings::from_environment();
    if (!env_set(kEnvDevice)) s.device = device();
    if (!env_set(kEnvPrecision)) s.precision = precision();
    if (!env_set(kEnvWorkers) && worker_count() > 0) s.max_workers = worker_count();
    // The budget is the host (RAM) cache's; the GPU cache keeps its size from free VRAM.
    if (!env_set(kEnvCacheMb) && cache_budget_mb() > 0) {
        s.host_cache_bytes = static_cast<long long>(cache_budget_mb()) * 1024 * 1024;
    }
    if (!env_set(kEnvDownscale)) s.downscale_max = downscale_limit_px();
    if (!env_set(kEnvWarm)) s.warm_models = warm_loading();
    // Only the SAM checkpoint: the engine's registry loads SAM models; background removal is
    // loaded by its own module when asked for.
    if (!env_set(kEnvModels) && !sam_checkpoint().isEmpty()) {
        s.models = {sam_checkpoint().toStdString()};
    }
    return s;
}

QStringList AppSettings::overriding_environment() {
    QStringList set;
    for (const char* name : {kEnvDevice, kEnvPrecision, kEnvWorkers, kEnvCacheMb, kEnvDownscale,
                             kEnvWarm, kEnvModels}) {
        if (env_set(name)) set << QString::fromLatin1(name) + "=" + qEnvironmentVariable(name);
    }
    return set;
}

}  // namespace ps::ui
