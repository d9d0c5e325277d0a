// io::atomic_write and io::AtomicFile: a file is replaced whole or not at all, errors name the
// file, and nothing is left beside it when a write fails or is abandoned. io::write_staged_file
// for files of a staged folder.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

#include "io/atomic_file.h"
#include "io/staged_folder.h"

using namespace ps;

namespace {

QByteArray contents(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

int entries(const QString& folder) {
    return QDir(folder).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size();
}

}  // namespace

class TestAtomicFile : public QObject {
    Q_OBJECT

  private slots:
    void replaces_whole_files() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("deep/er/file.json").toStdString();
        QVERIFY(io::atomic_write(path, "first", io::MissingFolders::Create).ok());
        QVERIFY(io::atomic_write(path, "second, longer", io::MissingFolders::Create).ok());
        QCOMPARE(contents(QString::fromStdString(path)), QByteArray("second, longer"));
        QCOMPARE(entries(dir.filePath("deep/er")), 1);
    }

    // Files of a staged folder: written in place (no temporary beside them), committed with it.
    void staged_files_are_written_in_place_and_committed_with_the_folder() {
        QTemporaryDir dir;
        const std::string out = dir.filePath("out").toStdString();
        auto staged = io::StagedFolder::begin(out);
        QVERIFY(staged.ok());
        const std::string file = staged->path() + "/a/b/mask.png";
        QVERIFY(!io::write_staged_file(file, "x").ok());  // folders not made unless asked
        QVERIFY(io::write_staged_file(file, "longer first", io::MissingFolders::Create).ok());
        QVERIFY(io::write_staged_file(file, "second").ok());  // truncated, not appended
        QCOMPARE(entries(QString::fromStdString(staged->path() + "/a/b")), 1);
        const Status blocked = io::write_staged_file(staged->path() + "/a", "x");
        QVERIFY2(!blocked.ok() && blocked.message().find(staged->path() + "/a: ") == 0,
                 blocked.message().c_str());
        QVERIFY(staged->commit().ok());
        QCOMPARE(contents(QString::fromStdString(out + "/a/b/mask.png")), QByteArray("second"));
        QCOMPARE(entries(dir.path()), 1);  // the output alone: no staging folder, no marker
    }

    void missing_folder_fails_unless_asked_to_create_it() {
        QTemporaryDir dir;
        const QString path = dir.filePath("no_such_dir/out.json");
        const Status failed = io::atomic_write(path.toStdString(), "x");
        QVERIFY(!failed.ok());
        QCOMPARE(failed.error().kind, ErrorKind::Io);
        QVERIFY2(failed.message().find(path.toStdString() + ": ") == 0, failed.message().c_str());
        QCOMPARE(entries(dir.path()), 0);
    }

    void folder_in_the_way_names_the_path_and_leaves_nothing() {
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath("blocked.json")));
        const std::string path = dir.filePath("blocked.json").toStdString();
        const Status failed = io::atomic_write(path, "x", io::MissingFolders::Create);
        QVERIFY(!failed.ok());
        QVERIFY2(failed.message().find(path + ": ") == 0, failed.message().c_str());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
    }

    void keeps_an_existing_files_mode() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("script.sh").toStdString();
        QVERIFY(io::atomic_write(path, "one").ok());
        struct stat fresh {};
        QCOMPARE(::stat(path.c_str(), &fresh), 0);
        QCOMPARE(int(fresh.st_mode & 0777), 0644);
        QCOMPARE(::chmod(path.c_str(), 0750), 0);
        QVERIFY(io::atomic_write(path, "two").ok());
        struct stat replaced {};
        QCOMPARE(::stat(path.c_str(), &replaced), 0);
        QCOMPARE(int(replaced.st_mode & 0777), 0750);
    }

    // What `segment --metrics` relies on: the file appears only at commit(), and an abandoned
    // one leaves the old file as it was and no temporary file.
    void prepared_file_appears_only_at_commit() {
        QTemporaryDir dir;
        const QString path = dir.filePath("metrics.json");
        QVERIFY(io::atomic_write(path.toStdString(), "old").ok());
        {
            auto file = io::AtomicFile::create(path.toStdString());
            QVERIFY2(file.ok(), file.ok() ? "" : file.message().c_str());
            QVERIFY(file->write(std::string_view("new ")).ok());
            QVERIFY(file->write("bytes", 5).ok());
            QCOMPARE(contents(path), QByteArray("old"));
            QCOMPARE(entries(dir.path()), 2);  // the target and the hidden temporary file
            // Named as remove_stale_temp_files expects; this process runs, so it stays.
            QCOMPARE(io::remove_stale_temp_files(dir.path().toStdString()), 0);
            QVERIFY(file->commit().ok());
        }
        QCOMPARE(contents(path), QByteArray("new bytes"));
        QCOMPARE(entries(dir.path()), 1);
        {
            auto abandoned = io::AtomicFile::create(path.toStdString());
            QVERIFY(abandoned.ok());
            QVERIFY(abandoned->write(std::string_view("never")).ok());
        }
        QCOMPARE(contents(path), QByteArray("new bytes"));
        QCOMPARE(entries(dir.path()), 1);
    }

    void reads_whole_files_and_sets_bad_ones_aside() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("a.json").toStdString();
        QVERIFY(io::atomic_write(path, std::string("x\0y", 3)).ok());
        const auto bytes = io::read_whole_file(path);
        QVERIFY(bytes.ok());
        QCOMPARE(*bytes, std::string("x\0y", 3));
        const auto aside = io::rename_aside(path, ".corrupt");
        QVERIFY(aside.ok());
        QCOMPARE(*aside, path + ".corrupt");
        QVERIFY(io::atomic_write(path, "again").ok());
        const auto second = io::rename_aside(path, ".corrupt");
        QVERIFY(second.ok());
        QCOMPARE(*second, path + ".corrupt-2");
        const auto missing = io::read_whole_file(path);
        QVERIFY(!missing.ok());
        QVERIFY2(missing.message().find(path + ": ") == 0, missing.message().c_str());
    }
};

QTEST_MAIN(TestAtomicFile)
#include "test_atomic_file.moc"
