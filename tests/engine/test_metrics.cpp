// Metrics: exact statistics under a fake clock, the throttled signal, memory sampling, JSON.
#include <ATen/Context.h>

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/metrics.h"

using namespace ps::engine;

Q_DECLARE_METATYPE(QList<double>)

class TestMetrics : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() { qunsetenv("PHOTOSYNTH_SLOW_MS"); }

    void stage_names();
    void window_statistics_data();
    void window_statistics();
    void window_drops_samples_by_age();
    void window_keeps_last_512_samples();
    void slow_operations_are_counted_and_logged();
    void slow_threshold_is_set_not_read_from_environment();
    void burst_from_threads_gives_few_signals();
    void last_change_is_never_lost();
    void first_request_counts_once();
    void stage_timer_uses_metrics_clock();
    void sample_memory_reads_process_and_reports_gpu_reason();
    void snapshot_cpu_percent_set_from_first_call();
    void json_has_every_field_and_null_for_unavailable();
    void json_matches_snapshot_memory();
};

void TestMetrics::stage_names() {
    const char* expected[kStageCount] = {"decode",      "preprocess",  "encode",
                                         "mask_decode", "postprocess", "effect",
                                         "export",      "matte",       "track_frame"};
    for (int i = 0; i < kStageCount; ++i)
        QCOMPARE(QString(stage_name(static_cast<Stage>(i))), QString(expected[i]));
}

void TestMetrics::window_statistics_data() {
    QTest::addColumn<QList<double>>("durations_ms");  // recorded in this order, 10 ms apart
    QTest::addColumn<double>("p50_ms");
    QTest::addColumn<double>("p95_ms");
    QTest::addColumn<double>("max_ms");
    QTest::addColumn<double>("throughput_per_s");

    // 1..100 in a scrambled order (37 is coprime to 100), so the statistics must sort.
    QList<double> one_to_hundred;
    for (int i = 0; i < 100; ++i) one_to_hundred.append((i * 37) % 100 + 1);
    QTest::newRow("1..100") << one_to_hundred << 50.0 << 95.0 << 100.0 << 100.0 / 990.0 * 1000.0;
    // Nearest rank with n = 10: p50 is rank 5, p95 is rank ceil(9.5) = 10.
    QTest::newRow("tens") << QList<double>{100, 90, 80, 70, 60, 50, 40, 30, 20, 10} << 50.0 << 100.0
                          << 100.0 << 10.0 / 90.0 * 1000.0;
    QTest::newRow("single sample has no throughput")
        << QList<double>{7} << 7.0 << 7.0 << 7.0 << 0.0;
    QTest::newRow("two samples") << QList<double>{3, 9} << 3.0 << 9.0 << 9.0 << 2.0 / 10.0 * 1000.0;
}

void TestMetrics::window_statistics() {
    QFETCH(QList<double>, durations_ms);
    QFETCH(double, p50_ms);
    QFETCH(double, p95_ms);
    QFETCH(double, max_ms);
    QFETCH(double, throughput_per_s);

    auto clock = std::make_shared<FakeClock>();
    Metrics metrics(clock);
    double total_ms = 0;
    for (double ms : durations_ms) {
        metrics.record(Stage::Encode, ms);
        total_ms += ms;
        clock->advance_ms(10);
    }
    const MetricsSnapshot snapshot = metrics.snapshot();
    const StageStats& encode = snapshot.stage(Stage::Encode);
    QCOMPARE(encode.count, static_cast<long long>(durations_ms.size()));
    QCOMPARE(encode.last_ms, durations_ms.last());
    QCOMPARE(encode.total_ms, total_ms);
    QCOMPARE(encode.p50_ms, p50_ms);
    QCOMPARE(encode.p95_ms, p95_ms);
    QCOMPARE(encode.max_ms, max_ms);
    QCOMPARE(encode.throughput_per_s, throughput_per_s);
    QCOMPARE(snapshot.stage(Stage::Decode).count, 0LL);  // stages are kept apart
    QCOMPARE(snapshot.taken_at_ms, clock->now_ms());
}

