// Live engine metrics: per-stage latency, throughput, cache, process and GPU memory.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/clock.h"

namespace ps::engine {

class ProcessStatsSampler;

// Matte: one background-removal network call (Engine::matte), preprocess to matte.
// TrackFrame: one frame of a SAM 2 propagation (TrackingSession::propagate), from the previous
// frame's masks (or the start) to this frame's masks on the host.
enum class Stage {
    Decode,
    Preprocess,
    Encode,
    MaskDecode,
    Postprocess,
    Effect,
    Export,
    Matte,
    TrackFrame
};
constexpr int kStageCount = 9;
const char* stage_name(Stage stage);  // "decode", "preprocess", "encode", "mask_decode", ...

struct StageStats {
    long long count = 0;  // since start
    double last_ms = 0, total_ms = 0;
    // Over the rolling window (the last kWindowSamples samples within kWindowMs):
    double p50_ms = 0, p95_ms = 0, max_ms = 0;
    double throughput_per_s = 0;  // samples per second over the window; 0 with < 2 samples
};

struct CacheTierStats {
    long long hits = 0, misses = 0, evictions = 0, entries = 0, bytes = 0, budget_bytes = 0;
};

// Optional fields are "unavailable" (not measured here), never a fake zero.
struct MemoryStats {
    std::optional<long long> rss_bytes;
    std::optional<double> cpu_percent;  // process CPU over the last sampling interval, 100 = 1 core
    std::optional<long long> vram_allocated_bytes, vram_reserved_bytes, vram_peak_bytes;
    std::optional<long long> gpu_used_bytes, gpu_total_bytes;  // NVML, whole device
    std::string vram_unavailable_reason;  // e.g. "CPU-only LibTorch", "NVML not found"
};

struct MetricsSnapshot {
    double taken_at_ms = 0;
    std::array<StageStats, kStageCount> stages{};
    CacheTierStats host_cache, device_cache, disk_cache;
    MemoryStats memory;
    std::string device;           // device actually used, e.g. "cuda:0" or "cpu"
    std::string precision;        // "fp32", "bf16", ...
    std::string fallback_reason;  // empty unless a requested device/precision was not used
    std::optional<double> model_load_ms, first_request_ms;
    long long slow_operations = 0;

    const StageStats& stage(Stage s) const { return stages[static_cast<int>(s)]; }
};

// Thread-safe recorder. record() may be called from any thread; changed() is emitted on the
// thread that owns this object, at most every min_signal_interval_ms (10 Hz by default).
class Metrics : public QObject {
    Q_OBJECT
  public:
    static constexpr int kWindowSamples = 512;
    static constexpr double kWindowMs = 5 * 60 * 1000.0;

    explicit Metrics(std::shared_ptr<Clock> clock = steady_clock(), QObject* parent = nullptr);
    ~Metrics() override;

    void record(Stage stage, double ms);
    // Operations slower than this are logged (qWarning) with their stage and counted; 2000 ms
    // until set (the engine sets EngineSettings::slow_ms, PHOTOSYNTH_SLOW_MS).
    void set_slow_threshold_ms(double ms);
    double slow_threshold_ms() const;

    void set_cache_stats(const CacheTierStats& host, const CacheTierStats& device,
                         const CacheTierStats& disk);
    void set_device(const std::string& device, const std::string& precision,
                    const std::string& fallback_reason);
    void set_model_load_ms(double ms);
    void note_first_request_ms(double ms);  // only the first call counts

    MetricsSnapshot snapshot() const;                            // includes a fresh memory sample
    std::string to_json(const MetricsSnapshot& snapshot) const;  // for --metrics FILE.json

    double min_signal_interval_ms() const { return min_signal_interval_ms_.load(); }
    void set_min_signal_interval_ms(double ms) { min_signal_interval_ms_.store(ms); }

    const Clock& clock() const { return *clock_; }

  signals:
    void changed();

  private:
    struct Sample {
        double timestamp_ms, duration_ms;  // timestamp from clock_, taken when recorded
    };
    struct StageRecord {
        long long count = 0;
        double last_ms = 0, total_ms = 0;
        std::deque<Sample> window;  // oldest first; at most kWindowSamples, pruned by age too
    };

    void schedule_signal();   // any thread
    void arm_signal_timer();  // owner thread
    void emit_changed();      // owner thread
    static StageStats stage_stats(const StageRecord& record, double now_ms);

    std::shared_ptr<Clock> clock_;
    std::atomic<double> min_signal_interval_ms_{100.0};

    mutable std::mutex mutex_;  // guards everything below up to the throttle state
    std::array<StageRecord, kStageCount> stages_;
    MetricsSnapshot state_;  // every non-stage, non-memory field of the next snapshot
    double slow_threshold_ms_ = 2000.0;
    std::unique_ptr<ProcessStatsSampler> process_sampler_;  // own CPU-percent interval

    // Throttle: real time (QTimer), never the injected clock, so a FakeClock cannot stall it.
    QTimer* signal_timer_;                     // child of this; lives on the owner's thread
    QElapsedTimer since_last_signal_;          // owner thread only
    std::atomic<bool> signal_pending_{false};  // a changed() is scheduled and not yet emitted
};

// Samples process RSS and CPU (/proc/self) and GPU memory (LibTorch's CUDA allocator when built
// with CUDA; NVML loaded with dlopen at run time). Missing sources leave fields unset.
MemoryStats sample_memory();

// RAII: records the elapsed time of a scope into a stage.
class StageTimer {
  public:
    StageTimer(Metrics& metrics, Stage stage);
    ~StageTimer();
    double elapsed_ms() const;

  private:
    Metrics& metrics_;
    Stage stage_;
    double start_ms_;
};

}  // namespace ps::engine
