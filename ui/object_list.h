// The object lists of the image and video docks: one row per object, its id in Qt::UserRole.
#pragma once

class QListWidget;

namespace ps::ui {

// The current row's object id, -1 when no row is current.
int current_object_id(const QListWidget& list);

// Makes the row of `object_id` current; none when no row holds it.
void select_object_row(QListWidget& list, int object_id);

}  // namespace ps::ui
