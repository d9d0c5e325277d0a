// photosynth-cli with InSPyReNet, a real process each time: info names the family and the
// variant (the tiny golden checkpoints, transparent-background's "fast" mode by file name, and a
// full-size random one from init-checkpoint), remove-bg makes the reference's matte through the
// engine, a SAM file is refused in one line.
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

namespace {

QString data_dir() {
    return test_data_dir("inspyrenet");
}

}  // namespace

class TestCliInSPyReNet : public QObject {
    Q_OBJECT
  private slots:
    void info_describes_inspyrenet_data();
    void info_describes_inspyrenet();
    void remove_bg_makes_the_reference_matte();
    void remove_bg_refuses_a_sam_checkpoint_in_one_line();
};

void TestCliInSPyReNet::info_describes_inspyrenet_data() {
    // A file of tests/data/inspyrenet (copied under a new name when given "as:NAME"), or
    // "init:ARCH" for init-checkpoint's full-size random file.
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("backbone");
    QTest::addColumn<int>("input_size");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<int>("tensors");
    QTest::newRow("tiny res2net50") << "inspyrenet_res2net50_tiny.pth"
                                    << "inspyrenet_custom"
                                    << "Res2Net50-v1b" << 384 << "" << 1790;
    QTest::newRow("tiny swinb, base") << "inspyrenet_swinb_tiny.pth"
                                      << "inspyrenet_custom"
                                      << "Swin-B" << 1024 << "base" << 1429;
    QTest::newRow("tiny swinb, fast by name") << "as:ckpt_fast.pth"
                                              << "inspyrenet_custom"
                                              << "Swin-B" << 384 << "fast" << 1429;
    // Official layouts: 1790 and 1625 entries (tests/data/inspyrenet/official_layouts.json).
    QTest::newRow("init-checkpoint res2net50") << "init:inspyrenet_res2net50"
                                               << "inspyrenet_res2net50"
                                               << "Res2Net50-v1b" << 384 << "" << 1790;
}

void TestCliInSPyReNet::info_describes_inspyrenet() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, arch);
    QFETCH(QString, backbone);
    QFETCH(int, input_size);
    QFETCH(QString, mode);
    QFETCH(int, tensors);
    QTemporaryDir dir;
    QString path = data_dir() + "/" + checkpoint;
    if (checkpoint.startsWith("init:")) {
        path = dir.filePath("inspyrenet.safetensors");
        const CliRun init =
            run_cli({"init-checkpoint", "--arch", checkpoint.mid(5), "--out", path});
        QVERIFY2(init.exit_code == 0, qPrintable(init.err));
        QVERIFY2(init.out.contains(QString("%1 tensors").arg(tensors)), qPrintable(init.out));
    } else if (checkpoint.startsWith("as:")) {
        path = dir.filePath(checkpoint.mid(3));
        QVERIFY(QFile::copy(data_dir() + "/inspyrenet_swinb_tiny.pth", path));
    }
    const CliRun json_run = run_cli({"info", path, "--json"});
    QVERIFY2(json_run.exit_code == 0, qPrintable(json_run.err));
    const QJsonObject info = QJsonDocument::fromJson(json_run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), QString("inspyrenet"));
    QCOMPARE(info["arch"].toString(), arch);
    QCOMPARE(info["input_size"].toInt(), input_size);
    QCOMPARE(info["mode"].toString(), mode);
    QCOMPARE(info["tensors"].toInt(), tensors);
    QCOMPARE(info["backbone"].toObject()["name"].toString(), backbone);

    const CliRun text_run = run_cli({"info", path});
    QVERIFY2(text_run.exit_code == 0, qPrintable(text_run.err));
    QVERIFY2(text_run.out.contains("family: inspyrenet"), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains(backbone + " backbone"), qPrintable(text_run.out));
    if (!mode.isEmpty()) {
        QVERIFY2(text_run.out.contains("\"" + mode + "\" mode"), qPrintable(text_run.out));
        QVERIFY2(text_run.out.contains("identical layouts"), qPrintable(text_run.out));
    }
}

void TestCliInSPyReNet::remove_bg_makes_the_reference_matte() {
    // The tiny Res2Net50 at its default 384 (transparent-background's pre/post-processing).
    QTemporaryDir dir;
    const QString out = dir.path() + "/cutout.png", matte_path = dir.path() + "/matte.png";
    const CliRun run =
        run_cli({"remove-bg", "--model", data_dir() + "/inspyrenet_res2net50_tiny.pth", "--image",
                 data_dir() + "/portrait.png", "--out", out, "--matte", matte_path, "--device",
                 "cpu", "--precision", "fp32"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("inspyrenet_custom on cpu"), qPrintable(run.out));
    const cv::Mat matte = read_grey_png(matte_path);
    const cv::Mat expected =
        read_grey_png(data_dir() + "/inspyrenet_res2net50_tiny__384_portrait_matte.png");
    QVERIFY2(!matte.empty() && !expected.empty(), "cannot read the mattes");
    QCOMPARE(matte.size(), expected.size());
    const double worst = worst_level_difference(matte, expected);
    QVERIFY2(worst >= 0 && worst <= 6,
             qPrintable(QString("max |diff| %1 levels").arg(worst)));  // README
    QVERIFY(QFile::exists(out));
}

void TestCliInSPyReNet::remove_bg_refuses_a_sam_checkpoint_in_one_line() {
    QTemporaryDir dir;
    const CliRun run = run_cli({"remove-bg", "--model", golden_dir() + "/sam_vit_tiny.pth",
                                "--image", data_dir() + "/portrait.png", "--out",
                                dir.path() + "/cutout.png", "--device", "cpu"});
    const QString problem = one_line_failure_problem(run, "InSPyReNet");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_GUILESS_MAIN(TestCliInSPyReNet)
#include "test_cli_inspyrenet.moc"
