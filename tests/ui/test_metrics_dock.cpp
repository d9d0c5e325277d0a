// The metrics dock on the offscreen platform: labels, charts, unavailable values, throttling.
#include <QChart>
#include <QChartView>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QtTest>

#include <memory>

#include "engine/clock.h"
#include "engine/metrics.h"
#include "metrics_dock.h"

using ps::engine::CacheTierStats;
using ps::engine::FakeClock;
using ps::engine::Metrics;
using ps::engine::Stage;
using ps::ui::MetricsDock;

namespace {

constexpr long long kMb = 1024 * 1024;

QString label_text(const MetricsDock& dock, const char* name) {
    const auto* label = dock.findChild<QLabel*>(name);
    return label ? label->text() : QStringLiteral("<no label %1>").arg(name);
}

QLineSeries* find_series(const MetricsDock& dock, const char* chart_name, const QString& name) {
    const auto* view = dock.findChild<QChartView*>(chart_name);
    if (!view) return nullptr;
    for (QAbstractSeries* series : view->chart()->series())
        if (series->name() == name) return qobject_cast<QLineSeries*>(series);
    return nullptr;
}

// "0 MB" as a value of its own, not the tail of "120 MB".
const QRegularExpression kZeroMb("(^|[^0-9.])0(\\.0)? MB");

}  // namespace

class TestMetricsDock : public QObject {
    Q_OBJECT
  private slots:
    void stage_labels_show_percentiles_and_runs() {
        auto clock = std::make_shared<FakeClock>();
        Metrics metrics(clock);
        MetricsDock dock(metrics);
        QVERIFY(!dock.findChild<QLabel*>("p50_encode")->isVisibleTo(&dock));  // not run yet
        for (double ms : {100.0, 200.0, 300.0}) {
            metrics.record(Stage::Encode, ms);
            clock->advance_ms(1000);
            dock.refresh();
        }
        for (int i = 0; i < 10; ++i) metrics.record(Stage::MaskDecode, 5);
        dock.refresh();

        const QString encode = label_text(dock, "p50_encode");
        QVERIFY2(encode.startsWith("Encode p50 200 ms · p95 300 ms · max 300 ms"),
                 qPrintable(encode));
        QVERIFY2(encode.endsWith("3 runs"), qPrintable(encode));
        QVERIFY(dock.findChild<QLabel*>("p50_encode")->isVisibleTo(&dock));
        const QString mask = label_text(dock, "p50_mask_decode");
        QVERIFY2(mask.contains("p50 5.0 ms") && mask.endsWith("10 runs"), qPrintable(mask));
        QVERIFY(!dock.findChild<QLabel*>("p50_decode")->isVisibleTo(&dock));
    }

    void latency_chart_has_a_point_per_refresh_in_which_a_stage_ran() {
        auto clock = std::make_shared<FakeClock>();
        Metrics metrics(clock);
        MetricsDock dock(metrics);
        for (double ms : {100.0, 200.0, 300.0}) {
            metrics.record(Stage::Encode, ms);
            dock.refresh();
        }
        dock.refresh();  // nothing new ran: no extra point
        for (int i = 0; i < 10; ++i) metrics.record(Stage::MaskDecode, 5);
        dock.refresh();

        QLineSeries* encode = find_series(dock, "latency_chart", "Encode");
        QVERIFY(encode);
        QCOMPARE(encode->count(), 3);
        QCOMPARE(encode->at(0).y(), 100.0);
        QCOMPARE(encode->at(2).y(), 300.0);
        QVERIFY(encode->at(0).x() <= encode->at(2).x());
        QLineSeries* mask = find_series(dock, "latency_chart", "Mask decoder");
        QVERIFY(mask);
        QCOMPARE(mask->count(), 1);  // ten runs between two repaints share one point
        QCOMPARE(mask->at(0).y(), 5.0);
        QVERIFY(!find_series(dock, "latency_chart", "Image decode"));  // no samples, no series
    }

