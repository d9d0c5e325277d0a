// The objects tracked through a video: each with its label and colour; add, rename in place,
// delete, select. Edits become requests; the video mode applies them and saves them.
#pragma once

#include <QDockWidget>

#include <vector>

#include "video_annotations.h"

class QListWidget;
class QListWidgetItem;
class QPushButton;

namespace ps::ui {

class VideoObjectsDock : public QDockWidget {
    Q_OBJECT
  public:
    explicit VideoObjectsDock(QWidget* parent = nullptr);
    void show_objects(const std::vector<VideoObject>& objects);
    int selected_object_id() const;     // -1 when none
    void select_object(int object_id);  // -1 clears the selection
    QListWidget* list() const { return list_; }

  signals:
    void add_requested();
    void rename_requested(int object_id, const QString& name);
    void delete_requested(int object_id);
    void selection_changed(int object_id);

  private:
    void on_item_changed(QListWidgetItem* item);
    QListWidget* list_ = nullptr;
    std::vector<int> row_ids_;
    bool updating_ = false;
};

}  // namespace ps::ui
