// The Remove Background panel's before / after, on the canvas for an image, when a video is
// opened: the image's result leaves the canvas and the panel, the panel is disabled with a line
// saying why (a click on its background list changes nothing over the video's frame), and once
// the image is opened again a background chosen with the keyboard is drawn on the canvas. The
// panels of a still image step aside in video mode: the candidate strip is hidden and the effects
// and background panels are disabled with a line saying why (no thumbnail of the last image
// left), until an image is dropped again or the video is closed.
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "app/moving_disc_clip.h"
#include "background_panel.h"
#include "candidate_strip.h"
#include "effects_panel.h"
#include "image_canvas.h"
#include "main_window.h"
#include "video_mode_controller.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

// A still image (a red disc on green) and a 4-frame clip of a moving disc: "" or what failed.
QString write_image_and_clip(const QString& image, const QString& clip) {
    cv::Mat bgr(240, 320, CV_8UC3, cv::Scalar(90, 140, 60));
    cv::circle(bgr, cv::Point(160, 120), 60, cv::Scalar(30, 30, 220), cv::FILLED);
    if (!cv::imwrite(image.toStdString(), bgr)) return "cannot write " + image;
    return write_moving_disc_clip(clip, 4, 20);
}

}  // namespace

class TestVideoModePanels : public QObject {
    Q_OBJECT
  private slots:
    void image_result_leaves_with_the_image();
    void still_image_panels_step_aside_in_video_mode();
};

void TestVideoModePanels::image_result_leaves_with_the_image() {
    QTemporaryDir dir;
    const QString image = dir.filePath("disc.png"), clip = dir.filePath("clip.avi");
    QCOMPARE(write_image_and_clip(image, clip), QString());
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    window.resize(1280, 800);
    QVERIFY(activate(window));
    ui::BackgroundPanel* panel = window.background_panel();
    panel->raise();
    QVERIFY(open_and_wait(window, image));

    // Before / after on the canvas, ticked with a click: GrabCut's cut-out shows there.
    {
        QSignalSpy preview(panel, &ui::BackgroundPanel::preview_ready);
        auto* on_canvas = panel->findChild<QCheckBox*>("background_on_canvas");
        QVERIFY(on_canvas);
        QTest::mouseClick(on_canvas, Qt::LeftButton, {}, QPoint(8, on_canvas->height() / 2));
        QVERIFY(on_canvas->isChecked());
        QVERIFY(QTest::qWaitFor([&] { return !panel->result_image().isNull(); }, 30000));
    }
    QVERIFY(QTest::qWaitFor([&] { return window.canvas()->comparing(); }, 10000));

    QVERIFY(drop_video(window, clip));
    QVERIFY(!window.canvas()->comparing());
    QVERIFY(panel->result_image().isNull());
    auto* shown = panel->findChild<QLabel*>("background_preview");
    QVERIFY(shown && (!shown->pixmap() || shown->pixmap().isNull()));

    // The panel says why it is idle, and its controls take neither a click nor the keyboard:
    // nothing of the image comes back over the video.
    auto* kind = panel->findChild<QComboBox*>("background_kind");
    auto* on_canvas = panel->findChild<QCheckBox*>("background_on_canvas");
    QVERIFY(kind && on_canvas);
    QVERIFY(!panel->available());
    QVERIFY(!kind->isEnabled() && !on_canvas->isEnabled());
    QVERIFY2(shown->text().contains("still image"), qPrintable(shown->text()));
    QVERIFY(activate(window));
    QTest::mouseClick(kind, Qt::LeftButton, {}, QPoint(8, kind->height() / 2));
    kind->setFocus();
    QVERIFY(QApplication::focusWidget() != kind);
    QCOMPARE(kind->currentData().toString(), QString("transparent"));
    QTest::qWait(1500);  // GrabCut's preview took well under this for the image
    QVERIFY(wait_idle(window));
    QVERIFY2(!window.canvas()->comparing(), "the image's cut-out is drawn over the video");
    QVERIFY(panel->result_image().isNull());

    // The image opened again: the panel works, and a colour background chosen with the keyboard
    // on the focused list is the canvas's result (its corner, outside GrabCut's box, the colour's
    // white, which the transparent result's checkerboard never is).
    QVERIFY(open_and_wait(window, image));
    QVERIFY(!window.video()->active());
    QVERIFY(panel->available() && kind->isEnabled() && on_canvas->isEnabled());
    QVERIFY2(!shown->text().contains("still image"), qPrintable(shown->text()));
    QVERIFY(activate(window));
    kind->setFocus();
    QCOMPARE(QApplication::focusWidget(), kind);
    press(Qt::Key_Down);
    QCOMPARE(kind->currentData().toString(), QString("colour"));
    QVERIFY(QTest::qWaitFor(
        [&] {
            const QImage result = panel->result_image();
            return !result.isNull() && result.pixel(1, 1) == qRgb(255, 255, 255);
        },
        30000));
    QVERIFY(QTest::qWaitFor([&] { return window.canvas()->comparing(); }, 10000));
}

