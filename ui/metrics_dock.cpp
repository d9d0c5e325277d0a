// Live metrics dock: turns Metrics snapshots into charts and labels, throttled to 10 Hz.
#include "metrics_dock.h"

#include <QChart>
#include <QChartView>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QScrollArea>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include "chart_legend.h"
#include "display_names.h"

#include <algorithm>
#include <cmath>

namespace ps::ui {

namespace {

using engine::CacheTierStats;
using engine::MetricsSnapshot;
using engine::Stage;
using engine::StageStats;

constexpr double kBytesPerMb = 1024.0 * 1024.0;
// Warning colour for a fallback: readable on light and dark palettes alike.
const char* const kWarningStyle = "color: #c26a00; font-weight: bold;";

// Whole numbers above 10 read best; below that one decimal keeps small stages distinguishable.
QString format_number(double value) {
    return QString::number(value, 'f', std::abs(value) < 10.0 ? 1 : 0);
}

QString format_ms(double ms) {
    return format_number(ms) + " ms";
}

QString format_mb(long long bytes) {
    return format_number(static_cast<double>(bytes) / kBytesPerMb);
}

QString optional_ms(const std::optional<double>& ms) {
    return ms ? format_ms(*ms) : QStringLiteral("—");
}

QString stage_text(Stage stage, const StageStats& stats) {
    const QString name = display_name(engine::stage_name(stage));
    const QString runs =
        stats.count == 1 ? QStringLiteral("1 run") : QStringLiteral("%1 runs").arg(stats.count);
    // The percentiles cover the rolling window only; an idle stage's window empties after five
    // minutes and the engine then reports zeros, which are not measurements.
    if (stats.max_ms <= 0)
        return QStringLiteral("%1 p50 — · p95 — · max — (none in the last 5 min) · %2")
            .arg(name, runs);
    return QStringLiteral("%1 p50 %2 · p95 %3 · max %4 · %5")
        .arg(name, format_ms(stats.p50_ms), format_ms(stats.p95_ms), format_ms(stats.max_ms), runs);
}

QString cache_text(const QString& tier, const CacheTierStats& cache) {
    const QString size = cache.budget_bytes > 0
                             ? QStringLiteral("%1 of %2 MB")
                                   .arg(format_mb(cache.bytes), format_mb(cache.budget_bytes))
                             : QStringLiteral("%1 MB (no budget)").arg(format_mb(cache.bytes));
    return QStringLiteral("%1: %2 hits · %3 misses · %4 entries · %5")
        .arg(tier)
        .arg(cache.hits)
        .arg(cache.misses)
        .arg(cache.entries)
        .arg(size);
}

QString unavailable(const std::string& reason) {
    return reason.empty() ? QStringLiteral("unavailable")
                          : QStringLiteral("unavailable (%1)").arg(QString::fromStdString(reason));
}

// Drops points older than the history window; returns the largest y that remains.
double trim_and_max(QLineSeries* series, double cutoff_s) {
    if (!series) return 0;
    const QList<QPointF> points = series->points();
    qsizetype old = 0;
    while (old < points.size() && points[old].x() < cutoff_s) ++old;
    if (old > 0) series->removePoints(0, static_cast<int>(old));
    double max_y = 0;
    for (qsizetype i = old; i < points.size(); ++i) max_y = std::max(max_y, points[i].y());
    return max_y;
}

void set_ranges(QValueAxis* x_axis, QValueAxis* y_axis, double now_s, double max_y) {
    const double from_s = std::max(0.0, now_s - MetricsDock::kHistorySeconds);
    const double to_s = std::max(now_s, from_s + 10.0);
    x_axis->setRange(from_s, to_s);
    // Ticks on whole seconds, 10 s or minutes, however the window has grown or scrolled.
    const double span_s = to_s - from_s;
    x_axis->setTickType(QValueAxis::TicksDynamic);
    x_axis->setTickAnchor(0);
    x_axis->setTickInterval(span_s <= 12 ? 2 : span_s <= 90 ? 10 : 60);
    // Headroom so the highest point is not drawn on the frame; whole-number ticks from 0 to at
    // least 5 keep an empty chart's labels sane.
    set_whole_number_range(y_axis, max_y * 1.1);
}

QLabel* new_label(const QString& object_name, QWidget* parent) {
    auto* label = new QLabel(QStringLiteral("—"), parent);
    label->setObjectName(object_name);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QLabel* add_row(QFormLayout* form, const QString& caption, const QString& object_name,
                QWidget* parent) {
    QLabel* label = new_label(object_name, parent);
    form->addRow(caption, label);
    return label;
}

}  // namespace

MetricsDock::MetricsDock(engine::Metrics& metrics, QWidget* parent)
    : QDockWidget(tr("Metrics"), parent), metrics_(metrics) {
    setObjectName("metrics_dock");
    since_start_.start();
    build_ui();

    deferred_refresh_ = new QTimer(this);
    deferred_refresh_->setSingleShot(true);
    // A coarse timer may fire up to 5% early, which would break the 100 ms minimum spacing.
    deferred_refresh_->setTimerType(Qt::PreciseTimer);
    connect(deferred_refresh_, &QTimer::timeout, this, &MetricsDock::refresh);

    poll_ = new QTimer(this);
    poll_->setInterval(kPollIntervalMs);
    connect(poll_, &QTimer::timeout, this, &MetricsDock::request_refresh);
    poll_->start();

    // The engine throttles changed() already, but it is configurable (and may be set to 0), so
    // the dock enforces its own repaint rate rather than trusting the sender.
    connect(&metrics_, &engine::Metrics::changed, this, &MetricsDock::request_refresh);
    refresh();
}

void MetricsDock::build_ui() {
    auto* content = new QWidget;
    auto* layout = new QVBoxLayout(content);

    layout->addWidget(
        build_time_chart(latency_chart_, tr("Latency (ms)"), "latency_chart", content));
    for (int i = 0; i < engine::kStageCount; ++i) {
        const QString name = QString::fromLatin1(engine::stage_name(static_cast<Stage>(i)));
        stage_labels_[i] = new_label("p50_" + name, content);
        stage_labels_[i]->hide();  // shown once the stage has run
        layout->addWidget(stage_labels_[i]);
    }

    layout->addWidget(build_time_chart(memory_chart_, tr("Memory (MB)"), "memory_chart", content));
    auto* memory_form = new QFormLayout;
    rss_label_ = add_row(memory_form, tr("Process:"), "rss_label", content);
    vram_label_ = add_row(memory_form, tr("VRAM used / total:"), "vram_label", content);
    allocator_label_ =
        add_row(memory_form, tr("LibTorch allocator:"), "vram_allocator_label", content);
    layout->addLayout(memory_form);

    auto* cache_box = new QGroupBox(tr("Embedding cache"), content);
    auto* cache_layout = new QVBoxLayout(cache_box);
    const char* const tier_names[] = {"host", "device", "disk"};
    for (int i = 0; i < 3; ++i) {
        cache_labels_[i] = new_label(QStringLiteral("cache_%1").arg(tier_names[i]), cache_box);
        cache_layout->addWidget(cache_labels_[i]);
    }
    clear_cache_ = new QPushButton(tr("Clear cache"), cache_box);
    clear_cache_->setObjectName("clear_cache");
    connect(clear_cache_, &QPushButton::clicked, this, &MetricsDock::clear_cache_requested);
    cache_layout->addWidget(clear_cache_, 0, Qt::AlignLeft);
    layout->addWidget(cache_box);

    auto* model_form = new QFormLayout;
    device_label_ = add_row(model_form, tr("Device:"), "device_label", content);
    model_load_label_ = add_row(model_form, tr("Model load:"), "model_load_label", content);
    first_request_label_ =
        add_row(model_form, tr("First request (cold):"), "first_request_label", content);
    layout->addLayout(model_form);
    layout->addStretch(1);

    auto* scroll = new QScrollArea(this);
    scroll->setObjectName("metrics_scroll");
    scroll->setWidgetResizable(true);
    scroll->setWidget(content);
    setWidget(scroll);
}

void MetricsDock::request_refresh() {
    if (deferred_refresh_->isActive()) return;  // the pending repaint will read the newest state
    // Nanoseconds, rounded up: a millisecond count truncates and would allow 99.x ms gaps.
    const qint64 min_ns = qint64{kMinRefreshIntervalMs} * 1000000;
    const qint64 since_ns = since_refresh_.isValid() ? since_refresh_.nsecsElapsed() : min_ns;
    if (since_ns >= min_ns) {
        refresh();
        return;
    }
    deferred_refresh_->start(static_cast<int>((min_ns - since_ns + 999999) / 1000000));
}

void MetricsDock::refresh() {
    deferred_refresh_->stop();  // this repaint covers whatever it was waiting for
    since_refresh_.start();
    const MetricsSnapshot snapshot = metrics_.snapshot();
    const double now_s = static_cast<double>(since_start_.nsecsElapsed()) / 1e9;
    update_latency(snapshot, now_s);
    update_memory(snapshot, now_s);
    update_labels(snapshot);
    ++refresh_count_;
    emit refreshed();
}

QWidget* MetricsDock::build_time_chart(TimeChart& time_chart, const QString& title,
                                       const QString& object_name, QWidget* parent) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->hide();  // the wrapped legend below replaces it
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* x_axis = new QValueAxis(chart);
    x_axis->setTitleText(tr("s"));
    x_axis->setLabelFormat("%.0f");
    auto* y_axis = new QValueAxis(chart);
    y_axis->setLabelFormat("%.0f");
    chart->addAxis(x_axis, Qt::AlignBottom);
    chart->addAxis(y_axis, Qt::AlignLeft);
    auto* host = new QWidget(parent);
    auto* layout = new QVBoxLayout(host);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* view = new QChartView(chart, host);  // the view owns the chart
    view->setObjectName(object_name);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(180);
    layout->addWidget(view);
    QLabel* legend = new_chart_legend(object_name + "_legend", host);
    legend->hide();  // until a series exists
    layout->addWidget(legend);
    time_chart = {chart, x_axis, y_axis, legend};
    set_whole_number_range(y_axis, 0);
    return host;
}

QLineSeries* MetricsDock::add_series(const TimeChart& time_chart, const QString& name) {
    auto* series = new QLineSeries;
    series->setName(name);
    time_chart.chart->addSeries(series);  // the chart takes ownership
    series->attachAxis(time_chart.x_axis);
    series->attachAxis(time_chart.y_axis);
    show_chart_legend(time_chart.legend, *time_chart.chart);
    return series;
}

void MetricsDock::update_latency(const MetricsSnapshot& snapshot, double now_s) {
    double max_ms = 0;
    for (int i = 0; i < engine::kStageCount; ++i) {
        const StageStats& stats = snapshot.stages[i];
        // A point per repaint in which the stage ran: the snapshot carries only the last sample,
        // so runs that finished between two repaints share one point.
        if (stats.count != plotted_count_[i] && stats.count > 0) {
            if (!latency_series_[i])
                latency_series_[i] = add_series(
                    latency_chart_, display_name(engine::stage_name(static_cast<Stage>(i))));
            latency_series_[i]->append(now_s, stats.last_ms);
            plotted_count_[i] = stats.count;
        }
        max_ms = std::max(max_ms, trim_and_max(latency_series_[i], now_s - kHistorySeconds));
    }
    set_ranges(latency_chart_.x_axis, latency_chart_.y_axis, now_s, max_ms);
}

void MetricsDock::update_memory(const MetricsSnapshot& snapshot, double now_s) {
    const engine::MemoryStats& memory = snapshot.memory;
    const std::array<std::optional<long long>, kMemorySeriesCount> values = {
        memory.rss_bytes, memory.vram_allocated_bytes, memory.vram_reserved_bytes,
        memory.vram_peak_bytes};
    const std::array<QString, kMemorySeriesCount> names = {tr("process RSS"), tr("VRAM allocated"),
                                                           tr("VRAM reserved"), tr("VRAM peak")};
    double max_mb = 0;
    for (int i = 0; i < kMemorySeriesCount; ++i) {
        // Unavailable values add no point (a gap), never a zero the user would read as "free".
        if (values[i]) {
            if (!memory_series_[i]) memory_series_[i] = add_series(memory_chart_, names[i]);
            memory_series_[i]->append(now_s, static_cast<double>(*values[i]) / kBytesPerMb);
        }
        max_mb = std::max(max_mb, trim_and_max(memory_series_[i], now_s - kHistorySeconds));
    }
    set_ranges(memory_chart_.x_axis, memory_chart_.y_axis, now_s, max_mb);
}

void MetricsDock::update_labels(const MetricsSnapshot& snapshot) {
    for (int i = 0; i < engine::kStageCount; ++i) {
        const StageStats& stats = snapshot.stages[i];
        stage_labels_[i]->setVisible(stats.count > 0);
        if (stats.count > 0) stage_labels_[i]->setText(stage_text(static_cast<Stage>(i), stats));
    }

    const engine::MemoryStats& memory = snapshot.memory;
    QString process = memory.rss_bytes ? tr("RSS %1 MB").arg(format_mb(*memory.rss_bytes))
                                       : tr("RSS unavailable");
    process += memory.cpu_percent ? tr(" · CPU %1 %").arg(format_number(*memory.cpu_percent))
                                  : tr(" · CPU unavailable");
    rss_label_->setText(process);

    if (memory.gpu_used_bytes && memory.gpu_total_bytes)
        vram_label_->setText(
            tr("%1 / %2 MB (whole device)")
                .arg(format_mb(*memory.gpu_used_bytes), format_mb(*memory.gpu_total_bytes)));
    else
        vram_label_->setText(unavailable(memory.vram_unavailable_reason));

    if (memory.vram_allocated_bytes && memory.vram_reserved_bytes && memory.vram_peak_bytes)
        allocator_label_->setText(tr("allocated %1 · reserved %2 · peak %3 MB")
                                      .arg(format_mb(*memory.vram_allocated_bytes),
                                           format_mb(*memory.vram_reserved_bytes),
                                           format_mb(*memory.vram_peak_bytes)));
    else
        allocator_label_->setText(unavailable(memory.vram_unavailable_reason));

    cache_labels_[0]->setText(cache_text(tr("host"), snapshot.host_cache));
    cache_labels_[1]->setText(cache_text(tr("device"), snapshot.device_cache));
    cache_labels_[2]->setText(cache_text(tr("disk"), snapshot.disk_cache));

    QString device =
        snapshot.device.empty() ? QStringLiteral("—") : QString::fromStdString(snapshot.device);
    if (!snapshot.precision.empty()) device += " · " + QString::fromStdString(snapshot.precision);
    // A fallback is never silent: the reason is spelled out in a warning colour.
    const bool fell_back = !snapshot.fallback_reason.empty();
    if (fell_back)
        device += tr(" — fallback: %1").arg(QString::fromStdString(snapshot.fallback_reason));
    device_label_->setText(device);
    // Only on a change: setting a style sheet re-polishes the widget, too costly at 10 Hz.
    const QString style = fell_back ? QString::fromLatin1(kWarningStyle) : QString();
    if (device_label_->styleSheet() != style) device_label_->setStyleSheet(style);

    model_load_label_->setText(optional_ms(snapshot.model_load_ms));
    first_request_label_->setText(optional_ms(snapshot.first_request_ms));
}

}  // namespace ps::ui
