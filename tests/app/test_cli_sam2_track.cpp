// photosynth-cli track, a real process each time, with the tiny golden SAM 2.1 checkpoint: the
// golden clip (a folder of frames) tracked with points, a box and a mask prompt in both
// directions and exported (PNG masks, YouTube-VIS JSON decoded here from the COCO RLE definition,
// cut-outs) consistently; a finished run rerun does nothing; a run killed with SIGKILL resumes to
// the uninterrupted masks (byte for byte with the default warm-up, IoU >= 0.99 with a 2-frame
// one); bad model, video or prompts fail in one line with nothing written.
#include <QtTest>

#ifdef PHOTOSYNTH_WITH_VIDEO
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "app/cli_process.h"
#include "coco_rle_reference.h"
#include "file_bytes.h"
#include "test_data.h"

namespace {

QString sam2_data(const QString& name) {
    return test_data_dir("sam2") + "/" + name;
}

// What sam2_tiny.pt does not store (official_layouts.json, configs.sam2_tiny.not_in_shapes).
const char kTinyLayout[] = "image_size=256,num_heads=1,window_spec=8:4:6:3,global_att_blocks=4:6";

QStringList track_args(const QString& video, const QString& prompts, const QString& out) {
    return {"track",    "--model",       sam2_data("sam2_tiny.pt"),
            "--video",  video,           "--prompts",
            prompts,    "--out",         out,
            "--device", "cpu",           "--precision",
            "fp32",     "--sam2-layout", kTinyLayout};
}

// A disc and a bar moving over a gradient, `frames` frames of 128x96 at 10 fps (Motion-JPEG).
QString write_clip(const QString& path, int frames) {
    cv::VideoWriter writer(path.toStdString(), cv::CAP_FFMPEG,
                           cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(128, 96));
    if (!writer.isOpened()) return "cannot write " + path;
    for (int i = 0; i < frames; ++i) {
        cv::Mat bgr(96, 128, CV_8UC3);
        for (int y = 0; y < 96; ++y)
            for (int x = 0; x < 128; ++x) bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(y * 2, 80, x * 2);
        cv::circle(bgr, cv::Point(20 + i * 3, 40 + i % 5), 13, cv::Scalar(30, 200, 240),
                   cv::FILLED);
        cv::rectangle(bgr, cv::Rect(90 - i, 60, 28, 20), cv::Scalar(220, 60, 30), cv::FILLED);
        writer.write(bgr);
    }
    return {};
}

const QByteArray kClipPrompts = R"({"objects": [
    {"id": 1, "label": "disc", "prompts": [{"frame": 0, "points": [[20, 40, 1]]}]},
    {"id": 2, "label": "bar", "prompts": [{"frame": 2, "box": [86, 60, 116, 80]}]}]})";

QString mask_png(const QString& out, int object, int frame) {
    return out + QString("/masks/%1/%2.png").arg(object).arg(frame, 6, 10, QChar('0'));
}

double iou(const cv::Mat& a, const cv::Mat& b) {
    const int together = cv::countNonZero(a | b);
    return together == 0 ? 1.0 : double(cv::countNonZero(a & b)) / together;
}

// Runs track, and kills it (SIGKILL) once it has reported `frames` frames stored.
QString run_and_kill(const QStringList& args, int frames) {
    QProcess process;
    process.setReadChannel(QProcess::StandardError);  // waitForReadyRead waits on this channel
    process.start(QString::fromUtf8(PS_CLI_PATH), args);
    if (!process.waitForStarted()) return process.errorString();
    QByteArray err;
    const QByteArray mark = "tracked " + QByteArray::number(frames) + "/";
    while (!err.contains(mark)) {
        if (!process.waitForReadyRead(60000)) return "no progress before the kill: " + err;
        err += process.readAllStandardError();
    }
    if (process.state() != QProcess::Running) return "finished before the kill";
    process.kill();
    process.waitForFinished();
    if (process.exitStatus() != QProcess::CrashExit) return "not killed";
    return {};
}

}  // namespace

class TestCliSam2Track : public QObject {
    Q_OBJECT
  private slots:
    void golden_clip_tracks_and_exports_consistently();
    void killed_run_resumes_to_the_uninterrupted_masks();
    void bad_input_is_one_line_and_writes_nothing();
    void unreadable_frame_is_named_not_the_checkpoint();
    void backward_from_frame_zero_tracks_it();
};

