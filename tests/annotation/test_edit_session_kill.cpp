// kill -9 in the middle of a session of edits loses no accepted object: a helper process
// (edit_session_driver) edits a project through Project and says what it saved; it is killed
// with SIGKILL at random moments, and the reopened project must hold every accepted, undeleted
// object with its exact mask, and every file must parse.
#include <QtTest>

#include <QDirIterator>
#include <QProcess>
#include <QTemporaryDir>

#include <map>
#include <random>
#include <set>

#include "annotation/project.h"

using namespace ps::annotation;

namespace {

using Key = std::pair<std::string, int>;  // image, object id

struct Expected {
    std::map<Key, std::string> masks;  // accepted and not deleted: the RLE string
    // The last line without its confirmation: the save may or may not have happened.
    std::optional<std::string> pending_kind;
    std::optional<Key> pending_key;
    std::string pending_mask;
    std::optional<std::string> pending_status_image;
    int accepted = 0;
};

void apply(Expected& expected, const QList<QByteArray>& lines) {
    expected.pending_kind.reset();
    expected.pending_key.reset();
    for (const QByteArray& line : lines) {
        const QList<QByteArray> words = line.split(' ');
        if (words[0] == "pending") {
            expected.pending_kind = words[1].toStdString();
            if (words[1] == "status") {
                expected.pending_key.reset();
            } else {
                expected.pending_key = Key{words[2].toStdString(), words[3].toInt()};
                expected.pending_mask = words[1] == "accept" ? words[4].toStdString() : "";
            }
        } else if (words[0] == "accepted") {
            expected.masks[{words[1].toStdString(), words[2].toInt()}] = words[3].toStdString();
            expected.pending_kind.reset();
            ++expected.accepted;
        } else if (words[0] == "deleted") {
            expected.masks.erase({words[1].toStdString(), words[2].toInt()});
            expected.pending_kind.reset();
        } else if (words[0] == "status") {
            expected.pending_kind.reset();
        }
    }
}

}  // namespace

class TestEditSessionKill : public QObject {
    Q_OBJECT

private slots:
    void sigkill_loses_no_accepted_object() {
        QTemporaryDir dir;
        for (const char* name : {"a.png", "b.png", "c.png"}) {
            QFile image(dir.filePath(name));
            QVERIFY(image.open(QIODevice::WriteOnly));
        }
        std::mt19937 random(20240611);
        std::uniform_int_distribution<int> delay_ms(0, 700);
        Expected expected;
        for (int round = 0; round < 6; ++round) {
            QProcess driver;
            driver.start(PS_EDIT_SESSION_DRIVER, {dir.path(), QString::number(round + 1)});
            QVERIFY2(driver.waitForStarted(), qPrintable(driver.errorString()));
            // QProcess drops what is still in the pipe when the process dies: read as it comes.
            QByteArray output;
            // The kill lands at a random moment after the first save began (the start-up,
            // libraries loading, takes a varying few hundred ms).
            while (!output.contains('\n') && driver.waitForReadyRead(30000)) output += driver.readAllStandardOutput();
            QElapsedTimer clock;
            clock.start();
            const int delay = delay_ms(random);
            while (clock.elapsed() < delay) {
                driver.waitForReadyRead(std::max<int>(1, delay - static_cast<int>(clock.elapsed())));
                output += driver.readAllStandardOutput();
            }
            QCOMPARE(driver.state(), QProcess::Running);  // still editing: it never stops by itself
            driver.kill();  // SIGKILL
            QVERIFY(driver.waitForFinished());
            QCOMPARE(driver.exitStatus(), QProcess::CrashExit);
            const QByteArray error = driver.readAllStandardError();
            QVERIFY2(error.isEmpty(), error.constData());
            output += driver.readAllStandardOutput();
            // A line cut by the kill was never complete: drop it.
            if (!output.isEmpty() && !output.endsWith('\n')) output.truncate(output.lastIndexOf('\n') + 1);
            QList<QByteArray> lines = output.split('\n');
            lines.removeAll(QByteArray());
            qInfo("round %d: killed after %d ms, %lld lines", round + 1, delay, static_cast<long long>(lines.size()));
            QVERIFY2(!lines.isEmpty(), "the driver saved nothing before it was killed");
            apply(expected, lines);

            // Every file parses; anything else is a temporary file of an interrupted save.
            auto project = Project::open(dir.path().toStdString());
            QVERIFY(project.ok());
            QDirIterator files(dir.filePath(".photosynth/annotations"), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
            std::set<std::string> annotated;
            while (files.hasNext()) {
                const QString path = files.next();
                const QString name = QFileInfo(path).fileName();
                if (name.startsWith('.')) {
                    QVERIFY2(name.contains(".tmp-"), qPrintable(path));
                    continue;
                }
                QVERIFY2(name.endsWith(".json"), qPrintable(path));
                QFile file(path);
                QVERIFY(file.open(QIODevice::ReadOnly));
                auto parsed = annotation_from_json(file.readAll().toStdString(), path.toStdString());
                QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.message().c_str());
                annotated.insert(name.chopped(5).toStdString());
            }
            const auto listed = project->annotated_images();
            QCOMPARE(std::set<std::string>(listed.begin(), listed.end()), annotated);

            // Every accepted object is there with its exact mask.
            std::map<Key, std::string> on_disk;
            for (const std::string& image : project->images()) {
                auto loaded = project->load(image);
                QVERIFY(loaded.ok());
                QVERIFY2(!loaded->problem, loaded->problem ? loaded->problem->c_str() : "");
                for (const AnnotatedObject& object : loaded->annotation.objects)
                    on_disk[{image, object.id}] = rle_to_string(object.mask);
            }
            for (const auto& [key, mask] : expected.masks) {
                const auto found = on_disk.find(key);
                const bool pending_here = expected.pending_kind && expected.pending_key == key;
                if (found == on_disk.end()) {
                    QVERIFY2(pending_here && *expected.pending_kind == "delete",
                             qPrintable(QString("object %1 of %2 lost").arg(key.second).arg(key.first.c_str())));
                    continue;
                }
                QVERIFY2(found->second == mask || (pending_here && found->second == expected.pending_mask),
                         qPrintable(QString("object %1 of %2 has another mask").arg(key.second).arg(key.first.c_str())));
            }
            for (const auto& [key, mask] : on_disk) {
                const bool pending_here = expected.pending_kind && expected.pending_key == key;
                QVERIFY2(expected.masks.count(key) || pending_here,
                         qPrintable(QString("object %1 of %2 was never saved").arg(key.second).arg(key.first.c_str())));
            }
            // The next round goes on from what is on disk.
            if (expected.pending_kind && expected.pending_key) {
                const auto found = on_disk.find(*expected.pending_key);
                if (found == on_disk.end())
                    expected.masks.erase(*expected.pending_key);
                else
                    expected.masks[*expected.pending_key] = found->second;
            }
        }
        QVERIFY2(expected.accepted > 30, qPrintable(QString("only %1 objects accepted").arg(expected.accepted)));
        qInfo("%d objects accepted over 6 killed sessions, %zu on disk at the end", expected.accepted,
              expected.masks.size());
    }
};

QTEST_MAIN(TestEditSessionKill)
#include "test_edit_session_kill.moc"
