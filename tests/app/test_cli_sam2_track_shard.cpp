// photosynth-cli track --input-dir, real processes with the tiny golden SAM 2.1 checkpoint: a
// folder of three frame folders, a corrupt video and a video without prompts split over two
// shards (one by --shard, one by Slurm's variables) gives each video's folder byte for byte as
// `track --video` alone writes it, every video tracked by exactly one shard, and a merged report
// that lists the two failures; a shard killed in the middle of a video skips the finished one
// and resumes the half-done one to the same bytes; an edited output is redone, and a rerun with
// another direction is not skipped on the journal's word; a bad --shard is one line and a
// non-zero exit.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <memory>

#include "app/cli_process.h"
#include "file_bytes.h"
#include "test_data.h"

namespace {

// What sam2_tiny.pt does not store (official_layouts.json, configs.sam2_tiny.not_in_shapes).
const char kTinyLayout[] = "image_size=256,num_heads=1,window_spec=8:4:6:3,global_att_blocks=4:6";

// Each clip: the golden frames it copies, in order (natural order of the new names).
const std::map<QString, std::vector<int>> kClips = {
    {"a", {0, 1, 2, 3, 4}}, {"b", {3, 4, 5, 6, 7}}, {"c", {7, 6, 5, 4}}};

const QByteArray kPrompts = R"({"objects": [
    {"id": 1, "label": "disc", "prompts": [{"frame": 0, "points": [[30, 38, 1]]}]},
    {"id": 2, "label": "rect", "prompts": [{"frame": 1, "box": [72, 56, 105, 79]}]}]})";

QStringList common_args() {
    return {"--model",       test_data_dir("sam2") + "/sam2_tiny.pt",
            "--device",      "cpu",
            "--precision",   "fp32",
            "--sam2-layout", kTinyLayout,
            "--export",      "masks,vis"};
}

// Relative path -> bytes of every file under `root`, .photosynth left out.
std::map<QString, QByteArray> tree(const QString& root) {
    std::map<QString, QByteArray> files;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString relative = QDir(root).relativeFilePath(path);
        if (!relative.startsWith(".photosynth")) files[relative] = read_bytes(path);
    }
    return files;
}

// The journal lines of every shard of `root` whose event is `event`, by input.
std::map<QString, int> journal_events(const QString& root, const QString& event) {
    std::map<QString, int> counts;
    QDirIterator it(root + "/.photosynth/shards", {"*.jsonl"}, QDir::Files);
    while (it.hasNext())
        for (const QByteArray& line : read_bytes(it.next()).split('\n')) {
            const QJsonObject json = QJsonDocument::fromJson(line).object();
            if (json["event"].toString() == event) ++counts[json["input"].toString()];
        }
    return counts;
}

// photosynth-cli with no cluster variables but `environment`'s ("NAME=value").
std::unique_ptr<QProcess> start_cli(const QStringList& args, const QStringList& environment = {}) {
    auto process = std::make_unique<QProcess>();
    process->setProcessEnvironment(environment_without_shard(environment));
    process->start(QString::fromUtf8(PS_CLI_PATH), args);
    return process;
}

CliRun finish(QProcess& process) {
    CliRun run;
    if (!process.waitForFinished(300000)) return run;
    run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

// Runs `args`, and kills it (SIGKILL) once its stderr holds `mark`.
QString run_and_kill(const QStringList& args, const QByteArray& mark) {
    auto process = start_cli(args);
    process->setReadChannel(QProcess::StandardError);  // waitForReadyRead waits on this channel
    if (!process->waitForStarted()) return process->errorString();
    QByteArray err;
    while (!err.contains(mark)) {
        if (!process->waitForReadyRead(60000)) return "no '" + mark + "' before the kill: " + err;
        err += process->readAllStandardError();
    }
    if (process->state() != QProcess::Running) return "finished before the kill";
    process->kill();
    process->waitForFinished();
    if (process->exitStatus() != QProcess::CrashExit) return "not killed";
    return {};
}

}  // namespace

