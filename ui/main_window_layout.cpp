// Main window, its place on screen: first-start size fitted to the screen, restored geometry and
// dock layout, the question before quitting with unsaved objects, and the message banner.
#include <QCloseEvent>
#include <QFileInfo>
#include <QGuiApplication>
#include <QMessageBox>
#include <QScreen>
#include <QShowEvent>
#include <QTimer>
#include <QUndoStack>

#include "annotating/annotation_session.h"
#include "annotation_controller.h"
#include "app_settings.h"
#include "image_canvas.h"
#include "main_window.h"
#include "message_banner.h"

namespace ps::ui {

void MainWindow::restore_layout() {
    if (settings_ && !settings_->window_geometry().isEmpty()) {
        // The docks first: restoring their sizes after the geometry could grow the window.
        restoreState(settings_->window_state());
        restoreGeometry(settings_->window_geometry());
        return;
    }
    first_start_ = true;
    resize(1280, 820);
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (shown_once_) return;
    shown_once_ = true;
    // After the first layout: before it, the docks' size hints stand in for their minimums and
    // show() grew the window to 906 px on a 768 px screen.
    QTimer::singleShot(0, this, &MainWindow::fit_to_screen);
}

void MainWindow::fit_to_screen() {
    const QScreen* where = screen() ? screen() : QGuiApplication::primaryScreen();
    if (!where || isMaximized() || isFullScreen()) return;
    const QRect available = where->availableGeometry();
    // First start: 1280×820, or less where the screen is smaller, centred. A restored size
    // from a larger screen (or another scale factor) shrinks to this one.
    const QSize wanted = first_start_ ? QSize(1280, 820).boundedTo(available.size() * 0.94)
                                      : size().boundedTo(available.size());
    if (!first_start_ && wanted == size() && available.contains(frameGeometry())) return;
    resize(wanted);
    move(available.center() - QPoint(width() / 2, height() / 2));
    canvas_->fit();  // an image opened meanwhile was fitted to the old size
}

bool MainWindow::has_unsaved_objects() const {
    return !document_.objects().empty() && !annotation_->session().image_attached() &&
           !undo_stack_.isClean();
}

bool MainWindow::confirm_discard() {
    if (!isVisible() || !has_unsaved_objects()) return true;
    QMessageBox box(QMessageBox::Warning, tr("Quit Photosynth"),
                    tr("%n accepted object(s) on %1 are not saved. Export them (File ▸ Export All "
                       "Object Masks…) or "
                       "annotate in a project to keep them.",
                       nullptr, int(document_.objects().size()))
                        .arg(QFileInfo(current_path_).fileName()),
                    QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName("discard_objects");
    box.setInformativeText(tr("Quit and discard them?"));
    box.setDefaultButton(QMessageBox::Cancel);
    return box.exec() == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!confirm_discard()) return event->ignore();
    if (settings_) {
        settings_->set_window_layout(saveGeometry(), saveState());
        settings_->sync();
    }
    QMainWindow::closeEvent(event);
}

void MainWindow::show_error(const QString& text) {
    banner_->show_message(text, MessageBanner::Level::Error);
    set_status(text.section('\n', 0, 0));
}

void MainWindow::show_warning(const QString& text) {
    banner_->show_message(text, MessageBanner::Level::Warning);
    set_status(text.section('\n', 0, 0));
}

QString MainWindow::banner_text() const {
    return banner_->text();
}

}  // namespace ps::ui
