// The project's images with their progress (not started / in progress / done, and files that
// could not be read), a summary line, and the way to the next unannotated image.
#pragma once

#include <QDockWidget>

#include <map>
#include <string>
#include <vector>

#include "annotation/annotation.h"

class QAction;
class QLabel;
class QListWidget;

namespace ps::ui {

class ProjectDock : public QDockWidget {
    Q_OBJECT
  public:
    // `next_unannotated`: the window's action, shown as the dock's button.
    ProjectDock(QAction* next_unannotated, QWidget* parent = nullptr);

    void show_images(const QString& folder, const std::vector<std::string>& images);
    void show_statuses(const std::map<std::string, annotation::ImageStatus>& statuses,
                       const std::map<std::string, QString>& problems);
    void set_current(const std::string& image_file);
    QListWidget* list() const { return list_; }
    QString summary() const;
    // The status an image's row shows (for tests and accessibility): its item's data.
    annotation::ImageStatus shown_status(const std::string& image_file) const;

  signals:
    void image_requested(const QString& image_file);

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    QListWidget* list_ = nullptr;
    QLabel* summary_ = nullptr;
    std::map<std::string, int> rows_;
};

}  // namespace ps::ui