void TestCliSam2Track::golden_clip_tracks_and_exports_consistently() {
    QTemporaryDir dir;
    const QString prompts = dir.filePath("prompts.json");
    QVERIFY(QFile::copy(sam2_data("video_mask_f2_o3.png"), dir.filePath("o3.png")));
    QVERIFY(write_file(prompts, R"({"objects": [
        {"id": 1, "label": "disc", "prompts": [{"frame": 0, "points": [[30, 38, 1]]}]},
        {"id": 2, "label": "rect", "prompts": [{"frame": 3, "box": [72, 56, 105, 79]}]},
        {"id": 3, "label": "disc", "prompts": [{"frame": 2, "mask": "o3.png"}]}]})"));
    const QString out = dir.filePath("out");
    const QStringList args = track_args(sam2_data("video"), prompts, out) << "--direction"
                                                                          << "both"
                                                                          << "--export"
                                                                          << "masks,vis,cutout";
    const CliRun run = run_cli(args);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("tracked 8 frame(s)"), qPrintable(run.out));
    QVERIFY2(run.err.contains("tracked 8/8 frames"), qPrintable(run.err));

    // The YouTube-VIS JSON, the PNG masks and the cut-outs say the same of every frame.
    QFile vis_file(out + "/vis.json");
    QVERIFY(vis_file.open(QIODevice::ReadOnly));
    const QJsonObject vis = QJsonDocument::fromJson(vis_file.readAll()).object();
    QCOMPARE(vis["videos"].toArray()[0].toObject()["length"].toInt(), 8);
    QCOMPARE(vis["videos"].toArray()[0].toObject()["file_names"].toArray()[2].toString(),
             QString("00002.jpg"));
    QCOMPARE(vis["categories"].toArray().size(), 2);  // disc, rect
    const QJsonArray annotations = vis["annotations"].toArray();
    QCOMPARE(annotations.size(), 3);
    int visible = 0;
    for (const QJsonValue& value : annotations) {
        const QJsonObject annotation = value.toObject();
        const int object = annotation["id"].toInt();
        QCOMPARE(annotation["category_id"].toInt(), object == 2 ? 2 : 1);
        const QJsonArray segmentations = annotation["segmentations"].toArray();
        QCOMPARE(segmentations.size(), 8);
        for (int frame = 0; frame < 8; ++frame) {
            const cv::Mat png =
                cv::imread(mask_png(out, object, frame).toStdString(), cv::IMREAD_UNCHANGED);
            QVERIFY2(!png.empty(), qPrintable(mask_png(out, object, frame)));
            QCOMPARE(png.size(), cv::Size(128, 96));
            if (segmentations[frame].isNull()) {
                QCOMPARE(cv::countNonZero(png), 0);
                continue;
            }
            ++visible;
            const cv::Mat decoded = decode_coco_counts(segmentations[frame].toObject());
            QVERIFY(!decoded.empty());
            QCOMPARE(cv::countNonZero(decoded != png), 0);
            QCOMPARE(annotation["areas"].toArray()[frame].toInt(), cv::countNonZero(png));
        }
    }
    QVERIFY2(visible >= 12, qPrintable(QString("only %1 visible object-frames").arg(visible)));
    for (int frame : {0, 5}) {
        cv::Mat alpha(96, 128, CV_8UC1, cv::Scalar(0));
        for (int object = 1; object <= 3; ++object)
            alpha |= cv::imread(mask_png(out, object, frame).toStdString(), cv::IMREAD_UNCHANGED);
        const cv::Mat cut = cv::imread(
            QString("%1/cutout/%2.png").arg(out).arg(frame, 6, 10, QChar('0')).toStdString(),
            cv::IMREAD_UNCHANGED);
        QCOMPARE(cut.type(), CV_8UC4);
        std::vector<cv::Mat> channels;
        cv::split(cut, channels);
        QCOMPARE(cv::countNonZero(channels[3] != alpha), 0);
    }

    // Rerun: nothing to do, nothing rewritten.
    const QByteArray log = read_bytes(out + "/masks.pstrack");
    const QByteArray json = read_bytes(out + "/vis.json");
    const CliRun again = run_cli(args);
    QVERIFY2(again.exit_code == 0, qPrintable(again.err));
    QVERIFY2(again.out.contains("nothing to track"), qPrintable(again.out));
    QVERIFY2(!again.err.contains("tracked "), qPrintable(again.err));
    QCOMPARE(read_bytes(out + "/masks.pstrack"), log);
    QCOMPARE(read_bytes(out + "/vis.json"), json);

    // Other prompts into the same folder: refused, not mixed.
    QVERIFY(write_file(prompts, R"({"objects": [
        {"id": 1, "label": "disc", "prompts": [{"frame": 1, "points": [[38, 40, 1]]}]}]})"));
    const CliRun other = run_cli(track_args(sam2_data("video"), prompts, out));
    QVERIFY2(one_line_failure_problem(other, "tracked with other prompts").isEmpty(),
             qPrintable(one_line_failure_problem(other, "tracked with other prompts")));
    QCOMPARE(read_bytes(out + "/masks.pstrack"), log);
}

