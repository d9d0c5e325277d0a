// Metrics: per-stage rolling latency statistics, throttled change signal, JSON export.
#include "engine/metrics.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaObject>
#include <QtGlobal>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/gpu_memory.h"
#include "engine/process_stats.h"

namespace ps::engine {

const char* stage_name(Stage stage) {
    switch (stage) {
        case Stage::Decode:
            return "decode";
        case Stage::Preprocess:
            return "preprocess";
        case Stage::Encode:
            return "encode";
        case Stage::MaskDecode:
            return "mask_decode";
        case Stage::Postprocess:
            return "postprocess";
        case Stage::Effect:
            return "effect";
        case Stage::Export:
            return "export";
        case Stage::Matte:
            return "matte";
        case Stage::TrackFrame:
            return "track_frame";
    }
    return "unknown";
}

namespace {

// Nearest-rank percentile: the smallest sample such that at least `percent`% of the samples are
// less than or equal to it, i.e. sorted[ceil(percent/100 * n) - 1]. It always returns a sample
// that was measured (no interpolation), so 1..100 ms gives p50 = 50 and p95 = 95 exactly.
// Integer arithmetic keeps ceil() away from floating-point error (0.95 * 100 != 95).
double nearest_rank(const std::vector<double>& sorted, int percent) {
    const long long n = static_cast<long long>(sorted.size());
    const long long rank = std::max(1LL, (percent * n + 99) / 100);
    return sorted[static_cast<size_t>(rank - 1)];
}

MemoryStats sample_memory_with(ProcessStatsSampler& process_sampler) {
    MemoryStats stats;
    const ProcessSample process = process_sampler.sample();
    stats.rss_bytes = process.rss_bytes;
    stats.cpu_percent = process.cpu_percent;
    sample_gpu_memory(stats);
    return stats;
}

}  // namespace

Metrics::Metrics(std::shared_ptr<Clock> clock, QObject* parent)
    : QObject(parent),
      clock_(std::move(clock)),
      process_sampler_(std::make_unique<ProcessStatsSampler>()),
      signal_timer_(new QTimer(this)) {
    Q_ASSERT(clock_);
    // Prime the CPU sampler: the first snapshot then reports usage since the engine started
    // (a CLI run takes exactly one snapshot, at exit).
    process_sampler_->sample();
    signal_timer_->setSingleShot(true);
    // A coarse timer may fire up to 5% early, which would break "at most one per interval".
    signal_timer_->setTimerType(Qt::PreciseTimer);
    connect(signal_timer_, &QTimer::timeout, this, &Metrics::emit_changed);
}

Metrics::~Metrics() = default;

void Metrics::record(Stage stage, double ms) {
    bool slow = false;
    double threshold_ms = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Timestamp under the lock so each stage's window stays ordered by time.
        const double now_ms = clock_->now_ms();
        StageRecord& record = stages_[static_cast<int>(stage)];
        ++record.count;
        record.last_ms = ms;
        record.total_ms += ms;
        record.window.push_back({now_ms, ms});
        while (static_cast<int>(record.window.size()) > kWindowSamples ||
               record.window.front().timestamp_ms < now_ms - kWindowMs)
            record.window.pop_front();
        threshold_ms = slow_threshold_ms_;
        slow = ms > threshold_ms;
        if (slow) ++state_.slow_operations;
    }
    if (slow)  // logged outside the lock: a message handler may be slow or call back into us
        qWarning("slow operation: stage %s took %.1f ms (threshold %.0f ms)", stage_name(stage), ms,
                 threshold_ms);
    schedule_signal();
}

void Metrics::set_slow_threshold_ms(double ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    slow_threshold_ms_ = ms;
}

double Metrics::slow_threshold_ms() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return slow_threshold_ms_;
}

void Metrics::set_cache_stats(const CacheTierStats& host, const CacheTierStats& device,
                              const CacheTierStats& disk) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        state_.host_cache = host;
        state_.device_cache = device;
        state_.disk_cache = disk;
    }
    schedule_signal();
}

void Metrics::set_device(const std::string& device, const std::string& precision,
                         const std::string& fallback_reason) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        state_.device = device;
        state_.precision = precision;
        state_.fallback_reason = fallback_reason;
    }
    schedule_signal();
}

void Metrics::set_model_load_ms(double ms) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        state_.model_load_ms = ms;
    }
    schedule_signal();
}

void Metrics::note_first_request_ms(double ms) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (state_.first_request_ms) return;  // later requests are warm, not the cold one
        state_.first_request_ms = ms;
    }
    schedule_signal();
}

StageStats Metrics::stage_stats(const StageRecord& record, double now_ms) {
    StageStats stats;
    stats.count = record.count;
    stats.last_ms = record.last_ms;
    stats.total_ms = record.total_ms;
    // record() prunes by age only when a stage is recorded; an idle stage's window ages here.
    std::vector<double> durations;
    double oldest_ms = 0, newest_ms = 0;
    for (const Sample& sample : record.window) {
        if (sample.timestamp_ms < now_ms - kWindowMs) continue;
        if (durations.empty()) oldest_ms = sample.timestamp_ms;
        newest_ms = sample.timestamp_ms;
        durations.push_back(sample.duration_ms);
    }
    if (durations.empty()) return stats;
    std::sort(durations.begin(), durations.end());
    stats.p50_ms = nearest_rank(durations, 50);
    stats.p95_ms = nearest_rank(durations, 95);
    stats.max_ms = durations.back();
    // Samples per second of window span, as specified for the GUI's rate display.
    const double span_ms = newest_ms - oldest_ms;
    if (durations.size() >= 2 && span_ms > 0)
        stats.throughput_per_s = static_cast<double>(durations.size()) / span_ms * 1000.0;
    return stats;
}