void TestMetrics::window_drops_samples_by_age() {
    auto clock = std::make_shared<FakeClock>();
    Metrics metrics(clock);
    for (int i = 0; i < 100; ++i) {
        metrics.record(Stage::MaskDecode, 1000);
        clock->advance_ms(100);
    }
    clock->advance_ms(6 * 60 * 1000.0);
    for (double ms : {1.0, 2.0, 3.0}) {
        metrics.record(Stage::MaskDecode, ms);
        clock->advance_ms(1000);
    }
    StageStats stats = metrics.snapshot().stage(Stage::MaskDecode);
    QCOMPARE(stats.count, 103LL);
    QCOMPARE(stats.total_ms, 100 * 1000.0 + 6.0);
    QCOMPARE(stats.p50_ms, 2.0);
    QCOMPARE(stats.max_ms, 3.0);
    QCOMPARE(stats.throughput_per_s, 3.0 / 2000.0 * 1000.0);

    // An idle stage ages too: its window empties although nothing was recorded since.
    clock->advance_ms(6 * 60 * 1000.0);
    stats = metrics.snapshot().stage(Stage::MaskDecode);
    QCOMPARE(stats.count, 103LL);
    QCOMPARE(stats.last_ms, 3.0);
    QCOMPARE(stats.max_ms, 0.0);
    QCOMPARE(stats.p95_ms, 0.0);
    QCOMPARE(stats.throughput_per_s, 0.0);

    // The window's edge: a sample exactly 5 minutes old is still in it, 1 ms later it is not.
    Metrics edge(clock);
    edge.record(Stage::Effect, 42);
    clock->advance_ms(Metrics::kWindowMs);
    QCOMPARE(edge.snapshot().stage(Stage::Effect).max_ms, 42.0);
    clock->advance_ms(1);
    QCOMPARE(edge.snapshot().stage(Stage::Effect).max_ms, 0.0);
}

void TestMetrics::window_keeps_last_512_samples() {
    auto clock = std::make_shared<FakeClock>();
    Metrics metrics(clock);
    for (int ms = 1; ms <= 600; ++ms) {
        clock->advance_ms(1);  // sample `ms` is recorded at time `ms`
        metrics.record(Stage::Preprocess, ms);
    }
    const StageStats stats = metrics.snapshot().stage(Stage::Preprocess);
    QCOMPARE(stats.count, 600LL);
    QCOMPARE(stats.total_ms, 600.0 * 601.0 / 2.0);
    // The window holds samples 89..600: rank 256 of 512 is 344, rank ceil(486.4) = 487 is 575.
    QCOMPARE(stats.p50_ms, 344.0);
    QCOMPARE(stats.p95_ms, 575.0);
    QCOMPARE(stats.max_ms, 600.0);
    QCOMPARE(stats.throughput_per_s, 512.0 / 511.0 * 1000.0);
}

void TestMetrics::slow_operations_are_counted_and_logged() {
    auto clock = std::make_shared<FakeClock>();
    Metrics metrics(clock);
    QCOMPARE(metrics.slow_threshold_ms(), 2000.0);
    metrics.set_slow_threshold_ms(50);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("encode.*51\\.0 ms"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("export.*1000\\.0 ms"));
    metrics.record(Stage::Encode, 10);
    metrics.record(Stage::Encode, 50);  // equal to the threshold is not slower
    metrics.record(Stage::Encode, 51);
    metrics.record(Stage::Export, 1000);
    QCOMPARE(metrics.snapshot().slow_operations, 2LL);
}

void TestMetrics::slow_threshold_is_set_not_read_from_environment() {
    // EngineSettings::from_environment reads PHOTOSYNTH_SLOW_MS; the engine passes it on.
    qputenv("PHOTOSYNTH_SLOW_MS", "5");
    Metrics metrics(std::make_shared<FakeClock>());
    qunsetenv("PHOTOSYNTH_SLOW_MS");
    QCOMPARE(metrics.slow_threshold_ms(), 2000.0);
    metrics.set_slow_threshold_ms(5);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("decode.*6\\.0 ms"));
    metrics.record(Stage::Decode, 6);
    QCOMPARE(metrics.snapshot().slow_operations, 1LL);
}

void TestMetrics::burst_from_threads_gives_few_signals() {
    Metrics metrics;  // real clock: the throttle runs on real time whatever the clock
    QSignalSpy spy(&metrics, &Metrics::changed);
    std::atomic<int> signals_off_owner_thread{0};
    connect(
        &metrics, &Metrics::changed, this,
        [&] {
            if (QThread::currentThread() != thread()) ++signals_off_owner_thread;
        },
        Qt::DirectConnection);  // runs in the emitting thread, which must be the owner's

    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t)
        workers.emplace_back([&] {
            while (!go.load()) std::this_thread::yield();
            // Spread over tens of milliseconds, so the owner's event loop turns many times
            // during the burst and only the throttle (not luck) keeps the signals few.
            for (int i = 0; i < 250; ++i) {
                metrics.record(Stage::MaskDecode, 1.0);
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        });
    QElapsedTimer burst;
    burst.start();
    go = true;
    // The event loop runs while the workers record, so emissions happen during the burst.
    while (metrics.snapshot().stage(Stage::MaskDecode).count < 1000 && burst.elapsed() < 5000)
        QTest::qWait(1);
    for (auto& worker : workers) worker.join();
    const qint64 burst_ms = burst.elapsed();
    QTest::qWait(300);

    QCOMPARE(metrics.snapshot().stage(Stage::MaskDecode).count, 1000LL);
    // A burst inside one interval gives a leading and a trailing signal; a loaded machine that
    // stretches the burst earns one more signal per 100 ms it took.
    const int most_signals = 3 + static_cast<int>(burst_ms / 100);
    QVERIFY2(spy.count() >= 1 && spy.count() <= most_signals,
             qPrintable(
                 QString("%1 changed() signals for a %2 ms burst").arg(spy.count()).arg(burst_ms)));
    QCOMPARE(signals_off_owner_thread.load(), 0);
}

