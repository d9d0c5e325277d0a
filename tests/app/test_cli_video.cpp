// photosynth-cli remove-bg --video, a real process each time, on a short Motion-JPEG clip that
// the test writes through the same FFmpeg: one PNG per frame equal to remove-bg of that frame as
// a still, a preview video of every frame, --batch, resume after deleted frames and after a
// SIGKILL (same bytes as an uninterrupted run, smoothing included; the preview shows kept frames
// over the run's background as it shows new ones; the progress rate counts only frames made by
// the run), and bad input refused in one line with nothing written.
#include <QtTest>

#ifdef PHOTOSYNTH_WITH_VIDEO
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

#include "app/cli_process.h"
#include "file_bytes.h"
#include "golden_dir.h"
#include "moving_disc_clip.h"
#include "preview_frames.h"

namespace {

const QString kModel = QString::fromStdString(golden_path("u2netp.pth"));
// A preview frame against the frame composited here, in mean grey levels: the codec's rounding
// (measured on the test clip with --grow -6: Motion JPEG 1.62-1.70, MPEG-4 2.58-3.27), not a
// kept frame shrunk a second time (6.0, 7.0-7.6) or shown over the checkerboard (16.5).
constexpr double kMjpegTolerance = 3, kMpeg4Tolerance = 5;

QString write_clip(const QString& path, int frames) {
    return write_moving_disc_clip(path, frames, 20);
}

// The clip's frames as FFmpeg decodes them, RGB.
std::vector<cv::Mat> decode_clip(const QString& path) {
    cv::VideoCapture capture(path.toStdString(), cv::CAP_FFMPEG);
    std::vector<cv::Mat> frames;
    cv::Mat bgr;
    while (capture.read(bgr)) {
        cv::Mat rgb;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        frames.push_back(rgb);
    }
    return frames;
}

QString frame(const QString& dir, int index) {
    return dir + QString("/frame_%1.png").arg(index, 6, 10, QChar('0'));
}

QStringList video_args(const QString& clip, const QString& out) {
    return {"remove-bg", "--model",  kModel, "--video",     clip,  "--out",
            out,         "--device", "cpu",  "--precision", "fp32"};
}

int visible_files(const QString& dir) {
    return QDir(dir).entryList(QDir::Files).size();
}

}  // namespace

class TestCliVideo : public QObject {
    Q_OBJECT
  private slots:
    void frames_are_the_stills_cut_out_and_the_preview_has_every_frame();
    void batches_give_the_frames_of_single_images();
    void resume_redoes_only_missing_frames_with_the_same_bytes();
    void a_killed_run_resumes_to_the_uninterrupted_result();
    void a_resumed_run_rates_only_the_frames_it_makes();
    void bad_input_is_one_line_and_writes_nothing();
    void truncated_video_is_done_with_a_warning();
};

void TestCliVideo::frames_are_the_stills_cut_out_and_the_preview_has_every_frame() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), out = dir.filePath("frames"),
                  preview = dir.filePath("preview.avi");
    QCOMPARE(write_clip(clip, 12), QString());
    const CliRun run = run_cli(video_args(clip, out) << "--preview" << preview);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("wrote 12 frame(s)"), qPrintable(run.out));
    QVERIFY2(run.err.contains("frame 12/12"), qPrintable(run.err));
    QCOMPARE(visible_files(out), 13);  // 12 frames + remove-bg-video.json
    const std::vector<cv::Mat> decoded = decode_clip(clip);
    QCOMPARE(int(decoded.size()), 12);
    for (int index : {0, 7}) {
        const QImage cut(frame(out, index));
        QCOMPARE(cut.size(), QSize(96, 64));
        QVERIFY(cut.hasAlphaChannel());
        // The same frame as a still through single-image remove-bg: the same bytes.
        const QString still = dir.filePath(QString("still%1.png").arg(index));
        QImage(decoded[index].data, 96, 64, int(decoded[index].step), QImage::Format_RGB888)
            .save(still);
        const QString still_out = dir.filePath(QString("still%1_cut.png").arg(index));
        const CliRun one = run_cli({"remove-bg", "--model", kModel, "--image", still, "--out",
                                    still_out, "--device", "cpu", "--precision", "fp32"});
        QVERIFY2(one.exit_code == 0, qPrintable(one.err));
        QCOMPARE(QImage(still_out).convertToFormat(QImage::Format_RGBA8888),
                 cut.convertToFormat(QImage::Format_RGBA8888));
    }
    cv::VideoCapture check(preview.toStdString(), cv::CAP_FFMPEG);
    QVERIFY(check.isOpened());
    int frames = 0;
    cv::Mat bgr;
    while (check.read(bgr)) ++frames;
    QCOMPARE(frames, 12);
    QVERIFY(!QFile::exists(dir.filePath(".preview.partial.avi")));
}

