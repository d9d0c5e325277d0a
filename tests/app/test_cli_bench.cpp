// photosynth-cli init-checkpoint and bench, end to end (a tiny run; speed is not asserted).
#include "models/sam/sam_model.h"
#include "sam_fixtures.h"  // ATen before Qt (Qt's `slots` macro breaks ATen's headers)

#include "app/cli_process.h"

#include <torch/version.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <QtTest>

class TestCliBench : public QObject {
    Q_OBJECT
  private slots:
    void init_checkpoint_writes_the_official_layout();
    void bench_writes_the_json_schema();
    void bench_trace_writes_a_trace_or_says_why_not();
};

void TestCliBench::init_checkpoint_writes_the_official_layout() {
    QTemporaryDir dir;
    const QString path = dir.path() + "/mobile.safetensors";
    const CliRun init = run_cli({"init-checkpoint", "--arch", "mobile_sam", "--out", path});
    QVERIFY2(init.exit_code == 0, qPrintable(init.err));
    const CliRun info = run_cli({"info", path, "--json"});
    QVERIFY2(info.exit_code == 0, qPrintable(info.err));
    const QJsonObject config = QJsonDocument::fromJson(info.out.toUtf8()).object();
    QCOMPARE(config["arch"].toString(), QString("mobile_sam"));
    QCOMPARE(config["image_encoder"].toObject()["embed_dims"].toArray(),
             (QJsonArray{64, 128, 160, 320}));
    const CliRun bad = run_cli({"init-checkpoint", "--arch", "vit_x", "--out", path});
    QVERIFY(bad.exit_code > 0 && bad.err.contains("vit_x"));
}

void TestCliBench::bench_writes_the_json_schema() {
    QTemporaryDir dir;
    const std::string model = write_sam_checkpoint(dir.path(), custom_vit_config(16), 3);
    QVERIFY(!model.empty());
    const QString json = dir.path() + "/bench.json", csv = dir.path() + "/bench.csv";
    const CliRun run = run_cli({"bench", "--model", QString::fromStdString(model), "--device",
                                "cpu", "--synthetic", "320x240", "--iterations", "3", "--warmup",
                                "1", "--json", json, "--csv", csv});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(report["schema"].toString(), QString("photosynth-bench/1"));
    for (const char* key : {"host", "cpu", "cores", "libtorch", "cuda_available"}) {
        QVERIFY2(report["machine"].toObject().contains(key), key);
    }
    QCOMPARE(report["settings"].toObject()["iterations"].toInt(), 3);
    const QJsonArray models = report["models"].toArray();
    QCOMPARE(models.size(), 1);
    const QJsonObject m = models[0].toObject();
    QCOMPARE(m["device"].toString(), QString("cpu"));
    QVERIFY(m["load_ms"].toDouble() > 0);
    QVERIFY(m["cold_first_request_ms"].toDouble() > 0);
    QVERIFY(m["images_per_s"].toDouble() > 0);
    QVERIFY(m["peak_rss_bytes"].toDouble() > 0);
    // Unavailable without CUDA (null, never a fake 0); with CUDA it is measured even for a CPU run.
    if (!ps::runtime::cuda_available()) QVERIFY(m["peak_vram_bytes"].isNull());
    const QJsonObject stages = m["stages"].toObject();
    for (const char* stage :
         {"preprocess", "encode", "mask_decode", "postprocess", "click_to_mask", "cached_click"}) {
        const QJsonObject s = stages[stage].toObject();
        QVERIFY2(s["n"].toInt() == 3, stage);
        QVERIFY2(s["min_ms"].toDouble() <= s["p50_ms"].toDouble() &&
                     s["p50_ms"].toDouble() <= s["p95_ms"].toDouble() &&
                     s["p95_ms"].toDouble() <= s["p99_ms"].toDouble() &&
                     s["p99_ms"].toDouble() <= s["max_ms"].toDouble(),
                 stage);
    }
    QFile table(csv);
    QVERIFY(table.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = table.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 1 + 6);  // header + one row per stage
}

void TestCliBench::bench_trace_writes_a_trace_or_says_why_not() {
    QTemporaryDir dir;
    const std::string model = write_sam_checkpoint(dir.path(), custom_vit_config(16), 3);
    QVERIFY(!model.empty());
    const QString json = dir.path() + "/bench.json", trace = dir.path() + "/run.trace.json";
    const CliRun run = run_cli({"bench", "--model", QString::fromStdString(model), "--device",
                                "cpu", "--synthetic", "160x120", "--iterations", "1", "--warmup",
                                "0", "--json", json, "--trace", trace});
#if TORCH_VERSION_MAJOR >= 2
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile file(trace);
    QVERIFY(file.open(QIODevice::ReadOnly));
    // Operators run on the engine's worker threads, which Kineto does not follow; the file is a
    // Chrome trace with its events array (GPU kernels appear in it when a GPU runs).
    const QJsonObject doc = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(doc.contains("traceEvents") && doc["traceEvents"].isArray());
    QVERIFY(QFile::exists(json));
#else
    QVERIFY(run.exit_code != 0);
    QVERIFY2(run.err.contains("needs LibTorch 2.x"), qPrintable(run.err));
    QVERIFY(!QFile::exists(json));
    QVERIFY(!QFile::exists(trace));
#endif
}

QTEST_GUILESS_MAIN(TestCliBench)
#include "test_cli_bench.moc"
