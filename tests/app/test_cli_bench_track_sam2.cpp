// `photosynth-cli bench --track` as a real process: the tiny SAM 2.1 checkpoint on a synthetic
// clip and on a folder of frames, its JSON report read back, and the refusals (another family, a
// clip too short, an unwritable report) as one-line errors; --one-object-at-a-time recorded.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "cli_process.h"
#include "golden_dir.h"
#include "test_data.h"

namespace {

const QString kTinyLayout = "image_size=256,num_heads=1,window_spec=8:4:6:3,global_att_blocks=4:6";

QStringList tiny_args() {
    return {"bench",         "--track",
            "--model",       QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt")),
            "--sam2-layout", kTinyLayout,
            "--device",      "cpu"};
}

QJsonObject read_json(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

}  // namespace

class TestCliBenchTrackSam2 : public QObject {
    Q_OBJECT
  private slots:
    void synthetic_clip_report();
    void folder_of_frames();
    void one_object_at_a_time();
    void refusals_in_one_line();
};

void TestCliBenchTrackSam2::synthetic_clip_report() {
    QTemporaryDir dir;
    const QString json = dir.filePath("track.json");
    const CliRun run = run_cli(tiny_args() + QStringList{"--synthetic", "160x90", "--frames", "12",
                                                         "--objects", "2", "--json", json});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("per extra object") && run.out.contains("peak RSS"),
             qPrintable(run.out));
    const QJsonObject report = read_json(json);
    QCOMPARE(report["device"].toString(), QString("cpu"));
    QCOMPARE(report["width"].toInt(), 160);
    QCOMPARE(report["height"].toInt(), 90);
    QVERIFY(report["image_encode_ms"].toDouble() > 0);
    QVERIFY(report["peak_rss_bytes"].toDouble() > 0);
    QVERIFY(report["peak_vram_bytes"].isNull());  // a CPU run has none to report
    const QJsonArray runs = report["runs"].toArray();
    QCOMPARE(runs.size(), 2);
    for (int i = 0; i < runs.size(); ++i) {
        const QJsonObject r = runs[i].toObject();
        QCOMPARE(r["objects"].toInt(), i + 1);
        QCOMPARE(r["frames"].toInt(), 12);
        QVERIFY(r["frame_p50_ms"].toDouble() > 0);
        QVERIFY(r["frame_p90_ms"].toDouble() >= r["frame_p50_ms"].toDouble());
        // On the CPU the masks are on the host when queued: next to no wait.
        QVERIFY(r.contains("frame_gpu_wait_p50_ms"));
        QVERIFY(r["frame_gpu_wait_p50_ms"].toDouble() >= 0);
        QVERIFY(r["frame_gpu_wait_p50_ms"].toDouble() < r["frame_p50_ms"].toDouble());
    }
}

void TestCliBenchTrackSam2::folder_of_frames() {
    QTemporaryDir dir;
    const QString frames = dir.filePath("frames");
    QVERIFY(QDir().mkpath(frames));
    for (int i = 0; i < 4; ++i) {
        QImage image(64, 48, QImage::Format_RGB888);
        image.fill(QColor(20 + 40 * i, 90, 200 - 30 * i));
        QVERIFY(image.save(frames + QString("/f%1.png").arg(i)));
    }
    const QString json = dir.filePath("track.json");
    const CliRun run =
        run_cli(tiny_args() + QStringList{"--video", frames, "--frames", "10", "--json", json});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QJsonObject report = read_json(json);
    QCOMPARE(report["clip"].toString(), QString("frames"));
    QCOMPARE(report["runs"].toArray()[0].toObject()["frames"].toInt(), 4);
    QVERIFY(report["batch_objects"].toBool());
}

// The A/B switch for object batching: recorded in the report and named by the printed slope.
void TestCliBenchTrackSam2::one_object_at_a_time() {
    QTemporaryDir dir;
    const QString json = dir.filePath("track.json");
    const CliRun run =
        run_cli(tiny_args() + QStringList{"--synthetic", "96x64", "--frames", "3", "--objects", "2",
                                          "--one-object-at-a-time", "--json", json});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("(one object at a time)"), qPrintable(run.out));
    const QJsonObject report = read_json(json);
    QCOMPARE(report["batch_objects"].toBool(true), false);
    QCOMPARE(report["runs"].toArray().size(), 2);
}

void TestCliBenchTrackSam2::refusals_in_one_line() {
    QTemporaryDir dir;
    const CliRun other =
        run_cli({"bench", "--track", "--model", QString::fromStdString(golden_path("u2netp.pth")),
                 "--synthetic", "64x48", "--frames", "4", "--device", "cpu"});
    const QString problem = one_line_failure_problem(other, "video tracking needs a SAM 2.1");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    const CliRun short_clip = run_cli(tiny_args() + QStringList{"--frames", "1"});
    QCOMPARE(short_clip.exit_code, 2);
    QVERIFY(short_clip.err.contains("--frames must be >= 2"));

    const CliRun bad_size = run_cli(tiny_args() + QStringList{"--synthetic", "0x48"});
    QCOMPARE(bad_size.exit_code, 2);
    QVERIFY(bad_size.err.contains("--synthetic must be WIDTHxHEIGHT, got '0x48'"));

    const QString unwritable = dir.filePath("missing/track.json");
    const CliRun no_folder =
        run_cli(tiny_args() + QStringList{"--frames", "4", "--json", unwritable});
    QVERIFY2(one_line_failure_problem(no_folder, "missing").isEmpty(), qPrintable(no_folder.err));
    QVERIFY(!QFile::exists(unwritable));

    const CliRun missing_video =
        run_cli(tiny_args() + QStringList{"--video", dir.filePath("nope.mp4")});
    QVERIFY2(one_line_failure_problem(missing_video, "nope.mp4: no such file").isEmpty(),
             qPrintable(missing_video.err));
}

QTEST_MAIN(TestCliBenchTrackSam2)
#include "test_cli_bench_track_sam2.moc"
