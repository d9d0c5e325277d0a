// --shard I/N and merge through real photosynth-cli processes on this machine (the cluster
// itself: tests/cluster): shards in parallel give the one-process outputs byte for byte, every
// image once; a rerun skips only what still matches its journal; the Slurm and Kubernetes
// variables pick the shard; the merged report; one-line errors.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include "app/cli_process.h"
#include "file_bytes.h"

#include "batch/synthetic_dataset.h"
#include "golden_dir.h"

namespace {

constexpr int kImages = 14;
constexpr int kAnnotateImages = 6;  // SAM's encoder: ~0.7 s an image here

// Relative path -> bytes of every file under `root`, .photosynth left out unless asked.
std::map<QString, QByteArray> tree(const QString& root, const QString& under = {}) {
    std::map<QString, QByteArray> files;
    const QString start = under.isEmpty() ? root : root + "/" + under;
    QDirIterator it(start, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString relative = QDir(root).relativeFilePath(path);
        if (under.isEmpty() && relative.startsWith(".photosynth")) continue;
        files[relative] = read_bytes(path);
    }
    return files;
}

// The journal lines of every shard of `root` whose event is `event`, by input.
std::map<QString, int> journal_events(const QString& root, const QString& event) {
    std::map<QString, int> counts;
    QDirIterator it(root + "/.photosynth/shards", {"*.jsonl"}, QDir::Files);
    while (it.hasNext()) {
        for (const QByteArray& line : read_bytes(it.next()).split('\n')) {
            const QJsonObject json = QJsonDocument::fromJson(line).object();
            if (json["event"].toString() == event) ++counts[json["input"].toString()];
        }
    }
    return counts;
}

QStringList effect_args(const QString& in, const QString& out) {
    return {"effect", "--name", "bw", "--input-dir", in, "--output-dir", out};
}

}  // namespace

class TestCliShard : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void effect_shards_equal_one_process();
    void rerun_skips_only_what_still_matches();
    void cluster_variables_pick_the_shard();
    void annotate_shards_equal_one_process();
    void errors_are_one_line_data();
    void errors_are_one_line();

  private:
    QTemporaryDir dir_;
    QString images_, annotate_images_;
};

void TestCliShard::initTestCase() {
    QVERIFY(dir_.isValid());
    images_ = dir_.filePath("images");
    write_synthetic_dataset(images_, kImages);
    annotate_images_ = dir_.filePath("annotate-images");
    const SyntheticDataset dataset = write_synthetic_dataset(annotate_images_, kAnnotateImages);
    QVERIFY(write_file(dir_.filePath("points.json"), points_json(dataset.points)));
    QVERIFY(write_file(images_ + "/corrupt.png", "\x89PNG\r\n\x1a\nnot a png at all"));
}

void TestCliShard::effect_shards_equal_one_process() {
    const QString reference = dir_.filePath("effect-reference"), out = dir_.filePath("effect-4");
    QCOMPARE(run_cli(effect_args(images_, reference)).exit_code, 1);  // corrupt.png
    std::vector<QStringList> shards;
    for (int i = 0; i < 4; ++i)
        shards.push_back(effect_args(images_, out) << "--shard" << QString("%1/4").arg(i));
    int failed_shards = 0;
    for (const CliRun& run : run_cli_together(shards)) {
        QVERIFY2(run.exit_code == 0 || run.exit_code == 1, qPrintable(run.err));
        failed_shards += run.exit_code == 1;
    }
    QCOMPARE(failed_shards, 1);  // the shard that owns corrupt.png, only
    const auto expected = tree(reference), got = tree(out);
    QCOMPARE(got.size(), size_t(kImages));
    QVERIFY(got == expected);
    const auto done = journal_events(out, "done");
    QCOMPARE(done.size(), size_t(kImages));
    for (const auto& [input, count] : done) QCOMPARE(count, 1);

    const CliRun merge = run_cli({"merge", "--project", out});
    QCOMPARE(merge.exit_code, 1);
    QVERIFY2(merge.out.contains(QString("4 shard(s): %1 image(s), %2 done, 1 failed, 0 skipped, "
                                        "0 pending")
                                    .arg(kImages + 1)
                                    .arg(kImages)),
             qPrintable(merge.out));
    QVERIFY2(merge.out.contains("  corrupt.png: "), qPrintable(merge.out));
    QVERIFY(merge.err.startsWith("photosynth-cli: merge: 1 image(s) failed"));
    const QJsonObject report =
        QJsonDocument::fromJson(read_bytes(out + "/.photosynth/report.json")).object();
    QCOMPARE(report["done"].toInt(), kImages);
    QCOMPARE(report["failures"].toArray().size(), 1);
    QCOMPARE(report["failures"][0]["file"].toString(), QString("corrupt.png"));
    QCOMPARE(report["per_shard"].toArray().size(), 4);
}

