// Reads engine settings from the environment, each with a clear warning when invalid.
#include "engine/engine_settings.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <thread>

#include "image/downscale.h"

namespace ps::engine {
namespace {

template <typename T>
void read_number(const char* name, T& target, double min, double max) {
    const QByteArray raw = qgetenv(name);
    if (raw.isEmpty()) return;
    bool ok = false;
    const double value = raw.toDouble(&ok);
    if (!ok || value < min || value > max) {
        qWarning("%s=%s ignored: expected a number in [%g, %g]", name, raw.constData(), min, max);
        return;
    }
    target = static_cast<T>(value);
}

}  // namespace

EngineSettings EngineSettings::from_environment() {
    EngineSettings s;
    s.max_workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    read_number("PHOTOSYNTH_MAX_WORKERS", s.max_workers, 1, 256);
    double cache_mb = 0;
    read_number("PHOTOSYNTH_EMBED_CACHE_MB", cache_mb, 0, 1 << 24);
    s.host_cache_bytes = static_cast<long long>(cache_mb * 1024 * 1024);
    s.downscale_max = image::downscale_max_from_environment();
    read_number("PHOTOSYNTH_SLOW_MS", s.slow_ms, 0, 1e9);
    if (const QByteArray device = qgetenv("PHOTOSYNTH_DEVICE"); !device.isEmpty()) {
        if (auto parsed = runtime::parse_device(device.toStdString())) {
            s.device = *parsed;
        } else {
            qWarning("PHOTOSYNTH_DEVICE ignored: %s", parsed.message().c_str());
        }
    }
    if (const QByteArray precision = qgetenv("PHOTOSYNTH_PRECISION"); !precision.isEmpty()) {
        if (auto parsed = runtime::parse_precision(precision.toStdString())) {
            s.precision = *parsed;
        } else {
            qWarning("PHOTOSYNTH_PRECISION ignored: %s", parsed.message().c_str());
        }
    }
    s.warm_models = qgetenv("PHOTOSYNTH_WARM_MODEL") == "1";
    for (const QString& path :
         QString::fromLocal8Bit(qgetenv("PHOTOSYNTH_MODELS")).split(':', Qt::SkipEmptyParts)) {
        s.models.push_back(path.toStdString());
    }
    return s;
}

}  // namespace ps::engine
