// Video mode, Propagate Backward (Shift+T) with the only prompt on frame 0 (tiny golden SAM 2.1
// checkpoint): the status says frame 0 is the first, instead of "Propagation done: 0 frame(s)
// tracked"; the click's mask stays. From a later prompted frame, backward still tracks.
#include <QApplication>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

#include "app/moving_disc_clip.h"
#include "image_canvas.h"
#include "main_window.h"
#include "sam2_test_data.h"
#include "video_mode_controller.h"
#include "video_timeline.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

bool click_frame(ui::MainWindow& window, double x, double y) {
    QSignalSpy shown(window.video(), &ui::VideoModeController::masks_shown);
    const QPoint at = window.canvas()->image_to_viewport(QPointF(x, y)).toPoint();
    QTest::mouseClick(window.canvas()->viewport(), Qt::LeftButton, {}, at);
    return shown.wait(30000) && wait_idle(window);
}

}  // namespace

class TestSam2VideoBackwardStart : public QObject {
    Q_OBJECT
  private slots:
    void backward_from_frame_zero_says_so();
};

void TestSam2VideoBackwardStart::backward_from_frame_zero_says_so() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi");
    QCOMPARE(write_moving_disc_clip(clip, 4, 20), QString());
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    {
        QSignalSpy ready(&window, &ui::MainWindow::model_ready);
        window.set_sam_model(QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt")),
                             tiny_sam2_options("cpu", runtime::Precision::Fp32).layout);
        QVERIFY(ready.wait(30000) && wait_idle(window));
    }
    QVERIFY(drop_video(window, clip));
    ui::VideoModeController& video = *window.video();

    QVERIFY(click_frame(window, 20, 32));
    const int object = video.annotations().objects.front().id;
    QVERIFY(!video.mask_of(object, 0).empty());
    QSignalSpy finished(&video, &ui::VideoModeController::propagation_finished);
    press(Qt::Key_T, Qt::ShiftModifier);
    QVERIFY(wait_idle(window));
    QVERIFY2(window.status_text().contains("Frame 0 is the first"),
             qPrintable(window.status_text()));
    QVERIFY(!video.propagating());
    QCOMPARE(finished.size(), 0);
    QVERIFY(!video.mask_of(object, 0).empty());

    // A correction on frame 2, then Shift+T: frames 2, 1 and 0 are tracked.
    window.timeline()->slider()->setFocus();
    for (int frame = 1; frame <= 2; ++frame) {
        press(Qt::Key_Right);
        QVERIFY(QTest::qWaitFor([&] { return video.current_frame() == frame; }, 10000));
        QVERIFY(wait_idle(window));
    }
    QVERIFY(click_frame(window, 28, 32));
    press(Qt::Key_T, Qt::ShiftModifier);
    QVERIFY(finished.wait(30000));
    QVERIFY2(finished.first().first().toString().contains("3 frame(s) tracked"),
             qPrintable(finished.first().first().toString()));
}

QTEST_MAIN(TestSam2VideoBackwardStart)
#include "test_sam2_video_backward_start.moc"