void TestCliSam2Track::killed_run_resumes_to_the_uninterrupted_masks() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), prompts = dir.filePath("prompts.json");
    QCOMPARE(write_clip(clip, 20), QString());
    QVERIFY(write_file(prompts, kClipPrompts));
    const QString whole = dir.filePath("whole");
    const CliRun reference = run_cli(track_args(clip, prompts, whole) << "--export"
                                                                      << "masks");
    QVERIFY2(reference.exit_code == 0, qPrintable(reference.err));

    constexpr int kKilledAt = 8;
    for (const QString& warmup : {QString("16"), QString("2")}) {
        const QString out = dir.filePath("resumed" + warmup);
        const QStringList args = track_args(clip, prompts, out) << "--warmup" << warmup;
        QCOMPARE(run_and_kill(args, kKilledAt), QString());
        QVERIFY(QFile::exists(out + "/track.json"));
        const CliRun resumed = run_cli(QStringList(args) << "--export"
                                                         << "masks");
        QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.err));
        // The frames stored before the kill are kept, not tracked again.
        const QRegularExpression kept("tracked (\\d+) frame\\(s\\) .*\\((\\d+) kept");
        const QRegularExpressionMatch match = kept.match(resumed.out);
        QVERIFY2(match.hasMatch(), qPrintable(resumed.out));
        const int stored_before = match.captured(2).toInt();
        QVERIFY(stored_before >= kKilledAt);
        QCOMPARE(match.captured(1).toInt() + stored_before, 20);
        double worst = 1;
        for (int object : {1, 2})
            for (int frame = 0; frame < 20; ++frame) {
                const QByteArray expected = read_bytes(mask_png(whole, object, frame));
                const QByteArray got = read_bytes(mask_png(out, object, frame));
                QVERIFY(!expected.isEmpty() && !got.isEmpty());
                if (frame < stored_before || warmup == "16") {
                    // Stored before the kill, or a warm-up back to the first prompt: exact.
                    QVERIFY2(got == expected, qPrintable(QString("warm-up %1: object %2 frame %3")
                                                             .arg(warmup)
                                                             .arg(object)
                                                             .arg(frame)));
                    continue;
                }
                const double overlap = iou(
                    cv::imread(mask_png(whole, object, frame).toStdString(), cv::IMREAD_UNCHANGED),
                    cv::imread(mask_png(out, object, frame).toStdString(), cv::IMREAD_UNCHANGED));
                worst = std::min(worst, overlap);
                QVERIFY2(
                    overlap >= 0.99,
                    qPrintable(
                        QString("object %1 frame %2: IoU %3").arg(object).arg(frame).arg(overlap)));
            }
        qInfo("warm-up %s: %d frames kept from the killed run, worst IoU of the later ones %.4f",
              qPrintable(warmup), stored_before, worst);
    }
}