void TestCliVideo::batches_give_the_frames_of_single_images() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi");
    QCOMPARE(write_clip(clip, 10), QString());
    const CliRun one = run_cli(video_args(clip, dir.filePath("one")));
    QVERIFY2(one.exit_code == 0, qPrintable(one.err));
    // 10 frames in batches of 4: two full batches and a padded one.
    const CliRun four = run_cli(video_args(clip, dir.filePath("four")) << "--batch"
                                                                       << "4");
    QVERIFY2(four.exit_code == 0, qPrintable(four.err));
    for (int index = 0; index < 10; ++index) {
        const QImage a =
            QImage(frame(dir.filePath("one"), index)).convertToFormat(QImage::Format_RGBA8888);
        const QImage b =
            QImage(frame(dir.filePath("four"), index)).convertToFormat(QImage::Format_RGBA8888);
        QCOMPARE(a.size(), b.size());
        // A batched convolution may round differently in the last float bit; the 8-bit matte
        // then moves by one level at a few pixels at most.
        int differing = 0, worst = 0;
        for (int y = 0; y < a.height(); ++y)
            for (int x = 0; x < a.width(); ++x) {
                const int d = std::abs(qAlpha(a.pixel(x, y)) - qAlpha(b.pixel(x, y)));
                differing += d > 0;
                worst = std::max(worst, d);
            }
        QVERIFY2(worst <= 1 && differing <= a.width() * a.height() / 100,
                 qPrintable(QString("frame %1: %2 pixels differ, by up to %3")
                                .arg(index)
                                .arg(differing)
                                .arg(worst)));
    }
}

void TestCliVideo::resume_redoes_only_missing_frames_with_the_same_bytes() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), out = dir.filePath("frames");
    QCOMPARE(write_clip(clip, 12), QString());
    // Mattes over green: a kept frame's preview picture comes from its file, which holds the
    // matte already shrunk (shrinking it again would show more green).
    const QStringList args = video_args(clip, out) << "--smooth"
                                                   << "0.6"
                                                   << "--frames"
                                                   << "matte"
                                                   << "--grow"
                                                   << "-6"
                                                   << "--background"
                                                   << "#00ff00";
    const QString fresh = dir.filePath("fresh.avi");
    const CliRun first = run_cli(QStringList(args) << "--preview" << fresh);
    QVERIFY2(first.exit_code == 0, qPrintable(first.err));
    const auto matte_of = [&out](int i) { return frame(out, i); };
    const cv::Scalar green(0, 255, 0);
    QCOMPARE(preview_problem(fresh, clip, matte_of, green, kMjpegTolerance), QString());
    std::vector<QByteArray> whole;
    for (int i = 0; i < 12; ++i) whole.push_back(read_bytes(frame(out, i)));
    QVERIFY(!whole[11].isEmpty());
    // Frames 5..11 lost: the rerun redoes exactly them, smoothing over kept frames 3 and 4.
    for (int i = 5; i < 12; ++i) QVERIFY(QFile::remove(frame(out, i)));
    const QString mixed = dir.filePath("mixed.avi");
    const CliRun again = run_cli(QStringList(args) << "--preview" << mixed);
    QVERIFY2(again.exit_code == 0, qPrintable(again.err));
    QVERIFY2(again.out.contains("wrote 7 frame(s)") && again.out.contains("kept 5"),
             qPrintable(again.out));
    // Kept frames 0..4 over green like the new ones, as the uninterrupted run showed them.
    QCOMPARE(preview_problem(mixed, clip, matte_of, green, kMjpegTolerance), QString());
    QVERIFY(read_bytes(mixed) == read_bytes(fresh));
    for (int i = 0; i < 12; ++i)
        QVERIFY2(read_bytes(frame(out, i)) == whole[i], qPrintable(QString::number(i)));
    // Finished: nothing to redo; an MPEG-4 preview made from the kept frames alone (their mattes
    // over the decoded frames) has every frame.
    const QString preview = dir.filePath("preview.mp4");
    const CliRun done = run_cli(QStringList(args) << "--preview" << preview);
    QVERIFY2(done.out.contains("wrote 0 frame(s)") && done.out.contains("kept 12"),
             qPrintable(done.out));
    const std::vector<cv::Mat> kept = decode_video(preview);
    QCOMPARE(int(kept.size()), 12);
    for (const cv::Mat& bgr : kept) QCOMPARE(bgr.size(), cv::Size(96, 64));
    QCOMPARE(preview_problem(preview, clip, matte_of, green, kMpeg4Tolerance), QString());
    // Other options into the same folder: refused, nothing touched.
    const CliRun other = run_cli(video_args(clip, out) << "--frames"
                                                       << "matte");
    QCOMPARE(one_line_failure_problem(other, "holds frames of another run (different options)"),
             QString());
    for (int i = 0; i < 12; ++i) QVERIFY(read_bytes(frame(out, i)) == whole[i]);
}

