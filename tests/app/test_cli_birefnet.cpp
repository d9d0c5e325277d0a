// photosynth-cli with BiRefNet, a real process each time: info names the family and the variant
// (the tiny golden checkpoint, and full-size random ones from init-checkpoint whose file names
// give the input size), remove-bg makes BiRefNetModel::run's matte through the engine, a SAM file
// is refused in one line, bench times it.
#include "models/birefnet/birefnet_model.h"  // ATen-using headers before Qt's `slots` macro

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "app/cli_matting_checks.h"
#include "app/cli_process.h"
#include "io/image_reader.h"
#include "sam_golden.h"
#include "test_data.h"

namespace {

QString data(const QString& name) {
    return test_data_dir("birefnet") + "/" + name;
}

// The tiny checkpoint as "BiRefNet_dynamic-tiny.pth" in `dir`: it runs at the image's own size
// (test_birefnet_parity covers the 1024² path), which keeps the processes quick.
QString dynamic_copy(const QTemporaryDir& dir) {
    const QString path = dir.filePath("BiRefNet_dynamic-tiny.pth");
    if (!QFile::exists(path)) QFile::copy(data("birefnet_tiny.pth"), path);
    return path;
}

}  // namespace

class TestCliBirefnet : public QObject {
    Q_OBJECT
  private slots:
    void info_describes_birefnet_data();
    void info_describes_birefnet();
    void remove_bg_makes_the_models_matte();
    void remove_bg_refuses_a_sam_checkpoint_in_one_line();
    void bench_times_birefnet();
};

void TestCliBirefnet::info_describes_birefnet_data() {
    QTest::addColumn<QString>("checkpoint");  // a file of tests/data/birefnet, or "init:ARCH:NAME"
    QTest::addColumn<QString>("arch");
    QTest::addColumn<qint64>("parameters");  // floating elements, BatchNorm statistics included
    QTest::addColumn<int>("tensors");
    QTest::addColumn<QString>("size");  // the input, width x height
    QTest::addColumn<QString>("variants");
    QTest::newRow("tiny golden") << "birefnet_tiny.pth"
                                 << "birefnet_custom" << qint64(1014537) << 530 << "1024x1024"
                                 << "custom widths";
    QTest::newRow("BiRefNet_lite") << "init:birefnet_lite:BiRefNet_lite.safetensors"
                                   << "birefnet_lite" << qint64(44333848) << 586 << "1024x1024"
                                   << "BiRefNet_lite and BiRefNet_lite-2K";
    QTest::newRow("BiRefNet_lite-2K") << "init:birefnet_lite_2k:BiRefNet_lite-2K.safetensors"
                                      << "birefnet_lite" << qint64(44333848) << 586 << "2560x1440"
                                      << "BiRefNet_lite and BiRefNet_lite-2K";
}

void TestCliBirefnet::info_describes_birefnet() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, arch);
    QFETCH(qint64, parameters);
    QFETCH(int, tensors);
    QFETCH(QString, size);
    QFETCH(QString, variants);
    QTemporaryDir dir;
    QString path = data(checkpoint);
    if (checkpoint.startsWith("init:")) {
        const QStringList parts = checkpoint.split(':');
        path = dir.filePath(parts[2]);
        const CliRun init = run_cli({"init-checkpoint", "--arch", parts[1], "--out", path});
        QVERIFY2(init.exit_code == 0, qPrintable(init.err));
        QVERIFY2(init.out.contains(QString("%1 tensors").arg(tensors)), qPrintable(init.out));
    }
    const CliRun json_run = run_cli({"info", path, "--json"});
    QVERIFY2(json_run.exit_code == 0, qPrintable(json_run.err));
    const QJsonObject info = QJsonDocument::fromJson(json_run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), QString("birefnet"));
    QCOMPARE(info["arch"].toString(), arch);
    QCOMPARE(info["parameters"].toInteger(), parameters);
    QCOMPARE(info["tensors"].toInt(), tensors);
    QCOMPARE(QString("%1x%2").arg(info["input_width"].toInt()).arg(info["input_height"].toInt()),
             size);
    QVERIFY2(info["variants"].toString().contains(variants), qPrintable(json_run.out));

    const CliRun text_run = run_cli({"info", path});
    QVERIFY2(text_run.exit_code == 0, qPrintable(text_run.err));
    QVERIFY2(text_run.out.contains("family: birefnet"), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains(variants), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains("input " + size), qPrintable(text_run.out));
}

void TestCliBirefnet::remove_bg_makes_the_models_matte() {
    QTemporaryDir dir;
    const QString out = dir.path() + "/cutout.png", matte_path = dir.path() + "/matte.png";
    const CliRun run =
        run_cli({"remove-bg", "--model", dynamic_copy(dir), "--image", data("square.png"), "--out",
                 out, "--matte", matte_path, "--device", "cpu", "--precision", "fp32"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("birefnet_custom on cpu"), qPrintable(run.out));
    // The reference is the model run alone, in this process.
    auto model = ps::birefnet::BiRefNetModel::load(
        dynamic_copy(dir).toStdString(), {ps::runtime::Device::Cpu, ps::runtime::Precision::Fp32});
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    auto rgb = ps::io::read_rgb_image(data("square.png").toStdString());
    QVERIFY(rgb.ok());
    auto expected = (*model)->run(*rgb);
    QVERIFY(expected.ok());
    const cv::Mat matte = read_grey_png(matte_path);
    QCOMPARE(matte.size(), expected->matte.size());
    // Another process may split ATen's reductions over other threads: a float one ulp away can
    // truncate to the next level (seen: 1 pixel of 26,000).
    const double worst = worst_level_difference(matte, expected->matte);
    QVERIFY2(worst >= 0 && worst <= 1, qPrintable(QString("max |diff| %1 levels").arg(worst)));
    QVERIFY(cv::countNonZero(matte != expected->matte) < int(matte.total() / 1000));
    QVERIFY(QFile::exists(out));
}

void TestCliBirefnet::remove_bg_refuses_a_sam_checkpoint_in_one_line() {
    QTemporaryDir dir;
    const CliRun run =
        run_cli({"remove-bg", "--model", golden_dir() + "/sam_vit_tiny.pth", "--image",
                 data("square.png"), "--out", dir.path() + "/cutout.png", "--device", "cpu"});
    const QString problem = one_line_failure_problem(run, "BiRefNet");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestCliBirefnet::bench_times_birefnet() {
    QTemporaryDir dir;
    const QString json = dir.path() + "/bench.json";
    const CliRun run =
        run_cli({"bench", "--model", dynamic_copy(dir), "--device", "cpu", "--synthetic", "320x240",
                 "--iterations", "2", "--warmup", "1", "--json", json});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QString problem = matting_bench_report_problem(json, "birefnet", 2);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_GUILESS_MAIN(TestCliBirefnet)
#include "test_cli_birefnet.moc"
