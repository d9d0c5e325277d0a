// photosynth-cli end to end: real processes, real files, golden masks.
#include "app/cli_process.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "sam_golden.h"

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void segment_reproduces_golden_masks_data();
    void segment_reproduces_golden_masks();
    void info_reports_configuration_data();
    void info_reports_configuration();
    void device_fallback_and_metrics_are_reported();
    void bad_inputs_fail_with_one_clear_line_data();
    void bad_inputs_fail_with_one_clear_line();
};

void TestCli::segment_reproduces_golden_masks_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("image");
    QTest::newRow("vit_tiny pth coffee") << "sam_vit_tiny.pth" << "sam_vit_tiny" << "coffee";
    QTest::newRow("vit_tiny safetensors astronaut")
        << "sam_vit_tiny.safetensors" << "sam_vit_tiny" << "astronaut_crop";
    QTest::newRow("mobile_sam astronaut")
        << "mobile_sam_tiny.pth" << "mobile_sam_tiny" << "astronaut_crop";
}

void TestCli::segment_reproduces_golden_masks() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, model);
    QFETCH(QString, image);
    QTemporaryDir dir;
    const QString out = dir.path() + "/out";
    const CliRun run = run_cli({"segment", "--model", golden_dir() + "/" + checkpoint, "--image",
                             golden_dir() + "/images/" + image + ".png", "--prompts",
                             golden_dir() + "/images/" + image + "_prompts.json", "--out", out,
                             "--device", "cpu"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));

    QFile result_file(out + "/result.json");
    QVERIFY(result_file.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(result_file.readAll()).object();
    QCOMPARE(result["device"].toString(), QString("cpu"));
    QVERIFY(result["encode_ms"].toDouble() > 0);
    QCOMPARE(result["model"].toObject()["family"].toString(),
             model.startsWith("mobile") ? QString("mobile_sam") : QString("sam"));
    const QJsonArray prompts = result["prompts"].toArray();
    QCOMPARE(prompts.size(), 5);  // every golden prompt file has five prompts
    int masks_checked = 0;
    for (int k = 0; k < prompts.size(); ++k) {
        const QJsonObject p = prompts[k].toObject();
        const QJsonArray masks = p["masks"].toArray();
        QCOMPARE(masks.size(), p["iou"].toArray().size());
        QVERIFY(p["decode_ms"].toDouble() > 0);
        for (int i = 0; i < masks.size(); ++i) {
            QCOMPARE(masks[i].toString(), QString("prompt%1_mask%2.png").arg(k).arg(i));
            const cv::Mat ours = read_grey_png(out + "/" + masks[i].toString());
            const cv::Mat expected = read_grey_png(
                golden_dir() + QString("/%1__%2__prompt%3_mask%4.png").arg(model, image).arg(k).arg(i));
            QVERIFY(!ours.empty() && !expected.empty());
            // Written masks are strictly 0/255.
            QCOMPARE(cv::countNonZero((ours != 0) & (ours != 255)), 0);
            const double iou = compare_masks(ours, expected).iou;
            QVERIFY2(iou >= 0.995, qPrintable(QString("prompt %1 mask %2: IoU %3").arg(k).arg(i).arg(iou)));
            ++masks_checked;
        }
    }
    QCOMPARE(masks_checked, 7);  // 3 multimask + 4 single
}

void TestCli::info_reports_configuration_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("family");
    QTest::addColumn<int>("parameters");
    QTest::newRow("vit_tiny") << "sam_vit_tiny.pth" << "sam" << 584108;
    QTest::newRow("vit_tiny st") << "sam_vit_tiny.safetensors" << "sam" << 584108;
    QTest::newRow("vit_tiny bf16") << "sam_vit_tiny_bf16.pth" << "sam" << 584108;
    QTest::newRow("mobile") << "mobile_sam_tiny.pth" << "mobile_sam" << 0;
}

