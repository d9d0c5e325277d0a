// Shard selection (the split, the cluster environment), the shard journal's resume rule and the
// merged report, on synthetic inputs whose right answers are known by construction.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>
#include <set>

#include "batch/shard.h"
#include "batch/shard_journal.h"
#include "batch/shard_report.h"

using namespace ps;
using namespace ps::batch;

namespace {

EnvironmentLookup fake_environment(std::map<std::string, std::string> values) {
    return [values](const char* name) -> std::optional<std::string> {
        const auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

// A Result's message for QVERIFY2, which evaluates it even when the check passes.
template <typename R>
QByteArray why(const R& result) {
    return result ? QByteArray() : QByteArray::fromStdString(result.message());
}

QByteArray io_read(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool write_file(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

std::vector<std::string> names(int count) {
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i)
        out.push_back(QString("dir/img_%1.png").arg(i, 5, 10, QChar('0')).toStdString());
    return out;
}

}  // namespace

class TestShard : public QObject {
    Q_OBJECT
  private slots:
    void fnv1a_matches_the_published_vectors();
    void every_input_in_exactly_one_shard_data();
    void every_input_in_exactly_one_shard();
    void split_is_balanced_on_many_names();
    void ranges_cover_a_sequence_once_in_order();
    void parse_shard_data();
    void parse_shard();
    void environment_data();
    void environment();
    void journal_resumes_only_what_still_matches();
    void journal_ignores_a_torn_last_line();
    void merge_adds_up_and_names_missing_shards();
    void merge_refuses_two_splits();
};

void TestShard::fnv1a_matches_the_published_vectors() {
    // From the FNV reference (Fowler/Noll/Vo test suite): "", "a", "foobar".
    QCOMPARE(fnv1a_64(""), 0xcbf29ce484222325ull);
    QCOMPARE(fnv1a_64("a"), 0xaf63dc4c8601ec8cull);
    QCOMPARE(fnv1a_64("foobar"), 0x85944171f73967e8ull);
}

void TestShard::every_input_in_exactly_one_shard_data() {
    QTest::addColumn<int>("count");
    for (int count : {1, 2, 3, 4, 7, 16})
        QTest::newRow(qPrintable(QString::number(count))) << count;
}

void TestShard::every_input_in_exactly_one_shard() {
    QFETCH(int, count);
    const std::vector<std::string> inputs = names(500);
    std::map<std::string, int> owners;
    size_t total = 0;
    for (int index = 0; index < count; ++index) {
        const std::vector<std::string> owned = select_shard(inputs, {index, count});
        QVERIFY(std::is_sorted(owned.begin(), owned.end()));
        for (const std::string& name : owned) ++owners[name];
        total += owned.size();
    }
    QCOMPARE(total, inputs.size());
    for (const std::string& name : inputs) QCOMPARE(owners[name], 1);
    // Stable: the owner depends on the name only, not on the list it comes in.
    QCOMPARE(select_shard({inputs[7]}, {shard_of(inputs[7], count), count}).size(), size_t(1));
}

void TestShard::split_is_balanced_on_many_names() {
    const std::vector<std::string> inputs = names(20000);
    for (int index = 0; index < 4; ++index) {
        const size_t owned = select_shard(inputs, {index, 4}).size();
        QVERIFY2(owned > 4500 && owned < 5500, qPrintable(QString::number(owned)));
    }
}

void TestShard::ranges_cover_a_sequence_once_in_order() {
    // A video's frames: contiguous shares, back to back, sizes within one of each other.
    for (long long total : {0LL, 1LL, 2LL, 7LL, 14LL, 1000LL, 5000000000LL})
        for (int count : {1, 2, 3, 4, 7, 16}) {
            long long next = 0, smallest = total, largest = 0;
            for (int index = 0; index < count; ++index) {
                const ItemRange range = shard_range(total, {index, count});
                QCOMPARE(range.first, next);
                QVERIFY(range.end >= range.first);
                smallest = std::min(smallest, range.size());
                largest = std::max(largest, range.size());
                next = range.end;
            }
            QCOMPARE(next, total);
            QVERIFY(largest - smallest <= 1);
        }
    // floor(I * 14 / 3): 0, 4, 9, 14.
    QCOMPARE(shard_range(14, {1, 3}).first, 4LL);
    QCOMPARE(shard_range(14, {1, 3}).end, 9LL);
}

void TestShard::parse_shard_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("index");  // -1: refused
    QTest::addColumn<int>("count");
    QTest::newRow("0/4") << "0/4" << 0 << 4;
    QTest::newRow("3/4") << "3/4" << 3 << 4;
    QTest::newRow("0/1") << "0/1" << 0 << 1;
    QTest::newRow("4/4") << "4/4" << -1 << 0;
    QTest::newRow("1/0") << "1/0" << -1 << 0;
    QTest::newRow("-1/4") << "-1/4" << -1 << 0;
    QTest::newRow("2") << "2" << -1 << 0;
    QTest::newRow("a/b") << "a/b" << -1 << 0;
    QTest::newRow("1/4x") << "1/4x" << -1 << 0;
    QTest::newRow("empty") << "" << -1 << 0;
}

void TestShard::parse_shard() {
    QFETCH(QString, text);
    QFETCH(int, index);
    QFETCH(int, count);
    const auto shard = batch::parse_shard(text.toStdString());
    if (index < 0) {
        QVERIFY(!shard);
        QVERIFY2(shard.message().find("'" + text.toStdString() + "'") != std::string::npos,
                 shard.message().c_str());
        return;
    }
    QVERIFY2(shard, why(shard).constData());
    QCOMPARE(shard->index, index);
    QCOMPARE(shard->count, count);
}

void TestShard::environment_data() {
    QTest::addColumn<QStringList>("variables");  // NAME=value
    QTest::addColumn<int>("shards");             // --shards, 0: absent
    QTest::addColumn<QString>("expected");       // "I/N", "none", or "error:<part of message>"
    QTest::newRow("nothing") << QStringList{} << 0 << "none";
    QTest::newRow("slurm count") << QStringList{"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=4",
                                                "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_MAX=3"}
                                 << 0 << "2/4";
    QTest::newRow("slurm max-min+1 without count")
        << QStringList{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_MAX=5"}
        << 0 << "1/6";
    QTest::newRow("resubmitted subset with --shards")
        << QStringList{"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=1",
                       "SLURM_ARRAY_TASK_MIN=3", "SLURM_ARRAY_TASK_MAX=3"}
        << 4 << "3/4";
    QTest::newRow("resubmitted subset without --shards")
        << QStringList{"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=1",
                       "SLURM_ARRAY_TASK_MIN=3", "SLURM_ARRAY_TASK_MAX=3"}
        << 0 << "error:needs --shards N";
    QTest::newRow("stepped array")
        << QStringList{"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=2",
                       "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_STEP=2"}
        << 0 << "error:needs --shards N";
    QTest::newRow("index beyond --shards")
        << QStringList{"SLURM_ARRAY_TASK_ID=4"} << 4 << "error:not below the shard count 4";
    QTest::newRow("not a number") << QStringList{"SLURM_ARRAY_TASK_ID=x"} << 0
                                  << "error:SLURM_ARRAY_TASK_ID='x'";
    QTest::newRow("slurm id alone")
        << QStringList{"SLURM_ARRAY_TASK_ID=0"} << 0 << "error:give --shards N";
    QTest::newRow("kubernetes") << QStringList{"JOB_COMPLETION_INDEX=5"} << 8 << "5/8";
    QTest::newRow("kubernetes without --shards")
        << QStringList{"JOB_COMPLETION_INDEX=5"} << 0 << "error:give --shards N";
    QTest::newRow("slurm before kubernetes")
        << QStringList{"SLURM_ARRAY_TASK_ID=1", "JOB_COMPLETION_INDEX=5"} << 8 << "1/8";
    QTest::newRow("--shards alone") << QStringList{} << 4 << "error:neither is set";
}

void TestShard::environment() {
    QFETCH(QStringList, variables);
    QFETCH(int, shards);
    QFETCH(QString, expected);
    std::map<std::string, std::string> values;
    for (const QString& variable : variables)
        values[variable.section('=', 0, 0).toStdString()] = variable.section('=', 1).toStdString();
    const auto shard = shard_from_environment(fake_environment(values),
                                              shards ? std::optional<int>(shards) : std::nullopt);
    if (expected.startsWith("error:")) {
        QVERIFY(!shard);
        QVERIFY2(shard.message().find(expected.mid(6).toStdString()) != std::string::npos,
                 shard.message().c_str());
        return;
    }
    QVERIFY2(shard, why(shard).constData());
    QCOMPARE(shard->has_value() ? QString::fromStdString(to_string(**shard)) : QString("none"),
             expected);
}

void TestShard::journal_resumes_only_what_still_matches() {
    QTemporaryDir dir;
    const QString input = dir.filePath("in.png"), output = dir.filePath("out/in.png");
    QVERIFY(QDir().mkpath(dir.filePath("out")));
    QVERIFY(write_file(input, "input bytes"));
    QVERIFY(write_file(output, "output bytes"));
    const std::string root = dir.filePath("out").toStdString();
    {
        auto journal = ShardJournal::open(root, "effect", {1, 3}, 2);
        QVERIFY2(journal, why(journal).constData());
        JournalEntry entry;
        entry.input = "in.png";
        entry.input_digest = *digest_file(input.toStdString());
        entry.outputs.emplace_back(journal->relative_to_root(output.toStdString()),
                                   *digest_file(output.toStdString()));
        QVERIFY(journal->record(entry));
        QVERIFY(journal->record({"other.png", EntryOutcome::Failed, "bad", {}, {}, 0}));
        QVERIFY(journal->finish());
    }
    const auto reopen = [&] { return ShardJournal::open(root, "effect", {1, 3}, 2); };
    {
        auto journal = reopen();
        QVERIFY(journal->still_finished("in.png", input.toStdString()));
        QVERIFY(!journal->still_finished("other.png", dir.filePath("other.png").toStdString()));
        const ShardSummary summary = journal->summary();
        QCOMPARE(summary.done, 1);
        QCOMPARE(summary.failed, 1);
        QCOMPARE(summary.failures.at(0).second, std::string("bad"));
        QCOMPARE(summary.runs.size(), size_t(2));
        QVERIFY(summary.runs[0].ended);
        QCOMPARE(summary.runs[0].processed, 1);
    }
    // Same size, other bytes: the hash catches it.
    QVERIFY(write_file(output, "OUTPUT bytes"));
    QVERIFY(!reopen()->still_finished("in.png", input.toStdString()));
    QVERIFY(write_file(output, "output bytes"));
    QVERIFY(reopen()->still_finished("in.png", input.toStdString()));
    // The output gone: redone, whatever the journal says.
    QVERIFY(QFile::remove(output));
    QVERIFY(!reopen()->still_finished("in.png", input.toStdString()));
    QVERIFY(write_file(output, "output bytes"));
    // The input changed: redone.
    QVERIFY(write_file(input, "input bytes, edited"));
    QVERIFY(!reopen()->still_finished("in.png", input.toStdString()));
}

void TestShard::journal_ignores_a_torn_last_line() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    QVERIFY(write_file(dir.filePath("a.png"), "a"));
    {
        auto journal = ShardJournal::open(root, "effect", {0, 1}, 1);
        JournalEntry entry;
        entry.input = "a.png";
        entry.input_digest = *digest_file(dir.filePath("a.png").toStdString());
        QVERIFY(journal->record(entry));
    }  // no finish: killed
    QFile file(QString::fromStdString(shards_folder(root)) + "/0-of-1.jsonl");
    QVERIFY(file.open(QIODevice::Append));
    file.write("{\"event\":\"done\",\"input\":\"b.png\",\"inp");  // cut mid-line
    file.close();
    auto journal = ShardJournal::open(root, "effect", {0, 1}, 2);
    QVERIFY2(journal, why(journal).constData());
    QVERIFY(journal->still_finished("a.png", dir.filePath("a.png").toStdString()));
    const ShardSummary summary = journal->summary();
    QCOMPARE(summary.done, 1);  // not b.png
    QVERIFY(!summary.runs[0].ended);
    // The summary on disk, as merge reads it, says the same.
    auto bytes = io_read(QString::fromStdString(shards_folder(root)) + "/0-of-1.json");
    auto parsed = summary_from_json(bytes.toStdString(), "summary");
    QVERIFY2(parsed, why(parsed).constData());
    QCOMPARE(parsed->inputs, 2);
    QCOMPARE(parsed->done, 1);
    QCOMPARE(parsed->pending(), 1);
}

void TestShard::merge_adds_up_and_names_missing_shards() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    for (int index : {0, 2}) {
        auto journal = ShardJournal::open(root, "remove-bg", {index, 3}, 3);
        QVERIFY(
            journal->record({"ok_" + std::to_string(index), EntryOutcome::Done, {}, {}, {}, 5}));
        QVERIFY(journal->record(
            {"bad_" + std::to_string(index), EntryOutcome::Failed, "corrupt", {}, {}, 0}));
        QVERIFY(journal->finish());
    }
    auto report = merge_shard_summaries(root);
    QVERIFY2(report, why(report).constData());
    QCOMPARE(report->shards, 3);
    QCOMPARE(report->command, std::string("remove-bg"));
    QCOMPARE(report->inputs, 6);
    QCOMPARE(report->done, 2);
    QCOMPARE(report->failed, 2);
    QCOMPARE(report->pending, 2);
    QCOMPARE(report->missing, std::vector<int>{1});
    QVERIFY(!report->complete());
    QCOMPARE(report->failures.at(0).first, std::string("bad_0"));
    QCOMPARE(report->failures.at(1).first, std::string("bad_2"));
    const std::string text = report_to_text(*report);
    QVERIFY2(text.find("shard 1/3: no summary") != std::string::npos, text.c_str());
    QVERIFY2(text.find("  bad_2: corrupt") != std::string::npos, text.c_str());
}

void TestShard::merge_refuses_two_splits() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    QVERIFY(ShardJournal::open(root, "effect", {0, 2}, 1));
    QVERIFY(ShardJournal::open(root, "effect", {0, 3}, 1));
    auto report = merge_shard_summaries(root);
    QVERIFY(!report);
    QVERIFY2(report.message().find("into 2 and into 3") != std::string::npos,
             report.message().c_str());
    QVERIFY(!merge_shard_summaries(dir.filePath("nothing").toStdString()));
}

QTEST_GUILESS_MAIN(TestShard)
#include "test_shard.moc"