void TestCliSam2Track::bad_input_is_one_line_and_writes_nothing() {
    QTemporaryDir dir;
    const QString prompts = dir.filePath("prompts.json"), out = dir.filePath("out");
    QVERIFY(write_file(prompts, kClipPrompts));
    const QString video = sam2_data("video");
    const QString garbage = dir.filePath("garbage.pt");
    QVERIFY(write_file(garbage, "not a checkpoint"));
    const QString past = dir.filePath("past.json");
    QVERIFY(write_file(
        past, R"({"objects": [{"id": 1, "prompts": [{"frame": 99, "points": [[1, 1, 1]]}]}]})"));

    struct Case {
        QStringList args;
        QString expected;
    };
    QStringList bad_model = track_args(video, prompts, out);
    bad_model[2] = garbage;
    const std::vector<Case> cases = {
        {bad_model, "garbage.pt"},
        {track_args(dir.filePath("missing.mp4"), prompts, out), "missing.mp4"},
        {track_args(video, past, out),
         "past.json: objects[0].prompts[0].frame 99 is past the video's 8 frames"},
        {track_args(video, dir.filePath("none.json"), out), "none.json"},
        {track_args(video, prompts, out) << "--direction"
                                         << "sideways",
         "--direction 'sideways'"},
        {track_args(video, prompts, out) << "--export"
                                         << "masks,gif",
         "unknown export 'gif'"},
        {track_args(video, prompts, out) << "--warmup"
                                         << "-3",
         "--warmup '-3'"},
    };
    for (const Case& c : cases) {
        const CliRun run = run_cli(c.args);
        const QString problem = one_line_failure_problem(run, c.expected);
        QVERIFY2(problem.isEmpty(), qPrintable(c.expected + ": " + problem));
        QVERIFY2(!QFileInfo::exists(out), qPrintable(c.expected + ": wrote " + out));
    }
    // Only the three files the test wrote: no store, no staging folder, no temporary file.
    QCOMPARE(
        QDir(dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size(),
        3);
}

// A frames folder with a corrupt frame: the error names that frame's file, and does not blame the
// checkpoint (the frames before it stay in the resumable store).
void TestCliSam2Track::unreadable_frame_is_named_not_the_checkpoint() {
    QTemporaryDir dir;
    const QString frames = dir.filePath("frames"), prompts = dir.filePath("prompts.json");
    QVERIFY(QDir().mkpath(frames));
    for (const QString& name : QDir(sam2_data("video")).entryList({"*.jpg"}, QDir::Files))
        QVERIFY(QFile::copy(sam2_data("video/" + name), frames + "/" + name));
    QVERIFY(write_file(frames + "/00001.jpg", "not a JPEG"));
    QVERIFY(write_file(prompts, kClipPrompts));
    const CliRun run = run_cli(track_args(frames, prompts, dir.filePath("out")));
    QVERIFY2(run.exit_code > 0, qPrintable(run.err));
    const QString last = run.err.trimmed().split('\n').last();
    QVERIFY2(last.startsWith("photosynth-cli: ") && last.contains("00001.jpg"), qPrintable(last));
    QVERIFY2(last.contains("video frame 1"), qPrintable(last));
    QVERIFY2(!last.contains("sam2_tiny.pt"), qPrintable(last));
}

// --direction backward with the only prompt on frame 0: the prompted frame is tracked and
// exported, the same mask as a forward run gives it (sam2 itself tracks "0 frame(s)" backward
// from frame 0), and a rerun finds it done.
void TestCliSam2Track::backward_from_frame_zero_tracks_it() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi"), prompts = dir.filePath("prompts.json");
    QCOMPARE(write_clip(clip, 5), QString());
    QVERIFY(write_file(
        prompts,
        R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[20, 40, 1]]}]}]})"));
    const auto direction = [&](const QString& out, const char* which) {
        return track_args(clip, prompts, out) << "--direction" << which << "--export"
                                              << "masks";
    };
    const QString backward = dir.filePath("backward"), forward = dir.filePath("forward");
    const CliRun run = run_cli(direction(backward, "backward"), 120000);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("tracked 1 frame(s)"), qPrintable(run.out));
    QCOMPARE(QDir(backward + "/masks/1").entryList(QDir::Files), QStringList{"000000.png"});

    const CliRun reference = run_cli(direction(forward, "forward"), 120000);
    QVERIFY2(reference.exit_code == 0, qPrintable(reference.err));
    const cv::Mat back = cv::imread(mask_png(backward, 1, 0).toStdString(), cv::IMREAD_UNCHANGED);
    const cv::Mat fore = cv::imread(mask_png(forward, 1, 0).toStdString(), cv::IMREAD_UNCHANGED);
    QVERIFY(!back.empty() && !fore.empty() && back.size() == fore.size());
    QCOMPARE(cv::countNonZero(back != fore), 0);

    const CliRun again = run_cli(direction(backward, "backward"), 120000);
    QVERIFY2(again.exit_code == 0, qPrintable(again.err));
    QVERIFY2(!again.out.contains("tracked 1 frame(s)"), qPrintable(again.out));
}

#else
class TestCliSam2Track : public QObject {
    Q_OBJECT
  private slots:
    void skipped() { QSKIP("built without OpenCV's video I/O"); }
};
#endif

QTEST_MAIN(TestCliSam2Track)
#include "test_cli_sam2_track.moc"
