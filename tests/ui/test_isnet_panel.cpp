// The Remove Background panel with an ISNet checkpoint, as a user drives it: the model loads,
// the matte source is chosen with the keyboard, the panel's matte is the engine's ISNet matte of
// the display copy, and the export is an RGBA PNG at full size. With several models found in a
// folder, the panel lists each (name, file, size, resolution) and switches back to a loaded one
// without loading it again.
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include "background_panel.h"
#include "display_names.h"
#include "engine/checkpoint_discovery.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "golden_dir.h"
#include "io/image_reader.h"
#include "main_window.h"
#include "test_data.h"

using namespace ps;

class TestIsnetPanel : public QObject {
    Q_OBJECT
  private slots:
    void isnet_checkpoint_mattes_and_exports() {
        engine::Engine engine(cpu_test_settings());
        ui::BackgroundPanel panel(engine);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QSignalSpy ready(&panel, &ui::BackgroundPanel::model_ready);
        panel.set_matting_checkpoint(QString::fromStdString(isnet_data_path("isnet_tiny.pth")));
        QVERIFY2(ready.wait(60000), qPrintable(panel.status_text()));
        QVERIFY2(panel.status_text().startsWith("isnet"), qPrintable(panel.status_text()));
        const auto models = engine.models();
        QCOMPARE(int(models.size()), 1);
        QCOMPARE(models.front().family, std::string("isnet"));

        const cv::Mat rgb = *io::read_rgb_image(golden_path("images/coffee.png"));
        auto image = wait(engine.open_image(rgb, "coffee"));
        QVERIFY(image.ok());
        QSignalSpy matte(&panel, &ui::BackgroundPanel::matte_ready);
        panel.set_image(image->id);
        auto* source = panel.findChild<QComboBox*>("matte_source");
        source->setFocus();
        QTest::keyClick(source, Qt::Key_End);
        QCOMPARE(panel.source(), QString("model"));  // the matting-model entry
        QVERIFY(matte.count() > 0 || matte.wait(60000));
        QTRY_VERIFY_WITH_TIMEOUT(!panel.display_matte().empty(), 60000);

        engine::MatteOptions display;
        display.longest_side_px = 1024;
        auto expected = wait(engine.matte(image->id, models.front().id, display));
        QVERIFY(expected.ok());
        QTRY_COMPARE_WITH_TIMEOUT(cv::countNonZero(panel.display_matte() != expected->matte), 0,
                                  60000);

        QTemporaryDir dir;
        QSignalSpy exported(&panel, &ui::BackgroundPanel::export_finished);
        panel.export_result(dir.filePath("cut.png"));
        QVERIFY(exported.wait(60000));
        QCOMPARE(exported.first().first().toString(), QString());
        const QImage cut(dir.filePath("cut.png"));  // Qt's own PNG reader
        QCOMPARE(cut.size(), QSize(rgb.cols, rgb.rows));
        QVERIFY(cut.hasAlphaChannel());
    }

