// The video timeline's Play / Pause button as a user sees it: Space on the focused timeline plays
// and pauses, and the button shows a drawable play or pause sign each time — the style's icons,
// not characters the system's fonts may lack (U+23F8 showed as an empty box).
#include <QApplication>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include "app/moving_disc_clip.h"
#include "main_window.h"
#include "video_mode_controller.h"
#include "video_timeline.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

// A problem with what the button shows, or empty: an icon, and no character its font lacks.
QString sign_problem(const QToolButton& button) {
    if (button.icon().isNull()) return "no icon";
    const QFontMetrics metrics(button.font());
    for (const char32_t code : button.text().toUcs4())
        if (!metrics.inFontUcs4(code))
            return QString("U+%1 is not in the button's font").arg(uint(code), 4, 16, QChar('0'));
    return {};
}

QImage shown(const QToolButton& button) {
    return button.icon().pixmap(button.iconSize()).toImage();
}

}  // namespace

class TestVideoTimelinePlay : public QObject {
    Q_OBJECT
  private slots:
    void play_and_pause_show_drawable_signs();
};

void TestVideoTimelinePlay::play_and_pause_show_drawable_signs() {
    QTemporaryDir dir;
    const QString clip = dir.filePath("clip.avi");
    QCOMPARE(write_moving_disc_clip(clip, 40, 10), QString());
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(drop_video(window, clip));

    QToolButton* play = window.timeline()->play_button();
    QVERIFY2(sign_problem(*play).isEmpty(), qPrintable("paused: " + sign_problem(*play)));
    const QImage paused_sign = shown(*play);

    window.timeline()->slider()->setFocus();
    QCOMPARE(QApplication::focusWidget(), window.timeline()->slider());
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Space);
    QVERIFY(QTest::qWaitFor([&] { return window.video()->current_frame() > 0; }, 10000));
    QVERIFY2(sign_problem(*play).isEmpty(), qPrintable("playing: " + sign_problem(*play)));
    QVERIFY2(shown(*play) != paused_sign, "playing shows the same sign as paused");

    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Space);
    const int stopped_at = window.video()->current_frame();
    QTest::qWait(400);  // 4 frames at the clip's 10 fps, had it gone on
    QCOMPARE(window.video()->current_frame(), stopped_at);
    QVERIFY2(sign_problem(*play).isEmpty(), qPrintable("paused again: " + sign_problem(*play)));
    QVERIFY(shown(*play) == paused_sign);
}

QTEST_MAIN(TestVideoTimelinePlay)
#include "test_video_timeline_play.moc"
