// The main window: shows the opened image; the engine's panels arrive with later issues.
#pragma once

#include <QMainWindow>
#include <QString>

class QGraphicsPixmapItem;
class QGraphicsScene;
class QGraphicsView;
class QLabel;

namespace ps::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Opens an image through the engine's reader; on failure shows the reason and keeps the
    // current image. Returns whether the image is now shown.
    bool open_image(const QString& path);
    QString current_path() const { return current_path_; }
    QGraphicsView* view() const { return view_; }

signals:
    void image_opened(const QString& path);

private:
    void choose_image();
    void fit_to_window();

    QGraphicsScene* scene_ = nullptr;
    QGraphicsView* view_ = nullptr;
    QGraphicsPixmapItem* pixmap_item_ = nullptr;
    QLabel* status_ = nullptr;
    QString current_path_;
};

}  // namespace ps::ui