    void panel_lists_the_folder_models_and_switches_back_instantly() {
        QTemporaryDir folder;
        QVERIFY(QFile::copy(golden_dir() + "/u2netp.pth", folder.filePath("u2netp.pth")));
        QVERIFY(QFile::copy(QString::fromStdString(isnet_data_path("isnet_tiny.pth")),
                            folder.filePath("isnet_tiny.pth")));
        // Not background removal, or not usable: not listed.
        QVERIFY(QFile::copy(golden_dir() + "/sam_vit_tiny.pth", folder.filePath("sam.pth")));
        QFile broken(folder.filePath("broken.safetensors"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("not a checkpoint");
        broken.close();

        engine::Engine engine(cpu_test_settings());
        ui::BackgroundPanel panel(engine);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.add_matting_models(engine::discover_checkpoints({folder.path()}));
        auto* source = panel.findChild<QComboBox*>("matte_source");
        QStringList items;
        for (int i = 0; i < source->count(); ++i) items << source->itemText(i);
        const auto megabytes = [&](const QString& name) {
            return QString("%1 MB").arg(QFileInfo(folder.filePath(name)).size() / (1024.0 * 1024.0),
                                        0, 'f', 1);
        };
        QCOMPARE(items, (QStringList{
                            "GrabCut (built-in)", "SAM mask",
                            "ISNet · isnet_tiny.pth · " + megabytes("isnet_tiny.pth") + " · 1024²",
                            "U²-NetP · u2netp.pth · " + megabytes("u2netp.pth") + " · 320²"}));
        QVERIFY(engine.models().empty());  // nothing loads until chosen

        const cv::Mat rgb = *io::read_rgb_image(golden_path("images/coffee.png"));
        auto image = wait(engine.open_image(rgb, "coffee"));
        QVERIFY(image.ok());
        panel.set_image(image->id);
        QSignalSpy ready(&panel, &ui::BackgroundPanel::model_ready);
        QSignalSpy matte(&panel, &ui::BackgroundPanel::matte_ready);
        source->setFocus();
        QTRY_VERIFY(source->hasFocus());
        const auto choose = [&](int index) {
            while (source->currentIndex() != index)
                QTest::keyClick(source, source->currentIndex() < index ? Qt::Key_Down : Qt::Key_Up);
        };
        choose(2);  // ISNet: loads, then mattes
        QCOMPARE(panel.source(), QString("model"));
        QVERIFY(ready.count() == 1 || ready.wait(60000));
        QTRY_VERIFY_WITH_TIMEOUT(matte.count() >= 1, 60000);
        choose(3);  // U²-NetP: loads too
        QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 2, 60000);
        QTRY_VERIFY_WITH_TIMEOUT(matte.count() >= 2, 60000);
        QCOMPARE(int(engine.models().size()), 2);
        const cv::Mat u2_matte = panel.display_matte().clone();

        // Back to ISNet: no load, its matte again (from the engine's cache, at once).
        const int mattes = matte.count();
        choose(2);
        QTRY_VERIFY_WITH_TIMEOUT(matte.count() > mattes, 10000);
        QCOMPARE(ready.count(), 2);
        QCOMPARE(int(engine.models().size()), 2);
        QVERIFY(cv::countNonZero(panel.display_matte() != u2_matte) > 0);
        QCOMPARE(QFileInfo(panel.model_path()).fileName(), QString("isnet_tiny.pth"));
    }

    void labels_say_the_size_the_model_sees() {
        QCOMPARE(ui::matting_model_label("isnet", "isnet", "isnet.pth", 176LL << 20, 1024, 1024),
                 QString("ISNet · isnet.pth · 176 MB · 1024²"));
        QCOMPARE(ui::matting_model_label("birefnet", "birefnet_lite",
                                         "BiRefNet_lite-2K.safetensors", 0, 2560, 1440),
                 QString("BiRefNet lite · BiRefNet_lite-2K.safetensors · 2560×1440"));
        QCOMPARE(ui::matting_model_label("birefnet", "birefnet", "BiRefNet_dynamic.safetensors",
                                         512 << 10, 1024, 1024, true),
                 QString("BiRefNet · BiRefNet_dynamic.safetensors · 512 KB · any size"));
    }

    void the_window_lists_the_models_folder() {
        // The window itself scans the model folders when it starts (off the GUI thread): a
        // matting checkpoint in the user's models folder appears in its Remove Background
        // panel; a SAM checkpoint beside it does not. Test mode: the folder is under ~/.qttest.
        QStandardPaths::setTestModeEnabled(true);
        const QString folder = engine::user_model_folder();
        QDir(folder).removeRecursively();
        QVERIFY(QDir().mkpath(folder));
        QVERIFY(QFile::copy(QString::fromStdString(isnet_data_path("isnet_tiny.pth")),
                            folder + "/isnet_tiny.pth"));
        QVERIFY(QFile::copy(golden_dir() + "/sam_vit_tiny.pth", folder + "/sam.pth"));
        {
            engine::Engine engine(cpu_test_settings());
            ui::MainWindow window(engine);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            auto* source = window.findChild<QComboBox*>("matte_source");
            QVERIFY(source);
            const auto items = [source] {
                QStringList out;
                for (int i = 0; i < source->count(); ++i) out << source->itemText(i);
                return out;
            };
            QTRY_VERIFY_WITH_TIMEOUT(items().filter("isnet_tiny.pth").size() == 1, 30000);
            QVERIFY2(items().filter("ISNet · isnet_tiny.pth").size() == 1,
                     qPrintable(items().join(" | ")));
            QVERIFY2(items().filter("sam.pth").isEmpty(), qPrintable(items().join(" | ")));
            QVERIFY(engine.models().empty());  // listed, not loaded
        }
        QDir(folder).removeRecursively();
        QStandardPaths::setTestModeEnabled(false);
    }
};

QTEST_MAIN(TestIsnetPanel)
#include "test_isnet_panel.moc"