namespace {

// Every effect's thumbnail in the strip has an icon (true), or none has one (false).
bool thumbnails_shown(QListWidget* strip, bool shown) {
    for (int row = 0; row < strip->count(); ++row)
        if (strip->item(row)->icon().isNull() == shown) return false;
    return strip->count() > 0;
}

}  // namespace

void TestVideoModePanels::still_image_panels_step_aside_in_video_mode() {
    QTemporaryDir dir;
    const QString image = dir.filePath("disc.png"), clip = dir.filePath("clip.avi");
    QCOMPARE(write_image_and_clip(image, clip), QString());
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    window.resize(1280, 800);
    QVERIFY(activate(window));
    ui::EffectsPanel* effects = window.effects_panel();
    effects->raise();
    auto* strip = effects->findChild<QListWidget*>("effect_strip");
    auto* target = effects->findChild<QWidget*>("effect_target");
    auto* preview = effects->findChild<QLabel*>("effect_preview");
    QVERIFY(strip && target && preview);
    ui::BackgroundPanel* background = window.background_panel();
    auto* matte_source = background->findChild<QComboBox*>("matte_source");
    auto* background_kind = background->findChild<QComboBox*>("background_kind");
    auto* background_preview = background->findChild<QLabel*>("background_preview");
    QVERIFY(matte_source && background_kind && background_preview);
    // The background panel in use: both its lists, and no reason in place of its preview.
    const auto background_in_use = [&] {
        return background->available() && matte_source->isEnabled() &&
               background_kind->isEnabled() && !background_preview->text().contains("still image");
    };
    const auto background_idle = [&] {
        return !background->available() && !matte_source->isEnabled() &&
               !background_kind->isEnabled() &&
               background_preview->text().contains("still image") &&
               background->result_image().isNull();
    };
    const auto drop_image = [&] {
        QSignalSpy opened(&window, &ui::MainWindow::image_opened);
        drop_on_window(window, image);
        return opened.wait(30000) && wait_idle(window);
    };

    // An image: the strip above the canvas and the effects' thumbnails of it.
    QVERIFY(drop_image());
    QVERIFY(window.candidates()->isVisible());
    QVERIFY(QTest::qWaitFor([&] { return thumbnails_shown(strip, true); }, 30000));
    QVERIFY(strip->isEnabled() && target->isEnabled());
    QVERIFY(background_in_use());

    // A video: no strip, the effects and background removal disabled with the reason, no
    // thumbnail or result of the image.
    QVERIFY(drop_video(window, clip));
    QVERIFY(!window.candidates()->isVisible());
    QVERIFY(!strip->isEnabled() && !target->isEnabled());
    QVERIFY(!effects->available());
    QVERIFY2(preview->text().contains("still image"), qPrintable(preview->text()));
    QVERIFY(thumbnails_shown(strip, false));
    QVERIFY(effects->preview().isNull());
    QVERIFY2(background_idle(), qPrintable(background_preview->text()));
    // Stepping through the video brings none of it back.
    QVERIFY(activate(window));
    window.canvas()->setFocus();
    press(Qt::Key_Right);
    QVERIFY(wait_idle(window));
    QTest::qWait(200);
    QVERIFY(!window.candidates()->isVisible() && !strip->isEnabled());
    QVERIFY(thumbnails_shown(strip, false));
    QVERIFY(background_idle());

    // The image dropped again: the strip and the effects are back, with the image's thumbnails.
    QVERIFY(drop_image());
    QVERIFY(!window.video()->active());
    QVERIFY(window.candidates()->isVisible());
    QVERIFY(strip->isEnabled() && target->isEnabled() && effects->available());
    QVERIFY(!preview->text().contains("still image"));
    QVERIFY(QTest::qWaitFor([&] { return thumbnails_shown(strip, true); }, 30000));
    QVERIFY(background_in_use());

    // Closing a video from the menu is image mode too, with no image yet.
    QVERIFY(drop_video(window, clip));
    QVERIFY(!window.candidates()->isVisible() && !strip->isEnabled());
    QVERIFY(background_idle());
    QAction* close = action_named(window, "Close Video");
    QVERIFY(close && close->isEnabled());
    close->trigger();
    QVERIFY(!window.video()->active());
    QVERIFY(window.candidates()->isVisible());
    QVERIFY(strip->isEnabled() && effects->available());
    QVERIFY(preview->text().isEmpty());
    QVERIFY(background_in_use());
    QVERIFY(background_preview->text().isEmpty());
}

QTEST_MAIN(TestVideoModePanels)
#include "test_video_mode_panels.moc"