void TestCliVideo::a_killed_run_resumes_to_the_uninterrupted_result() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi");
    QCOMPARE(write_clip(clip, 24), QString());
    const CliRun reference = run_cli(video_args(clip, dir.filePath("reference")));
    QVERIFY2(reference.exit_code == 0, qPrintable(reference.err));

    const QString out = dir.filePath("killed");
    QProcess process;
    process.start(QString::fromUtf8(PS_CLI_PATH), video_args(clip, out));
    QVERIFY(process.waitForStarted());
    // Killed once a few frames are written, mid-run.
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(frame(out, 3)), 60000);
    ::kill(static_cast<pid_t>(process.processId()), SIGKILL);
    process.waitForFinished();
    int written = 0;
    for (int i = 0; i < 24; ++i) written += QFile::exists(frame(out, i));
    QVERIFY2(written < 24, "the run finished before the kill; make the clip longer");

    const CliRun resumed = run_cli(video_args(clip, out));
    QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.err));
    QVERIFY2(resumed.out.contains(QString("kept %1").arg(written)), qPrintable(resumed.out));
    for (int i = 0; i < 24; ++i)
        QVERIFY2(read_bytes(frame(out, i)) == read_bytes(frame(dir.filePath("reference"), i)),
                 qPrintable(QString::number(i)));
    // No temporary file of the killed write is left, hidden or not.
    QCOMPARE(QDir(out).entryList(QDir::Files | QDir::Hidden).size(), 25);
}

// The progress lines of a rerun after frames 10..19 of 20 were lost: kept frames are counted as
// kept, never as made, and the rate appears only once this run has made a frame (it is made
// frames over the time spent making them, which no test can time).
void TestCliVideo::a_resumed_run_rates_only_the_frames_it_makes() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), out = dir.filePath("frames");
    QCOMPARE(write_clip(clip, 20), QString());
    const CliRun first = run_cli(video_args(clip, out));
    QVERIFY2(first.exit_code == 0, qPrintable(first.err));
    QVERIFY2(first.err.contains("remove-bg: frame 20/20 (") && !first.err.contains("kept"),
             qPrintable(first.err));
    for (int i = 10; i < 20; ++i) QVERIFY(QFile::remove(frame(out, i)));

    const CliRun again = run_cli(video_args(clip, out));
    QVERIFY2(again.exit_code == 0, qPrintable(again.err));
    QVERIFY2(again.out.contains("wrote 10 frame(s)") && again.out.contains("kept 10"),
             qPrintable(again.out));
    const QRegularExpression line(
        "^remove-bg: frame (\\d+)/20: (\\d+) kept from an earlier run"
        "(?:, (\\d+) new \\((\\d+\\.\\d) frames/s\\))?$");
    int lines = 0, last_done = 0;
    for (const QString& text : again.err.split('\n', Qt::SkipEmptyParts)) {
        if (!text.startsWith("remove-bg: frame")) continue;
        const QRegularExpressionMatch match = line.match(text);
        QVERIFY2(match.hasMatch(), qPrintable(text));
        const int done = match.captured(1).toInt(), kept = match.captured(2).toInt();
        const int made = match.captured(3).isEmpty() ? 0 : match.captured(3).toInt();
        QCOMPARE(kept, std::min(done, 10));
        QCOMPARE(made, done - kept);
        // No rate while only kept frames have passed; a positive one once frames are made.
        QCOMPARE(match.captured(4).isEmpty(), made == 0);
        if (made > 0) QVERIFY2(match.captured(4).toDouble() > 0, qPrintable(text));
        last_done = done;
        ++lines;
    }
    QVERIFY2(lines >= 10 && last_done == 20, qPrintable(again.err));

    // Nothing left to make: every line is kept frames, and the summary's rate is 0.
    const CliRun done = run_cli(video_args(clip, out));
    QVERIFY2(done.exit_code == 0, qPrintable(done.err));
    QVERIFY2(done.err.contains("remove-bg: frame 20/20: 20 kept from an earlier run\n") &&
                 !done.err.contains("frames/s"),
             qPrintable(done.err));
    QVERIFY2(done.out.contains("wrote 0 frame(s)") && done.out.contains(", 0 frames/s)"),
             qPrintable(done.out));
}

