// Reads engine settings from the environment, each with a clear warning when invalid. The only
// file of core that reads PHOTOSYNTH_* variables, with io::ImageReadOptions::from_environment
// (which the annotation layer, below the engine, also needs).
#include "engine/engine_settings.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <algorithm>
#include <climits>
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

// A whole number in [min, max] (surrounding blanks allowed); else the target is kept, warned.
template <typename T>
void read_whole_number(const char* name, T& target, long long min, long long max,
                       const char* unit) {
    if (!qEnvironmentVariableIsSet(name)) return;
    const QByteArray raw = qgetenv(name).trimmed();
    bool ok = false;
    const long long value = raw.toLongLong(&ok);
    if (!ok || value < min || value > max) {
        qWarning("%s=\"%s\" ignored: expected a whole number of %s in [%lld, %lld]", name,
                 raw.constData(), unit, min, max);
        return;
    }
    target = static_cast<T>(value);
}

// The comparison switches: on unless the variable is "0".
bool switched_on(const char* name) {
    return qgetenv(name) != "0";
}

// What is off by default: on only when set to 1.
bool opted_in(const char* name) {
    return qgetenv(name) == "1";
}

}  // namespace

EngineSettings EngineSettings::from_environment() {
    EngineSettings s;
    s.max_workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    read_number("PHOTOSYNTH_MAX_WORKERS", s.max_workers, 1, 256);
    long long cache_mb = -1;
    read_whole_number("PHOTOSYNTH_EMBED_CACHE_MB", cache_mb, 0, 1 << 24, "MiB");
    if (cache_mb >= 0) s.host_cache_bytes = cache_mb * 1024 * 1024;
    s.downscale_max = image::kDefaultDownscaleMax;
    read_whole_number("PHOTOSYNTH_DOWNSCALE_MAX", s.downscale_max, 0, INT_MAX, "pixels (0 = off)");
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
    s.cpu_huge_pages = switched_on("PHOTOSYNTH_CPU_HUGE_PAGES");
    s.gpu.cuda_graphs = switched_on("PHOTOSYNTH_CUDA_GRAPHS");
    s.gpu.cudnn_benchmark = switched_on("PHOTOSYNTH_CUDNN_BENCHMARK");
    s.gpu.vit_kernels = switched_on("PHOTOSYNTH_VIT_KERNELS");
    s.gpu.cudnn_conv_relu = switched_on("PHOTOSYNTH_CUDNN_CONV_RELU");
    s.gpu.channels_last = switched_on("PHOTOSYNTH_CHANNELS_LAST");
    s.gpu.encode_ahead = switched_on("PHOTOSYNTH_ENCODE_AHEAD");
    s.gpu.encode_ahead_first = opted_in("PHOTOSYNTH_ENCODE_AHEAD_FIRST");
    s.gpu.gemm_epilogues = switched_on("PHOTOSYNTH_GEMM_EPILOGUES");
    s.gpu.split_attention = switched_on("PHOTOSYNTH_SPLIT_ATTENTION");
    s.gpu.swin_attention = switched_on("PHOTOSYNTH_SWIN_ATTENTION");
    s.gpu.layer_norm_kernel = switched_on("PHOTOSYNTH_LAYER_NORM_KERNEL");
    s.gpu.conv_norm_kernels = opted_in("PHOTOSYNTH_CONV_NORM_KERNELS");
    s.gpu.hiera_window_attention = switched_on("PHOTOSYNTH_HIERA_WINDOW_ATTENTION");
    s.gpu.attention_merge_kernel = switched_on("PHOTOSYNTH_ATTENTION_MERGE_KERNEL");
    s.gpu.deform_shared_sampling = opted_in("PHOTOSYNTH_DEFORM_SHARED_SAMPLING");
    s.image_read = io::ImageReadOptions::from_environment();
    return s;
}

}  // namespace ps::engine
