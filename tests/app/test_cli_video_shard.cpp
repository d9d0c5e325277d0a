// photosynth-cli remove-bg --video split into shards (--shard I/N, a Slurm array task), each a real
// process: three shards started together give the frames of one process byte for byte, with and
// without --smooth (whose warm-up frames are matted again at a share's start), every frame
// written by exactly one shard; merge gathers their summaries and writes the preview none of
// them could, byte for byte the one-process run's and over the run's background (a colour, or a
// background image read again and refused once changed or gone); a SIGKILLed shard run again
// redoes none of the frames its journal vouches for; bad shards and a --preview on a shard are
// one-line errors that write nothing.
#include <QtTest>

#ifdef PHOTOSYNTH_WITH_VIDEO
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <csignal>
#include <map>
#include <memory>

#include "app/cli_process.h"
#include "file_bytes.h"
#include "golden_dir.h"
#include "moving_disc_clip.h"
#include "preview_frames.h"

namespace {

const QString kModel = QString::fromStdString(golden_path("u2netp.pth"));
constexpr int kFrames = 6;  // U²-NetP: ~0.5 s a frame on this machine
// A Motion JPEG preview frame against the frame composited here, in mean grey levels: the
// codec's rounding (measured on the test clip: 1.6-1.8), not the checkerboard (16.5 in
// test_cli_video).
constexpr double kPreviewTolerance = 3;

QString write_clip(const QString& path, int frames) {
    return write_moving_disc_clip(path, frames, 16);
}

QString frame(const QString& dir, int index) {
    return dir + QString("/frame_%1.png").arg(index, 6, 10, QChar('0'));
}

QStringList video_args(const QString& clip, const QString& out) {
    return {"remove-bg", "--model",  kModel, "--video",     clip,  "--out",
            out,         "--device", "cpu",  "--precision", "fp32"};
}

// Journal lines of every shard of `root` with this event: input -> count; of one shard's when
// `shard` is given ("1-of-3").
std::map<QString, int> journal_events(const QString& root, const QString& event,
                                      const QString& shard = {}) {
    std::map<QString, int> counts;
    QDirIterator it(root + "/.photosynth/shards", {shard.isEmpty() ? "*.jsonl" : shard + ".jsonl"},
                    QDir::Files);
    while (it.hasNext())
        for (const QByteArray& line : read_bytes(it.next()).split('\n')) {
            const QJsonObject json = QJsonDocument::fromJson(line).object();
            if (json["event"].toString() == event) ++counts[json["input"].toString()];
        }
    return counts;
}

// The visible files of `dir` (frames, manifest), hidden ones (temporary files) included when
// asked.
QStringList files_of(const QString& dir, bool hidden = false) {
    return QDir(dir).entryList(QDir::Files | (hidden ? QDir::Hidden : QDir::Filters()), QDir::Name);
}

}  // namespace

class TestCliVideoShard : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void shards_equal_one_process_data();
    void shards_equal_one_process();
    void merge_composites_over_the_runs_background_image();
    void a_killed_shard_redoes_nothing_it_finished();
    void errors_are_one_line_and_write_nothing();

  private:
    QTemporaryDir dir_;
    QString clip_;
};

void TestCliVideoShard::initTestCase() {
    QVERIFY(dir_.isValid());
    clip_ = dir_.filePath("clip.avi");
    QCOMPARE(write_clip(clip_, kFrames), QString());
}

void TestCliVideoShard::shards_equal_one_process_data() {
    QTest::addColumn<QStringList>("options");
    QTest::newRow("cut-outs") << QStringList{};
    // Smoothing reads the two frames before: shards 1 and 2 matte them again first. merge
    // composites the mattes over the run's background, as the run's own preview does.
    QTest::newRow("smoothed mattes over green")
        << QStringList{"--smooth", "0.6", "--frames", "matte", "--background", "#00ff00"};
}