void TestCliShard::rerun_skips_only_what_still_matches() {
    const QString out = dir_.filePath("effect-rerun");
    const QStringList shard = effect_args(images_, out) << "--shard"
                                                        << "0/2";
    const CliRun first = run_cli(shard);
    QVERIFY2(first.exit_code == 0 || first.exit_code == 1, qPrintable(first.err));
    const auto outputs = tree(out);
    QVERIFY(outputs.size() >= 3);
    // One output edited (same size, other bytes) and one removed: those two are redone, the
    // rest skipped.
    auto it = outputs.begin();
    const QString edited = it->first, removed = (++it)->first;
    QByteArray changed = outputs.begin()->second;
    changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x40);
    QVERIFY(write_file(out + "/" + edited, changed));
    QVERIFY(QFile::remove(out + "/" + removed));
    // What a killed run leaves beside an output it was writing: removed by the shard that owns
    // the name; another name's is not its business.
    const QString stale = out + "/." + removed + ".tmp-4242-abcdef";
    const QString foreign = out + "/.not_this_shards.png.tmp-4242-abcdef";
    QVERIFY(write_file(stale, "half"));
    QVERIFY(write_file(foreign, "half"));
    const CliRun second = run_cli(shard);
    QVERIFY2(second.exit_code == first.exit_code, qPrintable(second.err));
    QCOMPARE(second.err.count("skipped (done in an earlier run; sizes and hashes checked)"),
             static_cast<int>(outputs.size()) - 2);
    QVERIFY2(second.err.contains(edited + ": written"), qPrintable(second.err));
    QVERIFY2(second.err.contains(removed + ": written"), qPrintable(second.err));
    QVERIFY(!QFile::exists(stale));
    QVERIFY(QFile::remove(foreign));
    QVERIFY(tree(out) == outputs);  // repaired, byte for byte
}

void TestCliShard::cluster_variables_pick_the_shard() {
    const QString by_option = dir_.filePath("by-option"), by_slurm = dir_.filePath("by-slurm"),
                  by_kubernetes = dir_.filePath("by-kubernetes");
    const auto runs = run_cli_together(
        {effect_args(images_, by_option) << "--shard"
                                         << "1/3",
         effect_args(images_, by_slurm),
         effect_args(images_, by_kubernetes) << "--shards"
                                             << "3"},
        {{},
         {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=0"},
         {"JOB_COMPLETION_INDEX=1"}});
    for (const CliRun& run : runs) QVERIFY2(run.exit_code >= 0, qPrintable(run.err));
    QVERIFY(!tree(by_option).empty());
    QVERIFY(tree(by_option).size() < size_t(kImages));
    QVERIFY(tree(by_slurm) == tree(by_option));
    QVERIFY(tree(by_kubernetes) == tree(by_option));
    QVERIFY(QFile::exists(by_slurm + "/.photosynth/shards/1-of-3.json"));
    QVERIFY(QFile::exists(by_kubernetes + "/.photosynth/shards/1-of-3.json"));
}

void TestCliShard::annotate_shards_equal_one_process() {
    const QString model = golden_dir() + "/sam_vit_tiny.pth";
    const auto annotate = [&](const QString& project) {
        return QStringList{"annotate",
                           "--model",
                           model,
                           "--input-dir",
                           annotate_images_,
                           "--points",
                           dir_.filePath("points.json"),
                           "--project",
                           project,
                           "--device",
                           "cpu",
                           "--jobs",
                           "1"};
    };
    const QString reference = dir_.filePath("annotate-reference");
    const QString sharded = dir_.filePath("annotate-2");
    // One thread each, the references too: LibTorch's sums round by thread count.
    const QStringList one_thread{"OMP_NUM_THREADS=1"};
    const auto runs = run_cli_together({annotate(reference),
                                        annotate(sharded) << "--shard"
                                                          << "0/2",
                                        annotate(sharded) << "--shard"
                                                          << "1/2"},
                                       {one_thread, one_thread, one_thread});
    for (const CliRun& run : runs) QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const auto expected = tree(reference, ".photosynth/annotations");
    const auto got = tree(sharded, ".photosynth/annotations");
    QCOMPARE(got.size(), size_t(kAnnotateImages));
    for (const auto& [file, bytes] : expected) QVERIFY2(got.at(file) == bytes, qPrintable(file));
    const auto labels = [](const QString& project) -> QJsonValue {
        return QJsonDocument::fromJson(read_bytes(project + "/.photosynth/project.json"))
            .object()["labels"];
    };
    QCOMPARE(labels(sharded), labels(reference));
    // The export reads the merged project as a one-machine one.
    QCOMPARE(run_cli({"merge", "--project", sharded}).exit_code, 0);
    for (const QString& project : {reference, sharded})
        QCOMPARE(
            run_cli({"export", "--project", project, "--format", "png", "--out", project + "-png"})
                .exit_code,
            0);
    QVERIFY(tree(sharded + "-png") == tree(reference + "-png"));
}

void TestCliShard::errors_are_one_line_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    const QString out = QDir::tempPath() + "/photosynth-shard-never";
    QTest::newRow("index = count") << (effect_args("in", out) << "--shard"
                                                              << "4/4")
                                   << "--shard '4/4': expected I/N";
    QTest::newRow("both") << (effect_args("in", out) << "--shard"
                                                     << "0/2"
                                                     << "--shards"
                                                     << "2")
                          << "exclude each other";
    QTest::newRow("--shards alone") << (effect_args("in", out) << "--shards"
                                                               << "2")
                                    << "neither is set";
    QTest::newRow("one image") << QStringList{"effect", "--name",     "bw",      "--image", "a.png",
                                              "--out",  out + ".png", "--shard", "0/2"}
                               << "belong to folder mode";
    QTest::newRow("remove-bg one image")
        << QStringList{"remove-bg", "--model", "m.pth",   "--image", "a.png",
                       "--out",     out,       "--shard", "0/2"}
        << "applies to --input-dir or --video";
    QTest::newRow("merge without summaries")
        << QStringList{"merge", "--project", out} << "no shard summaries";
    QTest::newRow("merge without --project") << QStringList{"merge"} << "missing --project";
}

void TestCliShard::errors_are_one_line() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const CliRun run = run_cli(args);
    const QString problem = one_line_failure_problem(run, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_GUILESS_MAIN(TestCliShard)
#include "test_cli_shard.moc"