class TestCliSam2TrackShard : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void two_shards_equal_each_video_alone();
    void killed_shard_resumes_to_the_same_bytes();
    void bad_shard_is_one_line();

  private:
    QStringList batch_args(const QString& out) const {
        return QStringList{"track",  "--input-dir",  videos_, "--prompts-dir",
                           prompts_, "--output-dir", out}
               << common_args();
    }

    QTemporaryDir dir_;
    QString videos_, prompts_, reference_;
};

void TestCliSam2TrackShard::initTestCase() {
    QVERIFY(dir_.isValid());
    videos_ = dir_.filePath("videos");
    prompts_ = dir_.filePath("prompts");
    reference_ = dir_.filePath("reference");
    QVERIFY(QDir().mkpath(prompts_));
    for (const auto& [name, frames] : kClips) {
        QVERIFY(QDir().mkpath(videos_ + "/" + name));
        for (size_t i = 0; i < frames.size(); ++i)
            QVERIFY(QFile::copy(
                test_data_dir("sam2") + QString("/video/%1.jpg").arg(frames[i], 5, 10, QChar('0')),
                videos_ + QString("/%1/f%2.jpg").arg(name).arg(i)));
        QVERIFY(write_file(prompts_ + "/" + name + ".json", kPrompts));
    }
    // Not a video at all, with prompts; and a frame folder without any.
    QVERIFY(write_file(videos_ + "/broken.mp4", "not a video, only its name"));
    QVERIFY(write_file(prompts_ + "/broken.json", kPrompts));
    QVERIFY(QDir().mkpath(videos_ + "/unprompted"));
    QVERIFY(
        QFile::copy(test_data_dir("sam2") + "/video/00000.jpg", videos_ + "/unprompted/f0.jpg"));
    // Each video alone, as the single-video form writes it: the reference.
    for (const auto& [name, frames] : kClips) {
        const CliRun run =
            run_cli(QStringList{"track", "--video", videos_ + "/" + name, "--prompts",
                                prompts_ + "/" + name + ".json", "--out", reference_ + "/" + name}
                    << common_args());
        QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    }
    QVERIFY(tree(reference_).size() > 3 * 5);  // track.json, masks.pstrack, vis.json, masks
}

