// photosynth-cli with ISNet, a real process each time: info names the family (the tiny golden
// checkpoint and a full-size random one from init-checkpoint), remove-bg makes the reference's
// matte through the engine, bench times it.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "app/cli_matting_checks.h"
#include "app/cli_process.h"
#include "sam_golden.h"
#include "test_data.h"

class TestCliIsNet : public QObject {
    Q_OBJECT
  private slots:
    void info_describes_isnet_data();
    void info_describes_isnet();
    void remove_bg_makes_the_reference_matte();
    void remove_bg_refuses_a_sam_checkpoint_in_one_line();
    void bench_times_isnet();
};

void TestCliIsNet::info_describes_isnet_data() {
    QTest::addColumn<QString>("checkpoint");  // a file of tests/data/isnet, or "init:isnet"
    QTest::addColumn<QString>("arch");
    // Every floating-point element of the state dict (BatchNorm statistics included), counted
    // on the official ISNetDIS() and on the golden file by torch.
    QTest::addColumn<qint64>("parameters");
    QTest::addColumn<QString>("stage1");  // in/mid/out widths
    QTest::newRow("tiny golden") << "isnet_tiny.pth"
                                 << "isnet_custom" << qint64(698270) << "8/4/8";
    QTest::newRow("init-checkpoint") << "init:isnet"
                                     << "isnet" << qint64(44075590) << "64/32/64";
}

void TestCliIsNet::info_describes_isnet() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, arch);
    QFETCH(qint64, parameters);
    QFETCH(QString, stage1);
    QTemporaryDir dir;
    QString path = isnet_data_dir() + "/" + checkpoint;
    if (checkpoint.startsWith("init:")) {
        path = dir.filePath("isnet.safetensors");
        const CliRun init = run_cli({"init-checkpoint", "--arch", "isnet", "--out", path});
        QVERIFY2(init.exit_code == 0, qPrintable(init.err));
        QVERIFY2(init.out.contains("798 tensors"), qPrintable(init.out));
    }
    const CliRun json_run = run_cli({"info", path, "--json"});
    QVERIFY2(json_run.exit_code == 0, qPrintable(json_run.err));
    const QJsonObject info = QJsonDocument::fromJson(json_run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), QString("isnet"));
    QCOMPARE(info["arch"].toString(), arch);
    QCOMPARE(info["parameters"].toInteger(), parameters);
    QCOMPARE(info["input_size"].toInt(), 1024);
    QCOMPARE(info["tensors"].toInt(), 798);
    const QJsonArray stages = info["stages"].toArray();
    QCOMPARE(stages.size(), 11);
    const QJsonObject first = stages[0].toObject();
    QCOMPARE(QString("%1/%2/%3")
                 .arg(first["in_ch"].toInt())
                 .arg(first["mid_ch"].toInt())
                 .arg(first["out_ch"].toInt()),
             stage1);

    const CliRun text_run = run_cli({"info", path});
    QVERIFY2(text_run.exit_code == 0, qPrintable(text_run.err));
    QVERIFY2(text_run.out.contains("family: isnet"), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains("ISNet"), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains("stage1 " + stage1), qPrintable(text_run.out));
}

void TestCliIsNet::remove_bg_makes_the_reference_matte() {
    QTemporaryDir dir;
    const QString out = dir.path() + "/cutout.png", matte_path = dir.path() + "/matte.png";
    const CliRun run = run_cli({"remove-bg", "--model", isnet_data_dir() + "/isnet_tiny.pth",
                                "--image", isnet_data_dir() + "/portrait.png", "--out", out,
                                "--matte", matte_path, "--device", "cpu", "--precision", "fp32"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("isnet_custom on cpu"), qPrintable(run.out));
    const cv::Mat matte = read_grey_png(matte_path);
    const cv::Mat expected = read_grey_png(isnet_data_dir() + "/isnet_tiny__portrait_matte.png");
    QVERIFY2(!matte.empty() && !expected.empty(), "cannot read the mattes");
    QCOMPARE(matte.size(), expected.size());
    const double worst = worst_level_difference(matte, expected);
    QVERIFY2(worst >= 0 && worst <= 1,
             qPrintable(QString("max |diff| %1 levels").arg(worst)));  // README
    QVERIFY(QFile::exists(out));
}

void TestCliIsNet::remove_bg_refuses_a_sam_checkpoint_in_one_line() {
    QTemporaryDir dir;
    const CliRun run = run_cli({"remove-bg", "--model", golden_dir() + "/sam_vit_tiny.pth",
                                "--image", isnet_data_dir() + "/portrait.png", "--out",
                                dir.path() + "/cutout.png", "--device", "cpu"});
    const QString problem = one_line_failure_problem(run, "ISNet");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestCliIsNet::bench_times_isnet() {
    QTemporaryDir dir;
    const QString json = dir.path() + "/bench.json";
    const CliRun run =
        run_cli({"bench", "--model", isnet_data_dir() + "/isnet_tiny.pth", "--device", "cpu",
                 "--synthetic", "320x240", "--iterations", "2", "--warmup", "1", "--json", json});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QString problem = matting_bench_report_problem(json, "isnet", 2);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_GUILESS_MAIN(TestCliIsNet)
#include "test_cli_isnet.moc"