void TestCliVideoShard::shards_equal_one_process() {
    QFETCH(QStringList, options);
    const QString tag = QTest::currentDataTag();
    const QString reference = dir_.filePath(tag + "-reference"), out = dir_.filePath(tag + "-3");
    const QString one_preview = dir_.filePath(tag + "-reference.avi");
    const CliRun one =
        run_cli(video_args(clip_, reference) + options << "--preview" << one_preview);
    QVERIFY2(one.exit_code == 0, qPrintable(one.err));
    // Shards 0 and 1 by option, shard 2 as the third task of a Slurm array.
    const std::vector<CliRun> runs =
        run_cli_together({video_args(clip_, out) + options << "--shard"
                                                           << "0/3",
                          video_args(clip_, out) + options << "--shard"
                                                           << "1/3",
                          video_args(clip_, out) + options},
                         {{}, {}, {"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=3"}});
    for (const CliRun& run : runs) QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    // [floor(I*6/3), floor((I+1)*6/3)): 0-1, 2-3, 4-5.
    QVERIFY2(runs[0].err.contains("shard 0/3: frames 0 to 1 of 6"), qPrintable(runs[0].err));
    QVERIFY2(runs[1].err.contains("shard 1/3: frames 2 to 3 of 6"), qPrintable(runs[1].err));
    QVERIFY2(runs[2].err.contains("shard 2/3: frames 4 to the end of 6"), qPrintable(runs[2].err));
    QVERIFY2(runs[1].out.contains("wrote 2 frame(s)"), qPrintable(runs[1].out));

    // The union is the one-process run, byte for byte (and the same manifest).
    QCOMPARE(files_of(out), files_of(reference));
    QCOMPARE(files_of(out).size(), kFrames + 1);
    for (int i = 0; i < kFrames; ++i)
        QVERIFY2(read_bytes(frame(out, i)) == read_bytes(frame(reference, i)),
                 qPrintable(QString("frame %1 differs").arg(i)));
    if (options.contains("--smooth")) {
        // Smoothing changes shard 1's first frame: without its warm-up that frame's matte would
        // be the raw one, the alpha of the cut-out row's frame (so this row can fail).
        const QImage cut(frame(dir_.filePath("cut-outs-reference"), 2));
        const QImage matte = QImage(frame(out, 2)).convertToFormat(QImage::Format_Grayscale8);
        int differing = 0;
        for (int y = 0; y < matte.height(); ++y)
            for (int x = 0; x < matte.width(); ++x)
                differing += qAlpha(cut.pixel(x, y)) != qGray(matte.pixel(x, y));
        QVERIFY2(differing > 0, "smoothing changed nothing at the share's start");
    }
    // Every frame done by exactly one shard, and by the shard whose range holds it.
    const auto done = journal_events(out, "done");
    QCOMPARE(int(done.size()), kFrames);
    for (const auto& [input, count] : done) QVERIFY2(count == 1, qPrintable(input));
    QCOMPARE(int(journal_events(out, "done", "1-of-3").size()), 2);
    QVERIFY(journal_events(out, "done", "1-of-3").count("frame_000002.png"));
    QVERIFY(journal_events(out, "done", "1-of-3").count("frame_000003.png"));

    // merge: one report of the three summaries, then the preview from every shard's frames.
    const QString preview = dir_.filePath(tag + "-preview.avi");
    const CliRun merged = run_cli({"merge", "--project", out, "--preview", preview});
    QVERIFY2(merged.exit_code == 0, qPrintable(merged.err + merged.out));
    QVERIFY2(merged.out.contains("remove-bg --video, 3 shard(s): 6 frame(s)"),
             qPrintable(merged.out));
    QVERIFY2(merged.out.contains("frames/s"), qPrintable(merged.out));
    QVERIFY2(merged.out.contains("6 done, 0 failed, 0 skipped, 0 pending"), qPrintable(merged.out));
    const QJsonObject report =
        QJsonDocument::fromJson(read_bytes(out + "/.photosynth/report.json")).object();
    QCOMPARE(report["done"].toInt(), kFrames);
    QCOMPARE(report["complete"].toBool(), true);
    const QJsonArray per_shard = report["per_shard"].toArray();
    QCOMPARE(per_shard.size(), 3);
    for (const QJsonValue& shard : per_shard) {
        const QJsonObject run = shard["runs"].toArray().first().toObject();
        QVERIFY(run["ended"].toBool());
        QVERIFY(run["images_per_second"].toDouble() > 0);
    }
    cv::VideoCapture check(preview.toStdString(), cv::CAP_FFMPEG);
    QVERIFY(check.isOpened());
    int previewed = 0;
    for (cv::Mat bgr; check.read(bgr); ++previewed) QCOMPARE(bgr.size(), cv::Size(96, 64));
    QCOMPARE(previewed, kFrames);
    // The same bytes as the one-process run's preview.
    QVERIFY(read_bytes(preview) == read_bytes(one_preview));
    // And over the run's background: the frames composited with their mattes over green.
    if (options.contains("--background"))
        QCOMPARE(preview_problem(
                     preview, clip_, [&out](int i) { return frame(out, i); }, cv::Scalar(0, 255, 0),
                     kPreviewTolerance),
                 QString());
}

