// photosynth-cli with SAM 2.1, a real process each time: info names the variant (the tiny golden
// checkpoint and a full-size random sam2.1_hiera_t from init-checkpoint), segment and annotate
// take a SAM 2 file wherever a SAM one works and write masks through the engine, bench times
// its encode and decode, and remove-bg refuses it in one line.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "annotation/project.h"
#include "app/cli_process.h"
#include "sam_golden.h"
#include "test_data.h"

namespace {

QString sam2_data(const QString& name) {
    return test_data_dir("sam2") + "/" + name;
}

bool write_file(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

}  // namespace

class TestCliSam2 : public QObject {
    Q_OBJECT
  private slots:
    void info_names_the_tiny_checkpoint();
    void init_checkpoint_then_info_names_hiera_t();
    void segment_writes_masks();
    void annotate_writes_masks();
    void bench_times_encode_and_decode();
    void remove_bg_refuses_sam2_in_one_line();
};

void TestCliSam2::info_names_the_tiny_checkpoint() {
    const CliRun run = run_cli({"info", sam2_data("sam2_tiny.pt"), "--json"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QJsonObject info = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), QString("sam2"));
    QCOMPARE(info["arch"].toString(), QString("sam2.1_hiera_custom"));
    const CliRun text = run_cli({"info", sam2_data("sam2_tiny.pt")});
    QVERIFY2(text.exit_code == 0, qPrintable(text.err));
    QVERIFY2(text.out.contains("family: sam2"), qPrintable(text.out));
}

void TestCliSam2::init_checkpoint_then_info_names_hiera_t() {
    QTemporaryDir dir;
    const QString path = dir.filePath("sam2.1_hiera_tiny.safetensors");
    const CliRun init = run_cli({"init-checkpoint", "--arch", "sam2.1_hiera_t", "--out", path});
    QVERIFY2(init.exit_code == 0, qPrintable(init.err));
    const CliRun run = run_cli({"info", path, "--json"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QJsonObject info = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), QString("sam2"));
    QCOMPARE(info["arch"].toString(), QString("sam2.1_hiera_t"));
    const CliRun text = run_cli({"info", path});
    QVERIFY2(text.exit_code == 0, qPrintable(text.err));
    QVERIFY2(text.out.contains("SAM 2.1 Hiera-T"), qPrintable(text.out));
}

void TestCliSam2::segment_writes_masks() {
    QTemporaryDir dir;
    const QString prompts = dir.filePath("prompts.json");
    QVERIFY(write_file(prompts, R"({"prompts": [
        {"points": [[120, 110, 1]], "multimask": true},
        {"points": [[120, 110, 1], [60, 250, 0]], "multimask": false},
        {"box": [40, 30, 200, 220], "multimask": false}]})"));
    const QString out = dir.filePath("out");
    const CliRun run =
        run_cli({"segment", "--model", sam2_data("sam2_tiny.pt"), "--image", sam2_data("image.png"),
                 "--prompts", prompts, "--out", out, "--device", "cpu"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile file(out + "/result.json");
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(result["model"].toObject()["family"].toString(), QString("sam2"));
    QVERIFY(result["encode_ms"].toDouble() > 0);
    const QJsonArray results = result["prompts"].toArray();
    QCOMPARE(results.size(), 3);
    const int expected_masks[] = {3, 1, 1};
    for (int k = 0; k < results.size(); ++k) {
        const QJsonArray masks = results[k].toObject()["masks"].toArray();
        QCOMPARE(masks.size(), expected_masks[k]);
        for (const QJsonValue& name : masks) {
            const cv::Mat mask = read_grey_png(out + "/" + name.toString());
            QCOMPARE(mask.cols, 240);
            QCOMPARE(mask.rows, 300);
        }
    }
}

void TestCliSam2::annotate_writes_masks() {
    QTemporaryDir dir;
    const QString images = dir.filePath("images");
    QVERIFY(QDir().mkpath(images));
    QVERIFY(QFile::copy(sam2_data("image.png"), images + "/astronaut.png"));
    const QString points = dir.filePath("points.json");
    QVERIFY(write_file(points, R"({"images": {"astronaut.png": [
        {"label": "person", "points": [[120, 110]]},
        {"label": "helmet", "box": [40, 30, 200, 220]}]}})"));
    const QString project = dir.filePath("project");
    const CliRun run =
        run_cli({"annotate", "--model", sam2_data("sam2_tiny.pt"), "--input-dir", images,
                 "--points", points, "--project", project, "--device", "cpu"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.err.contains("1 annotated (2 object(s))"), qPrintable(run.err));
    auto opened = ps::annotation::Project::open(project.toStdString());
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.message().c_str());
    auto loaded = opened->load("astronaut.png");
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.message().c_str());
    const auto& objects = loaded->annotation.objects;
    QCOMPARE(int(objects.size()), 2);
    for (const auto& object : objects) {
        QCOMPARE(object.mask.width, 240);
        QCOMPARE(object.mask.height, 300);
        QVERIFY(ps::annotation::rle_area(object.mask) > 0);
    }
}

void TestCliSam2::bench_times_encode_and_decode() {
    QTemporaryDir dir;
    const QString json = dir.filePath("bench.json");
    const CliRun run =
        run_cli({"bench", "--model", sam2_data("sam2_tiny.pt"), "--device", "cpu", "--synthetic",
                 "320x240", "--iterations", "2", "--warmup", "1", "--json", json});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject m =
        QJsonDocument::fromJson(file.readAll()).object()["models"].toArray()[0].toObject();
    QCOMPARE(m["family"].toString(), QString("sam2"));
    const QJsonObject stages = m["stages"].toObject();
    for (const char* stage : {"preprocess", "encode", "mask_decode", "postprocess"}) {
        QVERIFY2(stages[stage].toObject()["n"].toInt() == 2, stage);
        QVERIFY2(stages[stage].toObject()["p50_ms"].toDouble() > 0, stage);
    }
}

void TestCliSam2::remove_bg_refuses_sam2_in_one_line() {
    QTemporaryDir dir;
    const CliRun run =
        run_cli({"remove-bg", "--model", sam2_data("sam2_tiny.pt"), "--image",
                 sam2_data("image.png"), "--out", dir.filePath("cutout.png"), "--device", "cpu"});
    const QString problem = one_line_failure_problem(
        run,
        "sam2_tiny.pt: looks like a Segment Anything 2 checkpoint (sam2), not a "
        "background-removal model");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!QFile::exists(dir.filePath("cutout.png")));
}

QTEST_MAIN(TestCliSam2)
#include "test_cli_sam2.moc"
