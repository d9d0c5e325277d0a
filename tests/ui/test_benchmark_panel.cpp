// The benchmark panel, offscreen: a tiny SAM run driven through its widgets, history, export
// and cancel.
#include "sam_fixtures.h"  // ATen-using headers before Qt's `slots` macro

#include "engine/benchmark.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"

#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLegend>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <algorithm>
#include <memory>
#include <set>

#include "benchmark_panel.h"

using namespace ps;

namespace {

template <typename T>
T* child(QObject& parent, const char* name) {
    T* found = parent.findChild<T*>(name);
    if (!found) qFatal("no child %s", name);
    return found;
}

// Sets a spin box the way a user does: select the text, type, press Enter.
void type_value(QSpinBox* spin, int value) {
    spin->selectAll();
    QTest::keyClicks(spin, QString::number(value));
    QTest::keyClick(spin, Qt::Key_Enter);
}

// A tiny generated SAM checkpoint (grid 16: an encode takes milliseconds) in a panel over a
// CPU engine; the engine is declared before the panel so that it outlives it.
struct Bench {
    QTemporaryDir dir;
    std::string checkpoint;
    engine::Engine engine{cpu_test_settings()};
    std::unique_ptr<ui::BenchmarkPanel> panel = std::make_unique<ui::BenchmarkPanel>(engine);

    explicit Bench(uint64_t seed)
        : checkpoint(write_sam_checkpoint(dir.path(), custom_vit_config(16), seed)) {
        panel->show();
        panel->add_model(QString::fromStdString(checkpoint));
    }
};

void configure(ui::BenchmarkPanel& panel, int iterations) {
    auto* device = child<QComboBox>(panel, "bench_device");
    device->setCurrentIndex(device->findText("cpu"));
    type_value(child<QSpinBox>(panel, "bench_width"), 160);
    type_value(child<QSpinBox>(panel, "bench_height"), 120);
    type_value(child<QSpinBox>(panel, "bench_iterations"), iterations);
    type_value(child<QSpinBox>(panel, "bench_warmup"), 0);
}

}  // namespace

class TestBenchmarkPanel : public QObject {
    Q_OBJECT
  private slots:
    void tiny_run_table_chart_export_history();
    void cancel_stops_a_long_run();
    void closing_the_panel_cancels_its_run();
};