void TestCliSam2TrackShard::two_shards_equal_each_video_alone() {
    const QString out = dir_.filePath("two-shards");
    // Shard 0 by the option, shard 1 as task 1 of a 2-task Slurm array: together.
    auto first = start_cli(batch_args(out) << "--shard"
                                           << "0/2");
    auto second = start_cli(batch_args(out), {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=2"});
    const CliRun runs[] = {finish(*first), finish(*second)};
    int failed = 0;
    for (const CliRun& run : runs) {
        QVERIFY2(run.exit_code == 0 || run.exit_code == 1, qPrintable(run.err));
        failed += run.exit_code;
    }
    QVERIFY2(runs[1].err.contains("track: shard 1/2: "), qPrintable(runs[1].err));
    QVERIFY(failed >= 1);  // the shard(s) owning broken.mp4 and unprompted

    QVERIFY(tree(out) == tree(reference_));
    const auto done = journal_events(out, "done");
    QCOMPARE(done.size(), kClips.size());
    for (const auto& [input, count] : done) QCOMPARE(count, 1);
    const auto failures = journal_events(out, "failed");
    QCOMPARE(failures.size(), size_t(2));
    QVERIFY(failures.count("broken.mp4") && failures.count("unprompted"));

    const CliRun merge = run_cli({"merge", "--project", out});
    QCOMPARE(merge.exit_code, 1);
    QVERIFY2(merge.out.contains("track, 2 shard(s): 5 video(s), 3 done, 2 failed, 0 skipped, "
                                "0 pending"),
             qPrintable(merge.out));
    QVERIFY2(merge.out.contains("videos/s"), qPrintable(merge.out));
    QVERIFY2(merge.out.contains("  broken.mp4: " + videos_ + "/broken.mp4"), qPrintable(merge.out));
    QVERIFY2(merge.out.contains("  unprompted: no prompts file " + prompts_ + "/unprompted.json"),
             qPrintable(merge.out));
    QVERIFY(merge.err.startsWith("photosynth-cli: merge: 2 video(s) failed"));
    const QJsonObject report =
        QJsonDocument::fromJson(read_bytes(out + "/.photosynth/report.json")).object();
    QCOMPARE(report["done"].toInt(), 3);
    QCOMPARE(report["failures"].toArray().size(), 2);
    QCOMPARE(report["failures"][0]["file"].toString(), QString("broken.mp4"));
    QCOMPARE(report["per_shard"].toArray().size(), 2);
}

void TestCliSam2TrackShard::killed_shard_resumes_to_the_same_bytes() {
    const QString out = dir_.filePath("killed");
    const QStringList shard = batch_args(out) << "--shard"
                                              << "0/1";
    // Videos go in name order: a is finished, b has 2 of its 5 frames when the kill comes.
    const QString killed = run_and_kill(shard, "track: b: tracked 2/5 frames");
    QVERIFY2(killed.isEmpty(), qPrintable(killed));
    QVERIFY(QFile::exists(out + "/a/vis.json") && !QFile::exists(out + "/b/vis.json"));

    const CliRun resumed = run_cli(shard);
    QCOMPARE(resumed.exit_code, 1);  // broken.mp4, unprompted
    QVERIFY2(
        resumed.err.contains("] a: skipped (done in an earlier run; sizes and hashes checked)"),
        qPrintable(resumed.err));
    // The kill lands a frame or so after the mark: b's frames, kept and tracked, are its 5.
    const QRegularExpressionMatch b =
        QRegularExpression(
            R"(b: tracked (\d) frame\(s\) into \S+/b \((\d) kept from an earlier run)")
            .match(resumed.out);
    QVERIFY2(b.hasMatch(), qPrintable(resumed.out));
    QVERIFY(b.captured(2).toInt() >= 2);
    QCOMPARE(b.captured(1).toInt() + b.captured(2).toInt(), 5);
    QVERIFY2(resumed.out.contains("c: tracked 4 frame(s)"), qPrintable(resumed.out));
    QVERIFY(tree(out) == tree(reference_));

    // An output edited since (a mask PNG removed): that video is done again (its store is
    // complete, so only the export is rewritten), the others skipped.
    QVERIFY(QFile::remove(out + "/c/masks/1/000002.png"));
    const CliRun repaired = run_cli(shard);
    QCOMPARE(repaired.exit_code, 1);
    QCOMPARE(repaired.err.count("skipped (done in an earlier run; sizes and hashes checked)"), 2);
    QVERIFY2(repaired.out.contains("c: nothing to track: "), qPrintable(repaired.out));
    QVERIFY(tree(out) == tree(reference_));
    QCOMPARE(journal_events(out, "resumed").size(), size_t(2));  // a (twice), b
    QCOMPARE(journal_events(out, "resumed")["a"], 2);

    // Other options than the journal's run: nothing skipped on the journal's word; the stores
    // of another direction refuse, each video in its own line, and nothing is written.
    const CliRun other = run_cli(QStringList(shard) << "--direction"
                                                    << "both");
    QCOMPARE(other.exit_code, 1);
    QVERIFY2(!other.err.contains("skipped (done in an earlier run;"), qPrintable(other.err));
    QCOMPARE(other.err.count("not both in fp32; use another --out"), 2 * 3);  // progress, summary
    QVERIFY(tree(out) == tree(reference_));
}

void TestCliSam2TrackShard::bad_shard_is_one_line() {
    const QString out = dir_.filePath("bad");
    for (const QString& shard : {"2/2", "1", "4/3", "0/0"}) {
        const CliRun run = run_cli(batch_args(out) << "--shard" << shard);
        const QString problem = one_line_failure_problem(run, "--shard '" + shard + "'");
        QVERIFY2(problem.isEmpty(), qPrintable(shard + ": " + problem));
    }
    // The single-video form is not split.
    const CliRun single = run_cli(QStringList{"track", "--video", videos_ + "/a", "--prompts",
                                              prompts_ + "/a.json", "--out", out, "--shard", "0/2"}
                                  << common_args());
    const QString problem = one_line_failure_problem(single, "--shard applies to --input-dir");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!QFile::exists(out));
}

QTEST_GUILESS_MAIN(TestCliSam2TrackShard)
#include "test_cli_sam2_track_shard.moc"
