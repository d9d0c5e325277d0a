// Checkpoint discovery over a folder of golden checkpoints, a hostile pickle and a fake .pth.
#include "engine/checkpoint_discovery.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

#include "golden_dir.h"

using ps::engine::DiscoveredCheckpoint;

namespace {

bool copy_golden(const QString& name, const QString& target) {
    return QFile::copy(QString::fromStdString(golden_path(name)), target);
}

std::map<QString, DiscoveredCheckpoint> by_file_name(const std::vector<DiscoveredCheckpoint>& all) {
    std::map<QString, DiscoveredCheckpoint> named;
    for (const auto& c : all) named[QFileInfo(c.path).fileName()] = c;
    return named;
}

}  // namespace

class TestCheckpointDiscovery : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir dir_;
    std::map<QString, DiscoveredCheckpoint> found_;

  private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        const QString root = dir_.path();
        QVERIFY(QDir(root).mkpath("sub/deeper"));
        QVERIFY(copy_golden("sam_vit_tiny.pth", root + "/sam_vit_tiny.pth"));
        // In a subfolder: scanned one level down.
        QVERIFY(copy_golden("mobile_sam_tiny.pth", root + "/sub/mobile_sam_tiny.pth"));
        QVERIFY(copy_golden("u2netp.pth", root + "/u2netp.pth"));
        QVERIFY(copy_golden("hostile/pickle_os_system.pth", root + "/pickle_os_system.pth"));
        // Two levels down: not scanned.
        QVERIFY(copy_golden("u2netp.safetensors", root + "/sub/deeper/u2netp.safetensors"));
        QFile text(root + "/x.pth");
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write("this is a text file, not a checkpoint\n");
        text.close();
        QFile notes(root + "/notes.txt");  // wrong extension: ignored
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("x");
        notes.close();

        // The folder twice (once with a trailing slash) must not list anything twice.
        found_ = by_file_name(ps::engine::discover_checkpoints(
            {root, root + "/", root + "/does-not-exist", QString()}));
    }

    void finds_exactly_the_checkpoint_files() {
        QStringList names;
        for (const auto& [name, _] : found_) names << name;
        QCOMPARE(names, QStringList({"mobile_sam_tiny.pth", "pickle_os_system.pth",
                                     "sam_vit_tiny.pth", "u2netp.pth", "x.pth"}));
    }

    void classifies_each_file_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("golden");
        QTest::newRow("sam") << "sam_vit_tiny.pth"
                             << "sam"
                             << "sam_vit_tiny.pth";
        QTest::newRow("mobile_sam (subfolder)") << "mobile_sam_tiny.pth"
                                                << "mobile_sam"
                                                << "mobile_sam_tiny.pth";
        QTest::newRow("u2net") << "u2netp.pth"
                               << "u2net"
                               << "u2netp.pth";
        QTest::newRow("hostile") << "pickle_os_system.pth"
                                 << "unknown"
                                 << "hostile/pickle_os_system.pth";
        QTest::newRow("text") << "x.pth"
                              << "unknown"
                              << "";
    }

    void classifies_each_file() {
        QFETCH(QString, file);
        QFETCH(QString, family);
        QFETCH(QString, golden);
        QVERIFY2(found_.count(file), qPrintable(file));
        const DiscoveredCheckpoint& c = found_.at(file);
        QCOMPARE(c.family, family);
        QVERIFY(c.path.startsWith(QFileInfo(dir_.path()).canonicalFilePath()));
        const qint64 expected_size =
            golden.isEmpty() ? QFileInfo(dir_.filePath(file)).size()
                             : QFileInfo(QString::fromStdString(golden_path(golden))).size();
        QVERIFY(expected_size > 0);
        QCOMPARE(c.size_bytes, expected_size);
        if (family == "unknown") {
            QVERIFY(!c.usable());
            QVERIFY(!c.error.isEmpty());
            QCOMPARE(c.parameter_count, 0);
        } else {
            QVERIFY2(c.usable(), qPrintable(c.error));
            QVERIFY(c.parameter_count > 0);
            QVERIFY(!c.arch.isEmpty());
            QVERIFY(!c.description.isEmpty());
        }
    }

    void sam_arch_and_parameters_come_from_the_config() {
        const auto& sam = found_.at("sam_vit_tiny.pth");
        QVERIFY2(sam.arch.startsWith("vit"), qPrintable(sam.arch));
        QVERIFY(sam.description.startsWith(sam.arch + ":"));
        QVERIFY(sam.description.contains(QString::number(sam.parameter_count) + " parameters"));
        const auto& mobile = found_.at("mobile_sam_tiny.pth");
        // The golden MobileSAM is shrunk (widths 32..320), so it is not the official "mobile_sam".
        QCOMPARE(mobile.arch, QString("tiny_vit_custom"));
        QVERIFY(mobile.parameter_count > sam.parameter_count);  // 26 MB file vs 2.4 MB, both fp32
    }

    void u2netp_is_told_apart_from_u2net() {
        const auto& u2 = found_.at("u2netp.pth");
        QCOMPARE(u2.arch, QString("u2netp"));
        // U²-NetP has about 1.13 M parameters; the BatchNorm running statistics add a few
        // thousand floating-point elements and the file stores fp32 (4 bytes each).
        QVERIFY2(u2.parameter_count > 1'000'000 && u2.parameter_count < 1'300'000,
                 qPrintable(QString::number(u2.parameter_count)));
        QVERIFY(u2.parameter_count * 4 <= u2.size_bytes);
    }

    void hostile_file_is_refused_with_the_loaders_message() {
        const auto& hostile = found_.at("pickle_os_system.pth");
        // The restricted unpickler names the global it refused to call.
        QVERIFY2(hostile.error.contains("posix.system"), qPrintable(hostile.error));
        QVERIFY(hostile.error.startsWith("pickle_os_system.pth"));
    }

    void text_file_is_refused() {
        const auto& text = found_.at("x.pth");
        QVERIFY2(text.error.contains("unknown format"), qPrintable(text.error));
        QVERIFY(text.arch.isEmpty());
    }

    void inspect_checkpoint_of_a_missing_file_is_an_error() {
        const auto missing = ps::engine::inspect_checkpoint(dir_.filePath("nope.pth"));
        QCOMPARE(missing.family, QString("unknown"));
        QVERIFY(!missing.error.isEmpty());
    }

    void default_folders_include_the_checkout_and_the_user_folder() {
        const auto folders = ps::engine::default_model_folders();
        QCOMPARE(folders.size(), size_t(3));
        const QString app_dir = QCoreApplication::applicationDirPath();
        QCOMPARE(folders[0], QDir::cleanPath(app_dir + "/../models"));
        QCOMPARE(folders[1], QDir::cleanPath(app_dir + "/../../models"));
        QVERIFY(folders[2].endsWith("/Photosynth/models"));
        // Run from build-*/tests/, the second one is the checkout's models/ (it has a README).
        QVERIFY(QFileInfo::exists(folders[1] + "/README.md"));
    }
};

QTEST_GUILESS_MAIN(TestCheckpointDiscovery)
#include "test_checkpoint_discovery.moc"
