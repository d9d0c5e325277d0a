// ScriptedSession: steps run from a timer whenever the window is idle.
#include "scripted_session.h"

#include <QApplication>
#include <QScreen>
#include <QTimer>

#include "annotation_controller.h"
#include "label_dock.h"
#include "main_window.h"
#include "video_mode_controller.h"

namespace ps::ui {

ScriptedSession::ScriptedSession(MainWindow& window, QStringList steps, QString screenshot)
    : QObject(&window),
      window_(window),
      steps_(std::move(steps)),
      screenshot_(std::move(screenshot)) {
    poll_ = new QTimer(this);
    poll_->setInterval(50);
    connect(poll_, &QTimer::timeout, this, &ScriptedSession::play);
    const auto opened = [this] {
        waiting_ = false;
        if (!started_) poll_->start();
        started_ = true;
    };
    connect(&window_, &MainWindow::image_opened, this, opened);
    connect(window_.video(), &VideoModeController::video_opened, this, opened);
    connect(&window_, &MainWindow::masks_shown, this, [this] { waiting_ = false; });
}

void ScriptedSession::play() {
    // Points go in once the encode has finished, so each answer is a decode only.
    if (window_.busy() || waiting_) return;
    if (next_ >= steps_.size()) return finish();
    const QString step = steps_[next_++].trimmed();
    if (step == "accept") {
        window_.accept_mask();
    } else if (step == "done") {
        waiting_ = true;
        window_.annotation()->mark_done_and_next();
    } else if (step.startsWith("label=")) {
        window_.annotation()->label_dock()->set_current_label(step.mid(6));
    } else if (const QStringList xyl = step.split(','); xyl.size() >= 2) {
        waiting_ = true;
        window_.add_point({xyl[0].toDouble(), xyl[1].toDouble()},
                          xyl.size() > 2 ? xyl[2].toInt() : 1);
    }
}

void ScriptedSession::finish() {
    poll_->stop();
    if (screenshot_.isEmpty()) return;
    // Let the docks repaint and the panels' background previews arrive.
    QTimer::singleShot(2500, this, [this] {
        // From the display server (Xvfb in scripts/screenshot.sh), as a user sees it.
        QPixmap pixels = window_.screen()->grabWindow(window_.winId());
        if (pixels.isNull()) pixels = window_.grab();
        pixels.save(screenshot_);
        // A scripted demo's objects are not the user's work: quit without asking about them.
        window_.undo_stack().setClean();
        QApplication::quit();
    });
}

}  // namespace ps::ui
