// The temporary names beside a target: what atomic writes and staged folders create is what the
// next run's clean-up reads back, and nothing else is taken for one.
#include <QtTest>

#include <unistd.h>

#include "io/temp_name.h"

using namespace ps::io;

class TestTempName : public QObject {
    Q_OBJECT
  private slots:
    void what_is_written_reads_back() {
        const std::string name = temp_name_stem("a.tmp-b.png.json") + "Ab3xYz";
        QCOMPARE(name, ".a.tmp-b.png.json.tmp-" + std::to_string(::getpid()) + "-Ab3xYz");
        const auto parsed = parse_temp_name(name);
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->target_name, std::string("a.tmp-b.png.json"));
        QCOMPARE(parsed->pid, long(::getpid()));
    }

    void older_names_without_a_pid() {
        const auto parsed = parse_temp_name(".labels.json.tmp-q1W2e3");
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->target_name, std::string("labels.json"));
        QCOMPARE(parsed->pid, 0L);
    }

    void other_files_are_not_temporary() {
        for (const char* name :
             {"labels.json", ".labels.json", ".labels.json.tmp-", ".x.tmp-12-abc",
              ".x.tmp-12-abcdefg", ".x.tmp-1a-abcdef", "x.tmp-12-abcdef", "..tmp-12-abcdef",
              ".x.tmp-12345678901-abcdef", ".x.tmp-ab_def"})
            QVERIFY2(!parse_temp_name(name), name);
    }

    void rebase_keeps_the_part_under_the_folder() {
        QCOMPARE(rebase_path("/o/.out.tmp-1-abcdef/a/b.json", "/o/.out.tmp-1-abcdef", "/o/out"),
                 std::string("/o/out/a/b.json"));
        QCOMPARE(rebase_path("/o/.out.tmp-1-abcdef", "/o/.out.tmp-1-abcdef", "/o/out"),
                 std::string("/o/out"));
        QCOMPARE(rebase_path("/o/.out.tmp-1-abcdefg/x", "/o/.out.tmp-1-abcdef", "/o/out"),
                 std::string("/o/.out.tmp-1-abcdefg/x"));  // a sibling sharing the prefix
        QCOMPARE(rebase_path("/elsewhere/x", "/o/s", "/o/out"), std::string("/elsewhere/x"));
        QCOMPARE(rebase_path("/o/x", "", "/o/out"), std::string("/o/x"));
    }
};

QTEST_GUILESS_MAIN(TestTempName)
#include "test_temp_name.moc"
