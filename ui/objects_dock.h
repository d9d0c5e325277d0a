// The accepted objects of the image: select, rename, hide and delete them.
#pragma once

#include <QDockWidget>

#include <vector>

#include "editing/edit_document.h"

class QListWidget;
class QListWidgetItem;

namespace ps::ui {

class ObjectsDock : public QDockWidget {
    Q_OBJECT
  public:
    explicit ObjectsDock(QWidget* parent = nullptr);
    void show_objects(const std::vector<editing::SegmentObject>& objects);
    int selected_object_id() const;     // -1 when none
    void select_object(int object_id);  // -1 clears the selection
    QListWidget* list() const { return list_; }

  signals:
    void rename_requested(int object_id, const QString& name);
    void visibility_requested(int object_id, bool visible);
    void delete_requested(int object_id);

  private:
    void on_item_changed(QListWidgetItem* item);
    QListWidget* list_ = nullptr;
    std::vector<int> row_ids_;  // the object id of each row, in order
    bool updating_ = false;
};

}  // namespace ps::ui