MetricsSnapshot Metrics::snapshot() const {
    // Sampled before taking the lock: /proc and NVML reads must not stall record().
    MemoryStats memory = sample_memory_with(*process_sampler_);
    std::lock_guard<std::mutex> lock(mutex_);
    MetricsSnapshot snapshot = state_;
    snapshot.taken_at_ms = clock_->now_ms();
    for (int i = 0; i < kStageCount; ++i)
        snapshot.stages[i] = stage_stats(stages_[i], snapshot.taken_at_ms);
    snapshot.memory = std::move(memory);
    return snapshot;
}

// changed() carries no data (receivers call snapshot()), so one emission after the latest
// change covers every change before it. signal_pending_ is cleared just before emitting: a change
// that finds it set is therefore covered by the emission still to come, and a change after the
// clear schedules a new one, so the last change is never lost.
void Metrics::schedule_signal() {
    if (signal_pending_.exchange(true)) return;
    // QTimer may only be started from its own thread; record() may run on a worker.
    QMetaObject::invokeMethod(
        this, [this] { arm_signal_timer(); }, Qt::QueuedConnection);
}

void Metrics::arm_signal_timer() {
    const double interval_ms = min_signal_interval_ms_.load();
    double wait_ms = 0;
    if (since_last_signal_.isValid())
        wait_ms = std::max(0.0, interval_ms - static_cast<double>(since_last_signal_.elapsed()));
    signal_timer_->start(static_cast<int>(std::ceil(wait_ms)));
}

void Metrics::emit_changed() {
    signal_pending_.store(false);
    since_last_signal_.start();
    emit changed();
}

namespace {

QJsonValue optional_json(const std::optional<double>& value) {
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

QJsonValue optional_json(const std::optional<long long>& value) {
    return value ? QJsonValue(static_cast<qint64>(*value)) : QJsonValue(QJsonValue::Null);
}

QJsonObject cache_json(const CacheTierStats& cache) {
    return {{"hits", cache.hits},           {"misses", cache.misses},
            {"evictions", cache.evictions}, {"entries", cache.entries},
            {"bytes", cache.bytes},         {"budget_bytes", cache.budget_bytes}};
}

QJsonObject stage_json(const StageStats& stage) {
    return {{"count", stage.count},
            {"last_ms", stage.last_ms},
            {"total_ms", stage.total_ms},
            {"p50_ms", stage.p50_ms},
            {"p95_ms", stage.p95_ms},
            {"max_ms", stage.max_ms},
            {"throughput_per_s", stage.throughput_per_s}};
}

QJsonObject memory_json(const MemoryStats& memory) {
    return {{"rss_bytes", optional_json(memory.rss_bytes)},
            {"cpu_percent", optional_json(memory.cpu_percent)},
            {"vram_allocated_bytes", optional_json(memory.vram_allocated_bytes)},
            {"vram_reserved_bytes", optional_json(memory.vram_reserved_bytes)},
            {"vram_peak_bytes", optional_json(memory.vram_peak_bytes)},
            {"gpu_used_bytes", optional_json(memory.gpu_used_bytes)},
            {"gpu_total_bytes", optional_json(memory.gpu_total_bytes)},
            {"vram_unavailable_reason", QString::fromStdString(memory.vram_unavailable_reason)}};
}

}  // namespace

std::string Metrics::to_json(const MetricsSnapshot& snapshot) const {
    QJsonObject stages;
    for (int i = 0; i < kStageCount; ++i)
        stages.insert(QLatin1String(stage_name(static_cast<Stage>(i))),
                      stage_json(snapshot.stages[i]));
    const QJsonObject root{
        {"taken_at_ms", snapshot.taken_at_ms},
        {"stages", stages},
        {"cache", QJsonObject{{"host", cache_json(snapshot.host_cache)},
                              {"device", cache_json(snapshot.device_cache)},
                              {"disk", cache_json(snapshot.disk_cache)}}},
        {"memory", memory_json(snapshot.memory)},
        {"device", QString::fromStdString(snapshot.device)},
        {"precision", QString::fromStdString(snapshot.precision)},
        {"fallback_reason", QString::fromStdString(snapshot.fallback_reason)},
        {"model_load_ms", optional_json(snapshot.model_load_ms)},
        {"first_request_ms", optional_json(snapshot.first_request_ms)},
        {"slow_operations", snapshot.slow_operations},
    };
    return QJsonDocument(root).toJson(QJsonDocument::Indented).toStdString();
}

MemoryStats sample_memory() {
    // A process-wide sampler: the free function has no object to keep the previous CPU reading
    // in, and successive calls must yield the CPU percent between them.
    static ProcessStatsSampler process_sampler;
    return sample_memory_with(process_sampler);
}

StageTimer::StageTimer(Metrics& metrics, Stage stage)
    : metrics_(metrics), stage_(stage), start_ms_(metrics.clock().now_ms()) {}

StageTimer::~StageTimer() {
    metrics_.record(stage_, elapsed_ms());
}

double StageTimer::elapsed_ms() const {
    return metrics_.clock().now_ms() - start_ms_;
}

}  // namespace ps::engine
