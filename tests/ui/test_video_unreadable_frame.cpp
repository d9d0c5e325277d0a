// A frames folder with one unreadable frame, scrubbed to with the keyboard: the banner names the
// file, and the canvas shows that frame empty (black) rather than keeping the picture of the
// frame before under the new frame's number, where a click would prompt the wrong picture.
#include <QApplication>
#include <QFile>
#include <QFileDialog>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "image_canvas.h"
#include "main_window.h"
#include "video_mode_controller.h"
#include "video_timeline.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

// The canvas as drawn, at a video pixel.
QColor shown_at(ui::MainWindow& window, double x, double y) {
    const QPoint at = window.canvas()->image_to_viewport(QPointF(x, y)).toPoint();
    return window.canvas()->viewport()->grab().toImage().pixelColor(at);
}

}  // namespace

class TestVideoUnreadableFrame : public QObject {
    Q_OBJECT
  private slots:
    void unreadable_frame_shows_empty();
};

void TestVideoUnreadableFrame::unreadable_frame_shows_empty() {
    QTemporaryDir dir;
    const QString folder = dir.filePath("frames");
    QVERIFY(QDir().mkpath(folder));
    // Five light grey frames with a disc; 00002.png is not an image.
    for (int i = 0; i < 5; ++i) {
        const QString path = QString("%1/%2.png").arg(folder).arg(i, 5, 10, QChar('0'));
        if (i == 2) {
            QFile junk(path);
            QVERIFY(junk.open(QIODevice::WriteOnly));
            junk.write("not a picture\n");
            continue;
        }
        cv::Mat bgr(96, 128, CV_8UC3, cv::Scalar(200, 200, 200));
        cv::circle(bgr, cv::Point(30 + 10 * i, 40), 12, cv::Scalar(40, 40, 220), cv::FILLED);
        QVERIFY(cv::imwrite(path.toStdString(), bgr));
    }
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QSignalSpy opened(window.video(), &ui::VideoModeController::video_opened);
    // The folder typed into the dialog's name field, then Return (Qt's own dialog, offscreen).
    type_into_next_file_dialog(folder);
    action_named(window, "Open Video Frames Folder…")->trigger();
    QVERIFY(opened.wait(20000));
    QVERIFY(wait_idle(window));
    QCOMPARE(window.video()->frame_count(), 5);
    QVERIFY(activate(window));  // the dialog had the focus

    // Right on the focused timeline to frame 1 (its picture shows), then to frame 2.
    window.timeline()->slider()->setFocus();
    QCOMPARE(QApplication::focusWidget(), window.timeline()->slider());
    {
        QSignalSpy shown(window.video(), &ui::VideoModeController::frame_shown);
        press(Qt::Key_Right);
        QVERIFY(shown.wait(10000));
        QVERIFY(wait_idle(window));
    }
    QCOMPARE(window.video()->current_frame(), 1);
    QVERIFY2(shown_at(window, 100, 80).lightness() > 150,
             qPrintable(shown_at(window, 100, 80).name()));
    press(Qt::Key_Right);
    QVERIFY(QTest::qWaitFor([&] { return window.status_text().contains("00002.png"); }, 10000));
    QVERIFY(wait_idle(window));
    QCOMPARE(window.video()->current_frame(), 2);
    const QColor unreadable = shown_at(window, 100, 80);
    QVERIFY2(unreadable.lightness() < 20,
             qPrintable("frame 2 shows " + unreadable.name() + ", the picture of frame 1"));
    // The next readable frame shows again.
    press(Qt::Key_Right);
    QVERIFY(QTest::qWaitFor([&] { return shown_at(window, 100, 80).lightness() > 150; }, 10000));
}

QTEST_MAIN(TestVideoUnreadableFrame)
#include "test_video_unreadable_frame.moc"
