// io::StagedFolder: a new folder appears whole or not at all, a re-export replaces its files only
// once all are written, and what killed runs left is removed or finished by the next one.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "dead_process.h"
#include "io/staged_folder.h"

using namespace ps;

namespace {

bool write(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

QByteArray read(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<missing>");
}

QStringList entries(const QString& folder) {
    return QDir(folder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System |
                                  QDir::NoDotAndDotDot);
}

}  // namespace

class TestStagedFolder : public QObject {
    Q_OBJECT

  private slots:
    void a_new_folder_appears_only_on_commit() {
        QTemporaryDir dir;
        const QString target = dir.path() + "/out";
        auto staged = io::StagedFolder::begin(target.toStdString());
        QVERIFY2(staged, staged ? "" : staged.message().c_str());
        QVERIFY(write(QString::fromStdString(staged->path()) + "/labels/a.txt", "new"));
        QVERIFY(!QFileInfo::exists(target));
        QVERIFY(staged->commit());
        QCOMPARE(read(target + "/labels/a.txt"), QByteArray("new"));
        QCOMPARE(entries(dir.path()), QStringList{"out"});
        QCOMPARE(QString::fromStdString(staged->committed_path(staged->path() + "/labels/a.txt")),
                 QDir(target).absoluteFilePath("labels/a.txt"));
    }

    void an_uncommitted_folder_leaves_nothing_not_even_parents() {
        QTemporaryDir dir;
        {
            auto staged = io::StagedFolder::begin((dir.path() + "/a/b/out").toStdString());
            QVERIFY(staged);
            QVERIFY(write(QString::fromStdString(staged->path()) + "/x.txt", "x"));
        }
        QCOMPARE(entries(dir.path()), QStringList{});
    }

    void a_commit_into_an_existing_folder_replaces_and_keeps_others() {
        QTemporaryDir dir;
        const QString target = dir.path() + "/out";
        QVERIFY(write(target + "/labels/a.txt", "old a"));
        QVERIFY(write(target + "/labels/b.txt", "old b"));
        QVERIFY(write(target + "/readme.md", "the user's"));
        auto staged = io::StagedFolder::begin(target.toStdString());
        QVERIFY(staged);
        const QString staging = QString::fromStdString(staged->path());
        QVERIFY(write(staging + "/labels/a.txt", "new a"));
        QVERIFY(write(staging + "/labels/c.txt", "new c"));
        QVERIFY(write(staging + "/masks/m.png", "new m"));
        QCOMPARE(read(target + "/labels/a.txt"), QByteArray("old a"));  // not before the commit
        QVERIFY(staged->commit());
        QCOMPARE(read(target + "/labels/a.txt"), QByteArray("new a"));
        QCOMPARE(read(target + "/labels/b.txt"), QByteArray("old b"));
        QCOMPARE(read(target + "/labels/c.txt"), QByteArray("new c"));
        QCOMPARE(read(target + "/masks/m.png"), QByteArray("new m"));
        QCOMPARE(read(target + "/readme.md"), QByteArray("the user's"));
        QCOMPARE(entries(dir.path()), QStringList{"out"});
    }

    void a_conflicting_entry_fails_before_anything_is_replaced() {
        QTemporaryDir dir;
        const QString target = dir.path() + "/out";
        QVERIFY(write(target + "/a.txt", "old a"));
        QVERIFY(write(target + "/labels", "a file where the export has a folder"));
        auto staged = io::StagedFolder::begin(target.toStdString());
        QVERIFY(staged);
        QVERIFY(write(QString::fromStdString(staged->path()) + "/a.txt", "new a"));
        QVERIFY(write(QString::fromStdString(staged->path()) + "/labels/b.txt", "new b"));
        QVERIFY(!staged->commit());
        QCOMPARE(read(target + "/a.txt"), QByteArray("old a"));
        staged = io::StagedFolder::begin((dir.path() + "/other").toStdString());  // discards
        QCOMPARE(entries(dir.path()).filter("out"), QStringList{"out"});
    }

