// The image exports (File ▸ Export Mask…, Cut-out…, Background Removal…, Ctrl+E) while a video
// is open: the user is sent to Export Video Annotations…, not told to "Open an image first" with a
// video frame on the canvas; and no file dialog asks for a name the export would then refuse.
#include <QApplication>
#include <QFileDialog>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app/moving_disc_clip.h"
#include "main_window.h"
#include "video_mode_controller.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

class TestVideoModeImageExports : public QObject {
    Q_OBJECT
  private slots:
    void image_exports_point_to_the_video_export();
};

void TestVideoModeImageExports::image_exports_point_to_the_video_export() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi");
    QCOMPARE(write_moving_disc_clip(clip, 4, 20), QString());
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(drop_video(window, clip));
    QVERIFY(window.video()->active());

    // Ctrl+E (Export Mask…) to whatever has the focus, as a user presses it.
    press(Qt::Key_E, Qt::ControlModifier);
    QVERIFY(QTest::qWaitFor([&] { return !window.status_text().isEmpty(); }, 5000));
    QVERIFY2(window.status_text().contains("Export Video Annotations"),
             qPrintable(window.status_text()));
    QVERIFY2(!window.status_text().contains("Open an image"), qPrintable(window.status_text()));
    // Every image export from the menu says the same, and none opened a file dialog.
    for (const QString& name :
         {"Export Cut-out…", "Export All Object Masks…", "Export Background Removal…"}) {
        QAction* action = action_named(window, name);
        QVERIFY2(action, qPrintable(name));
        action->trigger();
        QVERIFY2(window.status_text().contains("Export Video Annotations"),
                 qPrintable(name + ": " + window.status_text()));
    }
    QVERIFY(window.findChild<QFileDialog*>() == nullptr);
}

QTEST_MAIN(TestVideoModeImageExports)
#include "test_video_mode_image_exports.moc"