void TestMetrics::last_change_is_never_lost() {
    Metrics metrics(std::make_shared<FakeClock>());
    metrics.set_min_signal_interval_ms(200);
    QSignalSpy spy(&metrics, &Metrics::changed);
    QElapsedTimer since_first;

    metrics.record(Stage::Effect, 1);
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 1000);  // the first change goes out at once
    since_first.start();
    metrics.set_model_load_ms(12);  // inside the interval: held back, then sent (trailing)
    QTest::qWait(50);
    QCOMPARE(spy.count(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 2000);
    QVERIFY2(since_first.elapsed() >= 190,
             qPrintable(QString("second signal after %1 ms").arg(since_first.elapsed())));
    QTest::qWait(400);
    QCOMPARE(spy.count(), 2);  // nothing changed since: no further signal
}

void TestMetrics::first_request_counts_once() {
    Metrics metrics(std::make_shared<FakeClock>());
    QVERIFY(!metrics.snapshot().first_request_ms);
    QVERIFY(!metrics.snapshot().model_load_ms);
    metrics.note_first_request_ms(120);
    metrics.note_first_request_ms(5);
    metrics.set_model_load_ms(300);
    metrics.set_model_load_ms(400);  // a reload replaces the load time
    const MetricsSnapshot snapshot = metrics.snapshot();
    QCOMPARE(snapshot.first_request_ms.value_or(-1), 120.0);
    QCOMPARE(snapshot.model_load_ms.value_or(-1), 400.0);
}

void TestMetrics::stage_timer_uses_metrics_clock() {
    auto clock = std::make_shared<FakeClock>();
    Metrics metrics(clock);
    {
        StageTimer timer(metrics, Stage::Export);
        clock->advance_ms(42);
        QCOMPARE(timer.elapsed_ms(), 42.0);
    }
    const StageStats stats = metrics.snapshot().stage(Stage::Export);
    QCOMPARE(stats.count, 1LL);
    QCOMPARE(stats.last_ms, 42.0);
}

void TestMetrics::sample_memory_reads_process_and_reports_gpu_reason() {
    const MemoryStats first = sample_memory();
    QVERIFY(first.rss_bytes.has_value());
    QVERIFY(*first.rss_bytes > 1024 * 1024);
    QVERIFY(!first.cpu_percent.has_value());  // a rate needs a previous reading

    // Keep one core busy so the second reading has CPU time to find.
    QElapsedTimer busy;
    busy.start();
    volatile double sink = 0;
    while (busy.elapsed() < 300) sink = sink + 1.0;
    const MemoryStats second = sample_memory();
    QVERIFY(second.cpu_percent.has_value());
    QVERIFY2(
        *second.cpu_percent > 5 && *second.cpu_percent < 100.0 * QThread::idealThreadCount() + 50,
        qPrintable(QString("cpu %1 %").arg(*second.cpu_percent)));

    // Every GPU figure is either measured together with its group or explained.
    const bool allocator = second.vram_allocated_bytes.has_value();
    QCOMPARE(second.vram_reserved_bytes.has_value(), allocator);
    QCOMPARE(second.vram_peak_bytes.has_value(), allocator);
    const bool nvml = second.gpu_total_bytes.has_value();
    QCOMPARE(second.gpu_used_bytes.has_value(), nvml);
    if (!allocator || !nvml) QVERIFY(!second.vram_unavailable_reason.empty());
    if (allocator) {
        QVERIFY(*second.vram_reserved_bytes >= *second.vram_allocated_bytes);
        QVERIFY(*second.vram_peak_bytes >= *second.vram_allocated_bytes);
    }
    if (nvml)
        QVERIFY(*second.gpu_total_bytes > 0 && *second.gpu_used_bytes <= *second.gpu_total_bytes);
    if (!at::hasCUDA()) {  // this CPU machine: no allocator figures, and a reason, never a zero
        QVERIFY(!allocator);
        QVERIFY(!nvml || second.vram_unavailable_reason.find("LibTorch") != std::string::npos);
    }
    qInfo("GPU memory: %s", second.vram_unavailable_reason.empty()
                                ? "all figures available"
                                : second.vram_unavailable_reason.c_str());
}

