// Driving the real main window as a user does: the window active, keys sent to whatever widget
// has the focus, clicks at image points, and waits for the engine's answers.
#pragma once

#include <QAction>
#include <QApplication>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QUrl>
#include <QtTest>

#include <memory>

#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "image_canvas.h"
#include "main_window.h"
#include "settings_dialog.h"
#include "video_mode_controller.h"

namespace window_driver {

inline ps::engine::EngineSettings cpu_settings(int workers = 2) {
    return cpu_test_settings(workers);
}

inline bool activate(QWidget& window) {
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) return false;
    QApplication::setActiveWindow(&window);
    return QTest::qWaitForWindowActive(&window);
}

// Waits until the window has no request in flight (the encoder and the decoder run elsewhere).
inline bool wait_idle(ps::ui::MainWindow& window, int timeout_ms = 60000) {
    QElapsedTimer timer;
    timer.start();
    while (window.busy() && timer.elapsed() < timeout_ms) QTest::qWait(10);
    return !window.busy();
}

// A file dropped on the window, as from a file manager.
inline void drop_on_window(QWidget& window, const QString& path) {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    const QPoint at = window.rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &enter);
    QDropEvent drop(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &drop);
}

// A video dropped on the window, then its first frame shown and the window idle.
inline bool drop_video(ps::ui::MainWindow& window, const QString& path) {
    QSignalSpy opened(window.video(), &ps::ui::VideoModeController::video_opened);
    drop_on_window(window, path);
    return opened.wait(20000) && wait_idle(window);
}

inline bool open_and_wait(ps::ui::MainWindow& window, const QString& path) {
    QSignalSpy opened(&window, &ps::ui::MainWindow::image_opened);
    window.open_image(path);
    return opened.wait(30000) && wait_idle(window);
}

// A left (object) or right (background) click at an image point, then the decoder's answer.
inline bool click_image(ps::ui::MainWindow& window, double x, double y,
                        Qt::MouseButton button = Qt::LeftButton) {
    QSignalSpy shown(&window, &ps::ui::MainWindow::masks_shown);
    const QPoint at = window.canvas()->image_to_viewport(QPointF(x, y)).toPoint();
    QTest::mouseClick(window.canvas()->viewport(), button, {}, at);
    return shown.wait(30000) && wait_idle(window);
}

// The action a menu shows with this text (mnemonics ignored).
inline QAction* action_named(QWidget& window, const QString& text) {
    for (QAction* action : window.findChildren<QAction*>()) {
        QString plain = action->text();
        plain.remove('&');
        if (plain == text) return action;
    }
    return nullptr;
}

// A key as the user types it: to the widget that has the keyboard focus.
inline void press(int key, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
    QWidget* focus = QApplication::focusWidget();
    QVERIFY2(focus, "no widget has the keyboard focus");
    QTest::keyClick(focus, Qt::Key(key), modifiers);
}

// Runs `answer` on the next modal dialog to appear (QMessageBox, QFileDialog…), from a timer,
// since the code that opens it blocks in exec().
template <typename Dialog, typename Answer>
void when_modal(Answer answer, int timeout_ms = 20000) {
    auto* timer = new QTimer;
    auto* clock = new QElapsedTimer;
    clock->start();
    QObject::connect(timer, &QTimer::timeout, [timer, clock, answer, timeout_ms] {
        auto* dialog = qobject_cast<Dialog*>(QApplication::activeModalWidget());
        if (!dialog && clock->elapsed() < timeout_ms) return;
        timer->stop();
        timer->deleteLater();
        delete clock;
        if (dialog) answer(dialog);
    });
    timer->start(20);
}

// Answers the next file dialog as a user does: types the path into its file-name field and
// presses Return. The flag becomes true once the dialog (Qt's own widget dialog, as used
// offscreen) took the path and closed; shared, since the answer may come after the caller left.
inline std::shared_ptr<bool> type_into_next_file_dialog(const QString& path) {
    auto accepted = std::make_shared<bool>(false);
    when_modal<QFileDialog>([path, accepted](QFileDialog* dialog) {
        auto* name = dialog->findChild<QLineEdit*>("fileNameEdit");
        if (!name) return dialog->reject();
        // Offscreen no window manager activates the dialog; the field must truly have the focus,
        // since the dialog's completion keeps stale selections in a field without it.
        QApplication::setActiveWindow(dialog);
        name->setFocus(Qt::OtherFocusReason);
        if (!QTest::qWaitFor([name] { return name->hasFocus(); })) return dialog->reject();
        name->selectAll();
        QTest::keyClicks(QApplication::focusWidget(), path);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return);
        *accepted = !dialog->isVisible() && dialog->result() == QDialog::Accepted;
        if (dialog->isVisible()) dialog->reject();  // never leave the test blocked in exec()
    });
    return accepted;
}

// Models ▸ Settings…: `path` typed into the Segment Anything field as a user types it, then OK
// (which inspects a path outside the model folders first, and accepts when that is done).
// Returns once the dialog is closed: whether the field held exactly `path` when OK was clicked.
inline bool type_sam_checkpoint_in_settings(QWidget& window, const QString& path) {
    bool typed = false;
    when_modal<ps::ui::SettingsDialog>([&typed, path](ps::ui::SettingsDialog* dialog) {
        QTimer::singleShot(30000, dialog, &QDialog::reject);  // never hang in exec()
        auto* field = dialog->findChild<QLineEdit*>("samPathEdit");
        auto* ok = dialog->findChild<QPushButton*>("okButton");
        if (!field || !ok) return dialog->reject();
        QApplication::setActiveWindow(dialog);
        field->setFocus(Qt::OtherFocusReason);
        if (!QTest::qWaitFor([field] { return field->hasFocus(); })) return dialog->reject();
        field->selectAll();
        QTest::keyClicks(QApplication::focusWidget(), path);
        typed = field->text() == path;
        QTest::mouseClick(ok, Qt::LeftButton);
    });
    QAction* settings = action_named(window, "Settings…");
    if (settings == nullptr) return false;
    settings->trigger();  // returns once the dialog is closed
    QApplication::setActiveWindow(&window);
    return typed;
}

}  // namespace window_driver
