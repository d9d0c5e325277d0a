// Live metrics dock: latency and memory charts, percentiles, cache, device and timing labels.
#pragma once

#include <QDockWidget>
#include <QElapsedTimer>

#include <array>

#include "engine/metrics.h"

class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QPushButton;
class QTimer;
class QValueAxis;

namespace ps::ui {

// Shows what the engine's Metrics report; it only reads Metrics' public API. Values the engine
// marks unavailable (unset optionals) are shown as unavailable, never as 0.
class MetricsDock : public QDockWidget {
    Q_OBJECT
  public:
    // Repaints are at least this far apart however often changed() fires (10 Hz at most).
    static constexpr int kMinRefreshIntervalMs = 100;
    // Memory keeps moving while the engine is idle; one sample a second is enough for a trend.
    static constexpr int kPollIntervalMs = 1000;
    // Charts keep this much history, matching the engine's percentile window.
    static constexpr double kHistorySeconds = 5 * 60.0;

    explicit MetricsDock(engine::Metrics& metrics, QWidget* parent = nullptr);

    // Takes a snapshot and repaints now, bypassing the throttle (tests, "refresh" actions).
    void refresh();
    // How many repaints have happened since construction.
    int refresh_count() const { return refresh_count_; }

  signals:
    void clear_cache_requested();
    void refreshed();

  private:
    enum MemorySeries { Rss, VramAllocated, VramReserved, VramPeak, kMemorySeriesCount };
    // A chart over time: x in seconds since the dock started, shared by both charts.
    struct TimeChart {
        QChart* chart = nullptr;
        QValueAxis* x_axis = nullptr;
        QValueAxis* y_axis = nullptr;
        QLabel* legend = nullptr;  // wrapped names under the chart
    };

    void request_refresh();  // throttled entry point for changed() and the poll timer
    void build_ui();
    void update_latency(const engine::MetricsSnapshot& snapshot, double now_s);
    void update_memory(const engine::MetricsSnapshot& snapshot, double now_s);
    void update_labels(const engine::MetricsSnapshot& snapshot);
    static QWidget* build_time_chart(TimeChart& time_chart, const QString& title,
                                     const QString& object_name, QWidget* parent);
    static QLineSeries* add_series(const TimeChart& time_chart, const QString& name);

    engine::Metrics& metrics_;
    QElapsedTimer since_start_;    // x axis origin: seconds since the dock started
    QElapsedTimer since_refresh_;  // throttle: time of the last repaint
    QTimer* deferred_refresh_ = nullptr;
    QTimer* poll_ = nullptr;
    int refresh_count_ = 0;

    TimeChart latency_chart_;
    std::array<QLineSeries*, engine::kStageCount> latency_series_{};  // created on first sample
    std::array<long long, engine::kStageCount> plotted_count_{};      // stage count last plotted
    std::array<QLabel*, engine::kStageCount> stage_labels_{};

    TimeChart memory_chart_;
    std::array<QLineSeries*, kMemorySeriesCount> memory_series_{};  // created when available

    QLabel* rss_label_ = nullptr;
    QLabel* vram_label_ = nullptr;
    QLabel* allocator_label_ = nullptr;
    std::array<QLabel*, 3> cache_labels_{};  // host, device, disk
    QPushButton* clear_cache_ = nullptr;
    QLabel* device_label_ = nullptr;
    QLabel* model_load_label_ = nullptr;
    QLabel* first_request_label_ = nullptr;
};

}  // namespace ps::ui