void TestCliVideoShard::merge_composites_over_the_runs_background_image() {
    const QString clip = dir_.filePath("two.avi"), out = dir_.filePath("over-image");
    QCOMPARE(write_clip(clip, 2), QString());
    const QString background = dir_.filePath("blue.png");
    QImage blue(40, 30, QImage::Format_RGB888);
    blue.fill(QColor(0, 0, 255));
    QVERIFY(blue.save(background));
    const QStringList options{"--frames", "matte", "--background-image", background};
    const std::vector<CliRun> runs = run_cli_together({video_args(clip, out) + options << "--shard"
                                                                                       << "0/2",
                                                       video_args(clip, out) + options << "--shard"
                                                                                       << "1/2"});
    for (const CliRun& run : runs) QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QString preview = dir_.filePath("over-image.avi");
    const CliRun merged = run_cli({"merge", "--project", out, "--preview", preview});
    QVERIFY2(merged.exit_code == 0, qPrintable(merged.err));
    QCOMPARE(preview_problem(
                 preview, clip, [&out](int i) { return frame(out, i); }, cv::Scalar(255, 0, 0),
                 kPreviewTolerance),
             QString());

    // Another picture under the same name: refused, naming it, rather than composited over.
    QImage red(40, 30, QImage::Format_RGB888);
    red.fill(QColor(255, 0, 0));
    QVERIFY(red.save(background, "PNG", 100));  // uncompressed: another size than blue's
    const QString refused = dir_.filePath("refused.avi");
    const CliRun changed = run_cli({"merge", "--project", out, "--preview", refused});
    QCOMPARE(one_line_failure_problem(changed, background + ": "), QString());
    QVERIFY2(changed.err.contains("not the"), qPrintable(changed.err));
    QVERIFY(QFile::remove(background));
    const CliRun gone = run_cli({"merge", "--project", out, "--preview", refused});
    QCOMPARE(one_line_failure_problem(gone, background + ": the background image"), QString());
    QVERIFY(!QFile::exists(refused));
    QCOMPARE(files_of(dir_.path(), true).filter("refused").size(), 0);
}