void TestMetrics::snapshot_cpu_percent_set_from_first_call() {
    // The constructor takes the first reading, so even a single snapshot has a rate.
    Metrics metrics(std::make_shared<FakeClock>());
    QTest::qWait(20);
    const auto cpu = metrics.snapshot().memory.cpu_percent;
    QVERIFY(cpu.has_value());
    QVERIFY(*cpu >= 0);
}

void TestMetrics::json_has_every_field_and_null_for_unavailable() {
    MetricsSnapshot snapshot;
    snapshot.taken_at_ms = 1234;
    snapshot.stages[static_cast<int>(Stage::MaskDecode)].count = 3;
    snapshot.stages[static_cast<int>(Stage::MaskDecode)].p95_ms = 17.5;
    snapshot.host_cache.hits = 9;
    snapshot.disk_cache.budget_bytes = 1LL << 40;  // above 2^32: no 32-bit truncation
    snapshot.memory.rss_bytes = 123456789;
    snapshot.memory.vram_unavailable_reason = "CPU-only LibTorch";
    snapshot.device = "cpu";
    snapshot.precision = "fp32";
    snapshot.model_load_ms = 250.5;
    snapshot.slow_operations = 4;

    Metrics metrics(std::make_shared<FakeClock>());
    QJsonParseError error;
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(metrics.to_json(snapshot)), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    const QJsonObject root = document.object();

    QCOMPARE(root["taken_at_ms"].toDouble(), 1234.0);
    const QJsonObject stages = root["stages"].toObject();
    QCOMPARE(stages.size(), kStageCount);
    for (int i = 0; i < kStageCount; ++i) {
        const QJsonObject stage = stages[stage_name(static_cast<Stage>(i))].toObject();
        for (const char* key :
             {"count", "last_ms", "total_ms", "p50_ms", "p95_ms", "max_ms", "throughput_per_s"})
            QVERIFY2(stage[key].isDouble(), key);
    }
    QCOMPARE(stages["mask_decode"].toObject()["count"].toInteger(), 3);
    QCOMPARE(stages["mask_decode"].toObject()["p95_ms"].toDouble(), 17.5);

    const QJsonObject cache = root["cache"].toObject();
    QCOMPARE(cache["host"].toObject()["hits"].toInteger(), 9);
    QCOMPARE(cache["disk"].toObject()["budget_bytes"].toInteger(), 1LL << 40);
    for (const char* tier : {"host", "device", "disk"})
        for (const char* key : {"hits", "misses", "evictions", "entries", "bytes", "budget_bytes"})
            QVERIFY2(cache[tier].toObject()[key].isDouble(), key);

    const QJsonObject memory = root["memory"].toObject();
    QCOMPARE(memory["rss_bytes"].toInteger(), 123456789);
    for (const char* key : {"cpu_percent", "vram_allocated_bytes", "vram_reserved_bytes",
                            "vram_peak_bytes", "gpu_used_bytes", "gpu_total_bytes"}) {
        QVERIFY2(memory.contains(key), key);
        QVERIFY2(memory[key].isNull(), key);  // unavailable is null, not 0
    }
    QCOMPARE(memory["vram_unavailable_reason"].toString(), QString("CPU-only LibTorch"));

    QCOMPARE(root["device"].toString(), QString("cpu"));
    QCOMPARE(root["precision"].toString(), QString("fp32"));
    QVERIFY(root["fallback_reason"].isString());
    QCOMPARE(root["model_load_ms"].toDouble(), 250.5);
    QVERIFY(root.contains("first_request_ms") && root["first_request_ms"].isNull());
    QCOMPARE(root["slow_operations"].toInteger(), 4);
}

void TestMetrics::json_matches_snapshot_memory() {
    Metrics metrics(std::make_shared<FakeClock>());
    const MetricsSnapshot snapshot = metrics.snapshot();
    const QJsonObject memory =
        QJsonDocument::fromJson(QByteArray::fromStdString(metrics.to_json(snapshot)))
            .object()["memory"]
            .toObject();
    QCOMPARE(memory["rss_bytes"].toInteger(), *snapshot.memory.rss_bytes);
    QCOMPARE(memory["cpu_percent"].isNull(), !snapshot.memory.cpu_percent.has_value());
    QCOMPARE(memory["vram_allocated_bytes"].isNull(),
             !snapshot.memory.vram_allocated_bytes.has_value());
    QCOMPARE(memory["gpu_total_bytes"].isNull(), !snapshot.memory.gpu_total_bytes.has_value());
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
