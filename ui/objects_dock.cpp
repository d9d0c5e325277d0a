// Objects list: edits become requests; the window turns them into undoable commands.
#include "objects_dock.h"

#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace ps::ui {

ObjectsDock::ObjectsDock(QWidget* parent) : QDockWidget(tr("Objects"), parent) {
    setObjectName("objects_dock");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    list_ = new QListWidget(body);
    list_->setObjectName("objects_list");
    layout->addWidget(list_);
    auto* remove = new QPushButton(tr("Delete"), body);
    remove->setObjectName("delete_object");
    layout->addWidget(remove);
    setWidget(body);
    connect(list_, &QListWidget::itemChanged, this, &ObjectsDock::on_item_changed);
    connect(remove, &QPushButton::clicked, this, [this] {
        if (const int id = selected_object_id(); id >= 0) emit delete_requested(id);
    });
}

void ObjectsDock::show_objects(const std::vector<editing::SegmentObject>& objects) {
    updating_ = true;
    const int selected = selected_object_id();
    list_->clear();
    for (const editing::SegmentObject& object : objects) {
        auto* item = new QListWidgetItem(object.name, list_);
        item->setData(Qt::UserRole, object.id);
        item->setFlags(item->flags() | Qt::ItemIsEditable | Qt::ItemIsUserCheckable);
        item->setCheckState(object.visible ? Qt::Checked : Qt::Unchecked);
        QPixmap swatch(12, 12);
        swatch.fill(object.colour);
        item->setIcon(QIcon(swatch));
        item->setToolTip(tr("%1 · %2").arg(object.segmenter).arg(object.iou, 0, 'f', 3));
        if (!object.verified) {
            // Batch results wait for a person's review: italic until verified.
            QFont font = item->font();
            font.setItalic(true);
            item->setFont(font);
            item->setToolTip(item->toolTip() + tr(" · not verified (V verifies)"));
        }
        if (object.id == selected) list_->setCurrentItem(item);
    }
    updating_ = false;
}

int ObjectsDock::selected_object_id() const {
    const QListWidgetItem* item = list_->currentItem();
    return item ? item->data(Qt::UserRole).toInt() : -1;
}

void ObjectsDock::select_object(int object_id) {
    for (int row = 0; row < list_->count(); ++row) {
        if (list_->item(row)->data(Qt::UserRole).toInt() == object_id) {
            list_->setCurrentRow(row);
            return;
        }
    }
    list_->setCurrentItem(nullptr);
}

void ObjectsDock::on_item_changed(QListWidgetItem* item) {
    if (updating_) return;
    const int id = item->data(Qt::UserRole).toInt();
    emit rename_requested(id, item->text());
    emit visibility_requested(id, item->checkState() == Qt::Checked);
}

}  // namespace ps::ui
