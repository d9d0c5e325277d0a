// The Remove Background panel with an ISNet checkpoint, as a user drives it: the model loads,
// the matte source is chosen with the keyboard, the panel's matte is the engine's ISNet matte of
// the display copy, and the export is an RGBA PNG at full size.
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include "background_panel.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "golden_dir.h"
#include "io/image_reader.h"
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
        panel.set_u2net_checkpoint(QString::fromStdString(isnet_data_path("isnet_tiny.pth")));
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
        QCOMPARE(panel.source(), QString("u2net"));  // the matting-model entry
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
};

QTEST_MAIN(TestIsnetPanel)
#include "test_isnet_panel.moc"