void TestCli::info_reports_configuration() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, family);
    QFETCH(int, parameters);
    const CliRun run = run_cli({"info", golden_dir() + "/" + checkpoint, "--json"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QJsonObject info = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), family);
    if (parameters > 0) QCOMPARE(info["parameters"].toInt(), parameters);
    if (family == "sam") {
        const QJsonObject enc = info["image_encoder"].toObject();
        QCOMPARE(enc["embed_dim"].toInt(), 64);
        QCOMPARE(enc["depth"].toInt(), 4);
        QCOMPARE(enc["num_heads"].toInt(), 2);
        QCOMPARE(enc["global_attn_indexes"].toArray(), (QJsonArray{1, 3}));
        QCOMPARE(info["dtype"].toString(),
                 checkpoint.contains("bf16") ? QString("bfloat16") : QString("float32"));
    } else {
        const QJsonObject enc = info["image_encoder"].toObject();
        QCOMPARE(enc["embed_dims"].toArray(), (QJsonArray{32, 48, 64, 320}));
        QCOMPARE(enc["num_heads"].toArray(), (QJsonArray{0, 2, 2, 10}));
        QCOMPARE(enc["window_sizes"].toArray(), (QJsonArray{0, 7, 14, 7}));
    }
}

void TestCli::device_fallback_and_metrics_are_reported() {
    QTemporaryDir dir;
    const QString out = dir.path() + "/out", metrics = dir.path() + "/metrics.json";
    const CliRun run = run_cli({"segment", "--model", golden_dir() + "/sam_vit_tiny.pth", "--image",
                             golden_dir() + "/images/coffee.png", "--prompts",
                             golden_dir() + "/images/coffee_prompts.json", "--out", out,
                             "--device", "cuda", "--metrics", metrics});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile result_file(out + "/result.json");
    QVERIFY(result_file.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(result_file.readAll()).object();
    QCOMPARE(result["requested_device"].toString(), QString("cuda"));
    QFile metrics_file(metrics);
    QVERIFY(metrics_file.open(QIODevice::ReadOnly));
    const QJsonObject m = QJsonDocument::fromJson(metrics_file.readAll()).object();
    QVERIFY2(!m.isEmpty(), "metrics file is not a JSON object");
    if (result["device"].toString().startsWith("cuda")) {
        QVERIFY(result["fallback_reason"].isNull());
    } else {
        // The GPU was not used, and the user is told why: in the result, the metrics and stderr.
        QCOMPARE(result["device"].toString(), QString("cpu"));
        QVERIFY(result["fallback_reason"].toString().contains("CUDA requested"));
        QVERIFY(run.err.contains("CUDA requested"));
        QVERIFY(QJsonDocument(m).toJson().contains("CUDA requested"));
    }
}

void TestCli::bad_inputs_fail_with_one_clear_line_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    const QString g = golden_dir();
    const QStringList seg{"segment", "--image", g + "/images/coffee.png", "--prompts",
                          g + "/images/coffee_prompts.json", "--out", "/tmp/ps-never-written"};
    QTest::newRow("u2net as SAM") << (QStringList{"info", g + "/u2netp.pth"}) << "U²-Net";
    QTest::newRow("pickle os.system") << (seg + QStringList{"--model", g + "/hostile/pickle_os_system.pth"})
                                      << "posix.system";
    QTest::newRow("truncated zip") << (seg + QStringList{"--model", g + "/hostile/truncated_half.pth"})
                                   << "truncated";
    QTest::newRow("safetensors out of bounds")
        << (seg + QStringList{"--model", g + "/hostile/st_offsets_out_of_bounds.safetensors"})
        << "out of bounds";
    QTest::newRow("wrong magic") << (QStringList{"info", g + "/hostile/random_bytes.pth"})
                                 << "unknown format";
    QTest::newRow("missing image")
        << (QStringList{"segment", "--model", g + "/sam_vit_tiny.pth", "--image", "/nonexistent.png",
                        "--prompts", g + "/images/coffee_prompts.json", "--out", "/tmp/ps-never-written"})
        << "nonexistent.png";
    QTest::newRow("prompts not json")
        << (QStringList{"segment", "--model", g + "/sam_vit_tiny.pth", "--image",
                        g + "/images/coffee.png", "--prompts", g + "/images/coffee.png", "--out",
                        "/tmp/ps-never-written"})
        << "invalid JSON";
    QTest::newRow("unknown precision")
        << (seg + QStringList{"--model", g + "/sam_vit_tiny.pth", "--precision", "fp8"}) << "fp8";
    QTest::newRow("missing model") << seg << "missing --model";
}

void TestCli::bad_inputs_fail_with_one_clear_line() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const CliRun run = run_cli(args);
    const QString problem = one_line_failure_problem(run, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!QFileInfo::exists("/tmp/ps-never-written/result.json"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
