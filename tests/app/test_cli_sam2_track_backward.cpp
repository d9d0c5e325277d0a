// photosynth-cli track --direction backward with the only prompt on frame 0 (the real process, the
// tiny golden SAM 2.1 checkpoint): the prompted frame is tracked and exported, the same mask as
// a forward run gives it, where it used to track "0 frame(s)" and mark the run complete.
#include <QtTest>

#ifdef PHOTOSYNTH_WITH_VIDEO
#include <QDir>
#include <QTemporaryDir>

#include <opencv2/imgcodecs.hpp>

#include "app/cli_process.h"
#include "app/moving_disc_clip.h"
#include "file_bytes.h"
#include "test_data.h"

namespace {

const char kTinyLayout[] = "image_size=256,num_heads=1,window_spec=8:4:6:3,global_att_blocks=4:6";

QStringList track_args(const QString& video, const QString& prompts, const QString& out,
                       const QString& direction) {
    return {"track",
            "--model",
            QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt")),
            "--video",
            video,
            "--prompts",
            prompts,
            "--out",
            out,
            "--device",
            "cpu",
            "--precision",
            "fp32",
            "--sam2-layout",
            kTinyLayout,
            "--direction",
            direction,
            "--export",
            "masks"};
}

}  // namespace

class TestCliSam2TrackBackward : public QObject {
    Q_OBJECT
  private slots:
    void backward_from_frame_zero_tracks_it();
};

void TestCliSam2TrackBackward::backward_from_frame_zero_tracks_it() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), prompts = dir.filePath("prompts.json");
    QCOMPARE(write_moving_disc_clip(clip, 5, 20), QString());
    QVERIFY(write_file(
        prompts,
        R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[20, 32, 1]]}]}]})"));
    const QString backward = dir.filePath("backward"), forward = dir.filePath("forward");
    const CliRun run = run_cli(track_args(clip, prompts, backward, "backward"), 120000);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("tracked 1 frame(s)"), qPrintable(run.out));
    const QStringList written = QDir(backward + "/masks/1").entryList(QDir::Files);
    QCOMPARE(written, QStringList{"000000.png"});

    const CliRun reference = run_cli(track_args(clip, prompts, forward, "forward"), 120000);
    QVERIFY2(reference.exit_code == 0, qPrintable(reference.err));
    const cv::Mat back =
        cv::imread((backward + "/masks/1/000000.png").toStdString(), cv::IMREAD_UNCHANGED);
    const cv::Mat fore =
        cv::imread((forward + "/masks/1/000000.png").toStdString(), cv::IMREAD_UNCHANGED);
    QVERIFY(!back.empty() && !fore.empty() && back.size() == fore.size());
    QCOMPARE(cv::countNonZero(back != fore), 0);

    // Run again: done already, nothing tracked anew.
    const CliRun again = run_cli(track_args(clip, prompts, backward, "backward"), 120000);
    QVERIFY2(again.exit_code == 0, qPrintable(again.err));
    QVERIFY2(!again.out.contains("tracked 1 frame(s)"), qPrintable(again.out));
}

#else
class TestCliSam2TrackBackward : public QObject {
    Q_OBJECT
  private slots:
    void skipped() { QSKIP("built without OpenCV's video I/O"); }
};
#endif

QTEST_MAIN(TestCliSam2TrackBackward)
#include "test_cli_sam2_track_backward.moc"
