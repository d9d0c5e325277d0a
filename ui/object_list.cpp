// The object lists of the image and video docks (see object_list.h).
#include "object_list.h"

#include <QListWidget>

namespace ps::ui {

int current_object_id(const QListWidget& list) {
    const QListWidgetItem* item = list.currentItem();
    return item ? item->data(Qt::UserRole).toInt() : -1;
}

void select_object_row(QListWidget& list, int object_id) {
    for (int row = 0; row < list.count(); ++row) {
        if (list.item(row)->data(Qt::UserRole).toInt() == object_id) {
            list.setCurrentRow(row);
            return;
        }
    }
    list.setCurrentItem(nullptr);
}

}  // namespace ps::ui