void TestBenchmarkPanel::tiny_run_table_chart_export_history() {
    Bench bench(11);
    QVERIFY(!bench.checkpoint.empty());
    ui::BenchmarkPanel& panel = *bench.panel;
    const QTemporaryDir& dir = bench.dir;
    panel.add_model(QString::fromStdString(bench.checkpoint));  // a duplicate is ignored
    QCOMPARE(child<QListWidget>(panel, "bench_models")->count(), 1);
    configure(panel, 2);
    QCOMPARE(child<QSpinBox>(panel, "bench_iterations")->value(), 2);
    QCOMPARE(child<QSpinBox>(panel, "bench_width")->value(), 160);

    // Nothing to export before a run.
    QVERIFY(!panel.export_json(dir.filePath("none.json")).isEmpty());

    QSignalSpy finished(&panel, &ui::BenchmarkPanel::finished);
    QSignalSpy progress(&panel, &ui::BenchmarkPanel::progress_changed);
    QTest::mouseClick(child<QPushButton>(panel, "bench_run"), Qt::LeftButton);
    QVERIFY(panel.running());
    QVERIFY(!child<QPushButton>(panel, "bench_run")->isEnabled());
    QVERIFY(child<QPushButton>(panel, "bench_cancel")->isEnabled());
    QVERIFY(finished.count() == 1 || finished.wait(120000));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY(!panel.running());
    QVERIFY(progress.count() > 0);

    auto* bar = child<QProgressBar>(panel, "bench_progress");
    QVERIFY(bar->maximum() > 1);
    QCOMPARE(bar->value(), bar->maximum());

    auto* table = child<QTableWidget>(panel, "bench_results");
    std::set<QString> stages;
    for (int row = 0; row < table->rowCount(); ++row) {
        const QString stage = table->item(row, 3)->data(Qt::UserRole).toString();
        QVERIFY2(!table->item(row, 3)->text().contains('_'),
                 qPrintable(table->item(row, 3)->text()));
        stages.insert(stage);
        if (stage == "encode" || stage == "mask_decode" || stage == "click_to_mask") {
            QCOMPARE(table->item(row, 4)->text(), QString("2"));
            QCOMPARE(table->item(row, 1)->text(), QString("cpu"));
            QVERIFY(table->item(row, 6)->text().toDouble() >= 0);
        }
    }
    for (const char* stage : {"encode", "mask_decode", "click_to_mask"})
        QVERIFY2(stages.count(stage), stage);

    QChart* chart = child<QChartView>(panel, "bench_chart")->chart();
    QCOMPARE(chart->series().size(), 1);
    auto* series = qobject_cast<QBarSeries*>(chart->series().first());
    QVERIFY(series);
    QCOMPARE(series->count(), 2);
    QCOMPARE(series->barSets().at(1)->label(), QString("p95"));
    // Names wrap under the chart instead of being elided to "u2n…" in a narrow dock.
    auto* legend = child<QLabel>(panel, "bench_chart_legend");
    QVERIFY(legend->text().contains("p50") && legend->text().contains("p95"));
    QVERIFY(legend->wordWrap());
    QVERIFY(!chart->legend()->isVisible());
    QCOMPARE(table->textElideMode(), Qt::ElideMiddle);
    QCOMPARE(table->item(0, 0)->toolTip(), QString::fromStdString(bench.checkpoint));

    const QString json_path = dir.filePath("bench.json");
    QCOMPARE(panel.export_json(json_path), QString());
    QFile json_file(json_path);
    QVERIFY(json_file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(json_file.readAll()).object();
    QCOMPARE(json["schema"].toString(), QString("photosynth-bench/1"));
    const QString csv_path = dir.filePath("bench.csv");
    QCOMPARE(panel.export_csv(csv_path), QString());
    QVERIFY(QFileInfo(csv_path).size() > 0);
    QVERIFY(!panel.export_json(dir.filePath("missing/dir/bench.json")).isEmpty());

    auto* history = child<QComboBox>(panel, "bench_history");
    QCOMPARE(history->count(), 1);

    // A second run adds to the history; the first can be shown again.
    QTest::mouseClick(child<QPushButton>(panel, "bench_run"), Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.last().at(0).toBool(), true);
    QCOMPARE(history->count(), 2);
    QCOMPARE(history->currentIndex(), 1);
    const engine::BenchmarkReport* second = panel.shown_report();
    history->setCurrentIndex(0);
    QVERIFY(panel.shown_report() != second);
    QVERIFY(table->rowCount() > 0);
}

void TestBenchmarkPanel::cancel_stops_a_long_run() {
    Bench bench(12);
    QVERIFY(!bench.checkpoint.empty());
    ui::BenchmarkPanel& panel = *bench.panel;
    configure(panel, 200);

    QSignalSpy finished(&panel, &ui::BenchmarkPanel::finished);
    QSignalSpy progress(&panel, &ui::BenchmarkPanel::progress_changed);
    // The GUI thread must keep turning while the pool works: the longest gap between timer
    // ticks shows whether anything blocked it.
    QElapsedTimer since_tick;
    since_tick.start();
    qint64 longest_gap_ms = 0;
    QTimer ticker;
    ticker.setInterval(5);
    connect(&ticker, &QTimer::timeout,
            [&] { longest_gap_ms = std::max(longest_gap_ms, since_tick.restart()); });
    ticker.start();

    QTest::mouseClick(child<QPushButton>(panel, "bench_run"), Qt::LeftButton);
    QVERIFY(progress.wait(120000));  // the model loaded and the first iteration ran
    QTest::mouseClick(child<QPushButton>(panel, "bench_cancel"), Qt::LeftButton);
    QVERIFY(finished.count() == 1 || finished.wait(120000));
    ticker.stop();

    const int done = progress.last().at(0).toInt();
    const int total = progress.last().at(1).toInt();
    QCOMPARE(total, 201);  // the cold request, no warm-up, 200 iterations
    QVERIFY2(done < total / 2, qPrintable(QString("%1 of %2 ran").arg(done).arg(total)));
    QVERIFY(!panel.running());
    QVERIFY(child<QPushButton>(panel, "bench_run")->isEnabled());
    // Generous: a loaded CI machine may pause us, but a blocked GUI thread waits for the run.
    QVERIFY2(longest_gap_ms < 2000, qPrintable(QString::number(longest_gap_ms)));
    if (finished.last().at(0).toBool()) {
        const engine::BenchmarkReport* report = panel.shown_report();
        QVERIFY(report);
        // Cancelled right after the cold request, no measured iteration may have run at all.
        const auto& stages = report->models.at(0).stages;
        const auto encode = stages.find("encode");
        QVERIFY(encode == stages.end() || encode->second.count < 200);
    }
}

// Without the panel's destructor raising the cancel flag, 100000 iterations would keep the
// pool busy for many minutes after the panel is gone.
void TestBenchmarkPanel::closing_the_panel_cancels_its_run() {
    Bench bench(13);
    QVERIFY(!bench.checkpoint.empty());
    configure(*bench.panel, 100000);
    QSignalSpy progress(bench.panel.get(), &ui::BenchmarkPanel::progress_changed);
    QTest::mouseClick(child<QPushButton>(*bench.panel, "bench_run"), Qt::LeftButton);
    QVERIFY(progress.wait(120000));
    bench.panel.reset();
    QVERIFY(bench.engine.wait_idle(60000));
    QCoreApplication::processEvents();  // progress posted for the gone panel is dropped safely
}

QTEST_MAIN(TestBenchmarkPanel)
#include "test_benchmark_panel.moc"
