// The desktop app started as a user (or a file manager's "Open With") starts it: the real
// `photosynth` process with a video on its command line opens video mode, as a drop on the window
// does, instead of failing to decode the video as an image. `--screenshot` (scripts/screenshot.sh)
// waits for the video as it waits for an image, so the grab shows the clip's first frame.
#include <QDir>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "app/moving_disc_clip.h"

namespace {

struct GuiRun {
    int exit_code = -1;  // -2: crashed; -1: did not finish in time
    QString err;
};

// The app, offscreen, with its settings in `home` (not the user's).
GuiRun run_gui(const QStringList& args, const QString& home) {
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("QT_QPA_PLATFORM", "offscreen");
    environment.insert("HOME", home);
    environment.insert("XDG_CONFIG_HOME", home + "/.config");
    process.setProcessEnvironment(environment);
    process.start(QString::fromUtf8(PS_GUI_PATH), args);
    GuiRun run;
    if (!process.waitForFinished(25000)) {
        process.kill();
        process.waitForFinished();
        return run;
    }
    run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

}  // namespace

class TestGuiCommandLine : public QObject {
    Q_OBJECT
  private slots:
    void video_argument_opens_video_mode();
};

void TestGuiCommandLine::video_argument_opens_video_mode() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString clip = dir.filePath("clip.avi"), shot = dir.filePath("shot.png");
    const QString written = write_moving_disc_clip(clip, 6, 20);
    QVERIFY2(written.isEmpty(), qPrintable(written));
    QVERIFY(QDir(dir.path()).mkpath("home"));

    const GuiRun run = run_gui({clip, "--screenshot", shot}, dir.filePath("home"));
    QVERIFY2(
        run.exit_code == 0,
        qPrintable(
            QString("exit %1 (-1: never opened the video): %2").arg(run.exit_code).arg(run.err)));
    QVERIFY2(!run.err.contains("cannot decode"), qPrintable(run.err));
    // The first frame is on the canvas: the disc's colour (RGB 240, 200, 30) fills a patch of the
    // grab, scaled up from the 96x64 clip.
    const cv::Mat bgr = cv::imread(shot.toStdString(), cv::IMREAD_COLOR);
    QVERIFY2(!bgr.empty(), qPrintable(shot));
    cv::Mat disc;
    cv::inRange(bgr, cv::Scalar(0, 170, 210), cv::Scalar(70, 230, 255), disc);
    QVERIFY2(cv::countNonZero(disc) > 400,
             qPrintable(QString("%1 disc-coloured pixels").arg(cv::countNonZero(disc))));
}

QTEST_MAIN(TestGuiCommandLine)
#include "test_gui_command_line.moc"