void TestCliVideo::bad_input_is_one_line_and_writes_nothing() {
    QTemporaryDir dir;
    const QString text = dir.filePath("notes.mp4");
    QFile file(text);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("this is not a video\n");
    file.close();
    const QString out = dir.filePath("frames");
    const CliRun not_video = run_cli(video_args(text, out) << "--preview" << dir.filePath("p.mp4"));
    QCOMPARE(one_line_failure_problem(not_video, "notes.mp4: cannot open as a video"), QString());
    QVERIFY(!QFile::exists(out));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);

    const CliRun missing = run_cli(video_args(dir.filePath("absent.mp4"), out));
    QCOMPARE(one_line_failure_problem(missing, "absent.mp4: no such file"), QString());
    // A folder (of frames) exists: not "no such file".
    QVERIFY(QDir(dir.path()).mkdir("stills"));
    const CliRun folder = run_cli(video_args(dir.filePath("stills"), out));
    QCOMPARE(one_line_failure_problem(folder, "stills: a folder, not a video file"), QString());
    QVERIFY(!QFile::exists(out));

    const QString clip = dir.filePath("clip.avi");
    QCOMPARE(write_clip(clip, 2), QString());
    const CliRun frames = run_cli(video_args(clip, out) << "--frames"
                                                        << "alpha");
    QCOMPARE(frames.exit_code, 2);
    QVERIFY(frames.err.contains("--frames 'alpha'"));
    const CliRun smooth = run_cli(video_args(clip, out) << "--smooth"
                                                        << "2");
    QCOMPARE(smooth.exit_code, 2);
    const CliRun preview = run_cli(video_args(clip, out) << "--preview" << dir.filePath("p.gif"));
    QCOMPARE(one_line_failure_problem(preview, "must end in .mp4, .avi or .mkv"), QString());
    QVERIFY(!QFile::exists(out));
    const CliRun sam =
        run_cli({"remove-bg", "--model", QString::fromStdString(golden_path("sam_vit_tiny.pth")),
                 "--video", clip, "--out", out});
    QVERIFY(sam.exit_code != 0);
    QVERIFY(!QFile::exists(out));
}

// A clip cut in half: the frames FFmpeg can still decode are matted (exit 0, as the frame count
// in the header is only an estimate), and stderr warns that fewer came than it announced.
void TestCliVideo::truncated_video_is_done_with_a_warning() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), out = dir.filePath("frames");
    QVERIFY2(write_clip(clip, 12).isEmpty(), "cannot write the clip");
    QFile file(clip);
    QVERIFY(file.resize(file.size() / 2));
    const int decodable = static_cast<int>(decode_clip(clip).size());
    if (decodable == 0 || decodable >= 12) QSKIP("FFmpeg reads this cut clip differently");
    const CliRun run = run_cli(video_args(clip, out));
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QCOMPARE(visible_files(out), decodable + 1);  // + remove-bg-video.json
    QVERIFY2(run.err.contains(QString("warning: %1: its header announces 12 frames, %2 could be "
                                      "decoded")
                                  .arg(clip)
                                  .arg(decodable)),
             qPrintable(run.err));
}

#else
// A build without OpenCV's videoio (the GPU machine's) has no video mode to test.
class TestCliVideo : public QObject {
    Q_OBJECT
  private slots:
    void video_support_is_not_built() { QSKIP("built without OpenCV videoio"); }
};
#endif

QTEST_GUILESS_MAIN(TestCliVideo)
#include "test_cli_video.moc"
