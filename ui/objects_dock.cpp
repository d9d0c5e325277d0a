// Objects list: edits become requests; the window turns them into undoable commands.
#include "objects_dock.h"

#include <QListWidget>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include "object_list.h"

namespace ps::ui {

ObjectsDock::ObjectsDock(QWidget* parent) : QDockWidget(tr("Objects"), parent) {
    setObjectName("objects_dock");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    list_ = new QListWidget(body);
    list_->setObjectName("objects_list");
    list_->setToolTip(tr("Double-click or F2 renames; the check box shows or hides"));
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
    // Rows are updated in place while the ids are the same: an edit's commit (the delegate's
    // setModelData) may still be on the stack, and must not find its item deleted under it.
    const bool same_rows =
        list_->count() == int(objects.size()) &&
        std::equal(objects.begin(), objects.end(), row_ids_.begin(), row_ids_.end(),
                   [](const editing::SegmentObject& o, int id) { return o.id == id; });
    if (!same_rows) {
        list_->clear();
        row_ids_.clear();
        for (const editing::SegmentObject& object : objects) {
            auto* item = new QListWidgetItem(list_);
            item->setData(Qt::UserRole, object.id);
            item->setFlags(item->flags() | Qt::ItemIsEditable | Qt::ItemIsUserCheckable);
            row_ids_.push_back(object.id);
        }
    }
    for (int row = 0; row < int(objects.size()); ++row) {
        const editing::SegmentObject& object = objects[size_t(row)];
        QListWidgetItem* item = list_->item(row);
        item->setText(object.name);
        item->setCheckState(object.visible ? Qt::Checked : Qt::Unchecked);
        QPixmap swatch(12, 12);
        swatch.fill(object.colour);
        item->setIcon(QIcon(swatch));
        QString tip = tr("%1 · %2").arg(object.segmenter).arg(object.iou, 0, 'f', 3);
        QFont font = list_->font();
        // Batch results wait for a person's review: italic until verified.
        font.setItalic(!object.verified);
        item->setFont(font);
        if (!object.verified) tip += tr(" · not verified (V verifies)");
        item->setToolTip(tip);
        if (!same_rows && object.id == selected) list_->setCurrentItem(item);
    }
    updating_ = false;
}

int ObjectsDock::selected_object_id() const {
    return current_object_id(*list_);
}

void ObjectsDock::select_object(int object_id) {
    select_object_row(*list_, object_id);
}

void ObjectsDock::on_item_changed(QListWidgetItem* item) {
    if (updating_) return;
    // Read everything before emitting: a request can rebuild the list and delete `item`.
    const int id = item->data(Qt::UserRole).toInt();
    const QString name = item->text();
    const bool visible = item->checkState() == Qt::Checked;
    // Delivered after the item view has finished committing the editor, so that the document's
    // answer (which refreshes this list) never runs inside QAbstractItemView::commitData.
    QTimer::singleShot(0, this, [this, id, name, visible] {
        emit rename_requested(id, name);
        emit visibility_requested(id, visible);
    });
}

}  // namespace ps::ui