    void a_target_behind_a_symbolic_link_is_staged_beside_the_real_folder() {
        QTemporaryDir dir;
        const QString real = dir.path() + "/real/out", link = dir.path() + "/link";
        QVERIFY(write(real + "/a.txt", "old a"));
        QVERIFY(QFile::link(real, link));
        auto staged = io::StagedFolder::begin(link.toStdString());
        QVERIFY(staged);
        QCOMPARE(QFileInfo(QString::fromStdString(staged->path())).path(), dir.path() + "/real");
        QVERIFY(write(QString::fromStdString(staged->path()) + "/a.txt", "new a"));
        QVERIFY(staged->commit());
        QCOMPARE(read(link + "/a.txt"), QByteArray("new a"));
        QCOMPARE(entries(dir.path() + "/real"), QStringList{"out"});
        QVERIFY(QFileInfo(link).isSymLink());
    }

    void a_target_that_is_a_file_is_refused() {
        QTemporaryDir dir;
        QVERIFY(write(dir.path() + "/out", "a file"));
        QVERIFY(!io::StagedFolder::begin((dir.path() + "/out").toStdString()));
        QCOMPARE(entries(dir.path()), QStringList{"out"});
    }

    void stale_staging_is_removed_or_rolled_forward() {
        QTemporaryDir dir;
        const QString target = dir.path() + "/out";
        QVERIFY(write(target + "/a.txt", "old a"));
        const long dead = dead_pid();
        // Killed before its commit: removed, the target untouched.
        const QString abandoned = dir.path() + QString("/.out.tmp-%1-aaaaaa").arg(dead);
        QVERIFY(write(abandoned + "/a.txt", "abandoned"));
        // Killed during its commit (marker written): finished.
        const QString committing = dir.path() + QString("/.out.tmp-%1-bbbbbb").arg(dead);
        QVERIFY(write(committing + "/b.txt", "committed b"));
        QVERIFY(write(committing + ".commit", ""));
        // Of a running process (this one): left alone. And names not ours: left alone.
        const QString running = dir.path() + QString("/.out.tmp-%1-cccccc").arg(::getpid());
        QVERIFY(write(running + "/c.txt", "in progress"));
        QVERIFY(write(dir.path() + "/.out.tmp-notapid/x", "x"));
        QVERIFY(write(dir.path() + "/.other.tmp-" + QString::number(dead) + "-dddddd/x", "x"));

        QCOMPARE(io::clean_stale_staging(target.toStdString()), 2);
        QCOMPARE(read(target + "/a.txt"), QByteArray("old a"));
        QCOMPARE(read(target + "/b.txt"), QByteArray("committed b"));
        QStringList left = entries(dir.path());
        left.sort();
        QStringList expected{".other.tmp-" + QString::number(dead) + "-dddddd", ".out.tmp-notapid",
                             QFileInfo(running).fileName(), "out"};
        expected.sort();
        QCOMPARE(left, expected);
    }

    void stale_temporary_files_are_removed() {
        QTemporaryDir dir;
        const long dead = dead_pid();
        const QString stale = dir.path() + QString("/sub/.a.png.json.tmp-%1-Ab12Cd").arg(dead);
        const QString live = dir.path() + QString("/.b.png.json.tmp-%1-Ab12Cd").arg(::getpid());
        const QString old_no_pid = dir.path() + "/.c.png.json.tmp-Zz9Yy8";
        const QString new_no_pid = dir.path() + "/.d.png.json.tmp-Xx7Ww6";
        const QString ours = dir.path() + "/e.png.json";
        for (const QString& path : {stale, live, old_no_pid, new_no_pid, ours})
            QVERIFY(write(path, "{"));
        std::filesystem::last_write_time(
            old_no_pid.toStdString(),
            std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
        QCOMPARE(io::remove_stale_temp_files(dir.path().toStdString()), 2);
        QVERIFY(!QFile::exists(stale));
        QVERIFY(!QFile::exists(old_no_pid));
        QVERIFY(QFile::exists(live));
        QVERIFY(QFile::exists(new_no_pid));
        QVERIFY(QFile::exists(ours));
    }
};

QTEST_MAIN(TestStagedFolder)
#include "test_staged_folder.moc"
