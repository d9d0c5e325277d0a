// Main window: menus, a zoomable canvas and a status line.
#include "main_window.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QImage>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "io/image_reader.h"

namespace ps::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle("Photosynth");
    resize(1100, 760);
    scene_ = new QGraphicsScene(this);
    view_ = new QGraphicsView(scene_, this);
    view_->setObjectName("canvas");
    view_->setDragMode(QGraphicsView::ScrollHandDrag);
    view_->setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    view_->setBackgroundBrush(QColor(40, 40, 40));
    setCentralWidget(view_);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Image…"), this, &MainWindow::choose_image);
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    QMenu* view_menu = menuBar()->addMenu(tr("&View"));
    QAction* fit = view_menu->addAction(tr("&Fit to Window"), this, &MainWindow::fit_to_window);
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));

    status_ = new QLabel(tr("Open an image to start (Ctrl+O)"), this);
    statusBar()->addWidget(status_, 1);
}

bool MainWindow::open_image(const QString& path) {
    auto rgb = io::read_rgb_image(path.toStdString());
    if (!rgb) {
        status_->setText(QString::fromStdString(rgb.message()));
        if (isVisible()) QMessageBox::warning(this, tr("Cannot open image"), status_->text());
        return false;
    }
    const cv::Mat& m = *rgb;
    // QImage borrows the buffer; copy() detaches it before the Mat goes away.
    const QImage image = QImage(m.data, m.cols, m.rows, static_cast<qsizetype>(m.step[0]),
                                QImage::Format_RGB888)
                             .copy();
    scene_->clear();
    pixmap_item_ = scene_->addPixmap(QPixmap::fromImage(image));
    pixmap_item_->setTransformationMode(Qt::SmoothTransformation);
    scene_->setSceneRect(pixmap_item_->boundingRect());
    current_path_ = path;
    fit_to_window();
    setWindowTitle(QFileInfo(path).fileName() + " — Photosynth");
    status_->setText(tr("%1 × %2 px").arg(m.cols).arg(m.rows));
    emit image_opened(path);
    return true;
}

void MainWindow::choose_image() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Image"), QString(),
        tr("Images (*.png *.jpg *.jpeg *.bmp *.gif *.ppm *.pgm);;All files (*)"));
    if (!path.isEmpty()) open_image(path);
}

void MainWindow::fit_to_window() {
    if (pixmap_item_) view_->fitInView(pixmap_item_, Qt::KeepAspectRatio);
}

}  // namespace ps::ui