void TestCliVideoShard::a_killed_shard_redoes_nothing_it_finished() {
    const QString reference = dir_.filePath("cut-outs-reference");
    QVERIFY2(QFile::exists(frame(reference, kFrames - 1)), "shards_equal_one_process runs first");
    const QString out = dir_.filePath("killed");
    // Shard 1/2 owns frames 3-5; killed once two of them are written.
    const QStringList args = video_args(clip_, out) << "--shard"
                                                    << "1/2";
    QProcess process;
    process.setProcessEnvironment(environment_without_shard({}));
    process.start(QString::fromUtf8(PS_CLI_PATH), args);
    QVERIFY(process.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(frame(out, 4)), 60000);
    ::kill(static_cast<pid_t>(process.processId()), SIGKILL);
    process.waitForFinished();
    const int finished = int(journal_events(out, "done").size());
    QVERIFY2(finished >= 1 && finished < 3, "the shard finished before the kill");
    // A finished frame edited after the kill is not trusted: redone, not kept.
    QFile edited(frame(out, 3));
    QVERIFY(edited.open(QIODevice::Append));
    edited.write("x");
    edited.close();

    const CliRun again = run_cli(args);
    QVERIFY2(again.exit_code == 0, qPrintable(again.err));
    // Kept: the finished frames but the edited one; written: the rest of the share.
    QVERIFY2(again.out.contains(QString("wrote %1 frame(s)").arg(3 - (finished - 1))) &&
                 again.out.contains(QString("kept %1 ").arg(finished - 1)),
             qPrintable(again.out));
    QCOMPARE(int(journal_events(out, "resumed").size()), finished - 1);
    QCOMPARE(journal_events(out, "done").at("frame_000003.png"), 2);
    for (int i = 0; i < 3; ++i) QVERIFY(!QFile::exists(frame(out, i)));  // shard 0's
    for (int i = 3; i < kFrames; ++i)
        QVERIFY2(read_bytes(frame(out, i)) == read_bytes(frame(reference, i)),
                 qPrintable(QString("frame %1 differs").arg(i)));
    // No temporary file of the killed write is left.
    QCOMPARE(files_of(out, true), files_of(out));
    // Half the video: merge says so, and writes no preview.
    const QString preview = dir_.filePath("half.avi");
    const CliRun merged = run_cli({"merge", "--project", out, "--preview", preview});
    QVERIFY(merged.exit_code != 0);
    QVERIFY2(merged.out.contains("shard 0/2: no summary"), qPrintable(merged.out));
    QVERIFY(!QFile::exists(preview));
    QCOMPARE(files_of(dir_.path(), true).filter("half").size(), 0);
}

void TestCliVideoShard::errors_are_one_line_and_write_nothing() {
    const QString out = dir_.filePath("never");
    const CliRun bad = run_cli(video_args(clip_, out) << "--shard"
                                                      << "3/3");
    QCOMPARE(bad.exit_code, 2);
    QCOMPARE(one_line_failure_problem(bad, "--shard '3/3': expected I/N"), QString());
    const CliRun preview = run_cli(video_args(clip_, out) << "--shard"
                                                          << "0/2"
                                                          << "--preview" << dir_.filePath("p.mp4"));
    QCOMPARE(preview.exit_code, 2);
    QCOMPARE(one_line_failure_problem(preview, "merge --project"), QString());
    QProcess slurm;
    slurm.setProcessEnvironment(
        environment_without_shard({"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=3"}));
    slurm.start(QString::fromUtf8(PS_CLI_PATH), video_args(clip_, out));
    QVERIFY(slurm.waitForFinished(60000));
    QCOMPARE(slurm.exitCode(), 2);
    QVERIFY(QString::fromUtf8(slurm.readAllStandardError()).contains("SLURM_ARRAY_TASK_ID"));
    QVERIFY(!QFile::exists(out));
    QVERIFY(!QFile::exists(dir_.filePath("p.mp4")));
    // Another run's folder (other options): refused before the shard writes its journal there.
    const QString reference = dir_.filePath("cut-outs-reference");
    const CliRun other = run_cli(video_args(clip_, reference) << "--frames"
                                                              << "matte"
                                                              << "--shard"
                                                              << "0/2");
    QCOMPARE(one_line_failure_problem(other, "holds frames of another run"), QString());
    QVERIFY(!QFile::exists(reference + "/.photosynth"));
}

#else
// A build without OpenCV's videoio (the GPU machine's) has no video mode to test.
class TestCliVideoShard : public QObject {
    Q_OBJECT
  private slots:
    void video_support_is_not_built() { QSKIP("built without OpenCV videoio"); }
};
#endif

QTEST_GUILESS_MAIN(TestCliVideoShard)
#include "test_cli_video_shard.moc"