    void changed_signal_refreshes_without_an_explicit_call() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        metrics.record(Stage::Encode, 42);
        QTRY_VERIFY_WITH_TIMEOUT(label_text(dock, "p50_encode").endsWith("1 run"), 2000);
    }

    void unavailable_vram_shows_the_reason_never_zero() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        dock.refresh();
        const ps::engine::MemoryStats memory = metrics.snapshot().memory;
        const QString vram = label_text(dock, "vram_label");
        if (memory.gpu_used_bytes && memory.gpu_total_bytes) {
            QVERIFY2(vram.contains(" / ") && vram.contains("MB"), qPrintable(vram));
        } else {
            const QString reason = QString::fromStdString(memory.vram_unavailable_reason);
            QVERIFY2(!reason.isEmpty(), "the engine must say why VRAM is unavailable");
            QVERIFY2(vram.contains("unavailable") && vram.contains(reason), qPrintable(vram));
            QVERIFY2(!vram.contains(kZeroMb), qPrintable(vram));
        }
        if (!memory.vram_allocated_bytes) {
            const QString allocator = label_text(dock, "vram_allocator_label");
            QVERIFY2(allocator.contains("unavailable"), qPrintable(allocator));
            QVERIFY2(!allocator.contains(kZeroMb), qPrintable(allocator));
            // No fake zero line on the chart either.
            QVERIFY(!find_series(dock, "memory_chart", "VRAM allocated"));
        }
        if (memory.rss_bytes) {
            QLineSeries* rss = find_series(dock, "memory_chart", "process RSS");
            QVERIFY(rss);
            QVERIFY(rss->count() >= 1);
            QVERIFY(rss->at(rss->count() - 1).y() > 1.0);  // a live process uses over 1 MB
        }
    }

    void device_fallback_is_shown_as_a_warning() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        const auto* label = dock.findChild<QLabel*>("device_label");
        QVERIFY(label);
        const std::string reason = "cuda requested but LibTorch was built without CUDA";
        metrics.set_device("cpu", "fp32", reason);
        dock.refresh();
        QVERIFY2(label->text().contains("cpu · fp32"), qPrintable(label->text()));
        QVERIFY2(label->text().contains(QString::fromStdString(reason)), qPrintable(label->text()));
        QVERIFY(!label->styleSheet().isEmpty());

        metrics.set_device("cuda:0", "bf16", "");
        dock.refresh();
        QCOMPARE(label->text(), QString("cuda:0 · bf16"));
        QVERIFY(label->styleSheet().isEmpty());
    }

    void cache_labels_show_hits_entries_and_budget() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        CacheTierStats host;
        host.hits = 7;
        host.misses = 2;
        host.evictions = 1;
        host.entries = 3;
        host.bytes = 12 * kMb;
        host.budget_bytes = 64 * kMb;
        CacheTierStats disk = host;
        disk.hits = 1;
        disk.bytes = 512 * kMb;
        disk.budget_bytes = 2048 * kMb;
        metrics.set_cache_stats(host, CacheTierStats{}, disk);
        dock.refresh();
        QCOMPARE(label_text(dock, "cache_host"),
                 QString("host: 7 hits · 2 misses · 3 entries · 12 of 64 MB"));
        QCOMPARE(label_text(dock, "cache_device"),
                 QString("device: 0 hits · 0 misses · 0 entries · 0.0 MB (no budget)"));
        QCOMPARE(label_text(dock, "cache_disk"),
                 QString("disk: 1 hits · 2 misses · 3 entries · 512 of 2048 MB"));
    }

    void clear_cache_button_emits_the_request() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        dock.resize(420, 900);
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        auto* button = dock.findChild<QPushButton*>("clear_cache");
        QVERIFY(button);
        QSignalSpy requested(&dock, &MetricsDock::clear_cache_requested);
        QTest::mouseClick(button, Qt::LeftButton);
        QCOMPARE(requested.count(), 1);
    }

    void model_times_show_a_dash_until_set() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        QCOMPARE(label_text(dock, "model_load_label"), QString("—"));
        QCOMPARE(label_text(dock, "first_request_label"), QString("—"));
        metrics.set_model_load_ms(1234);
        metrics.note_first_request_ms(812);
        dock.refresh();
        QCOMPARE(label_text(dock, "model_load_label"), QString("1234 ms"));
        QCOMPARE(label_text(dock, "first_request_label"), QString("812 ms"));
    }

    // The dock must throttle itself: Metrics' own throttle is configurable and may be off.
    void a_burst_of_changes_repaints_at_most_twice() {
        Metrics metrics(std::make_shared<FakeClock>());
        MetricsDock dock(metrics);
        QTest::qWait(MetricsDock::kMinRefreshIntervalMs + 50);  // past the constructor's repaint
        QElapsedTimer clock;
        clock.start();
        QList<qint64> refreshed_at_ns;
        connect(&dock, &MetricsDock::refreshed, this,
                [&] { refreshed_at_ns.append(clock.nsecsElapsed()); });
        const int before = dock.refresh_count();

        // 100 emissions spread over 50 ms, with the event loop running between them.
        qint64 last_emit_ns = 0;
        for (int i = 0; i < 100; ++i) {
            while (clock.nsecsElapsed() < i * 500000LL) QCoreApplication::processEvents();
            emit metrics.changed();
            last_emit_ns = clock.nsecsElapsed();
        }
        // Short of a second interval after the burst: a third repaint would break the limit.
        QTest::qWait(MetricsDock::kMinRefreshIntervalMs + 30);

        const int repaints = dock.refresh_count() - before;
        QVERIFY2(repaints >= 1 && repaints <= 2, qPrintable(QString::number(repaints)));
        QCOMPARE(refreshed_at_ns.size(), repaints);
        // The last change is not dropped: a repaint follows the final emission.
        QVERIFY(refreshed_at_ns.last() >= last_emit_ns);
    }
};

QTEST_MAIN(TestMetricsDock)
#include "test_metrics_dock.moc"
