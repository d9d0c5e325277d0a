// Video objects list: rows updated in place, renames committed through the item delegate.
#include "video_objects_dock.h"

#include <QHBoxLayout>
#include <QListWidget>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

#include "object_list.h"

namespace ps::ui {

VideoObjectsDock::VideoObjectsDock(QWidget* parent) : QDockWidget(tr("Video Objects"), parent) {
    setObjectName("video_objects_dock");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    list_ = new QListWidget(body);
    list_->setObjectName("video_objects_list");
    list_->setToolTip(
        tr("Clicks on the frame prompt the selected object · double-click or F2 renames"));
    list_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    layout->addWidget(list_);
    auto* row = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add Object"), body);
    add->setObjectName("video_add_object");
    auto* remove = new QPushButton(tr("Delete"), body);
    remove->setObjectName("video_delete_object");
    row->addWidget(add);
    row->addWidget(remove);
    layout->addLayout(row);
    setWidget(body);
    connect(add, &QPushButton::clicked, this, &VideoObjectsDock::add_requested);
    connect(remove, &QPushButton::clicked, this, [this] {
        if (const int id = selected_object_id(); id >= 0) emit delete_requested(id);
    });
    connect(list_, &QListWidget::itemChanged, this, &VideoObjectsDock::on_item_changed);
    connect(list_, &QListWidget::currentRowChanged, this, [this] {
        if (!updating_) emit selection_changed(selected_object_id());
    });
}

void VideoObjectsDock::show_objects(const std::vector<VideoObject>& objects) {
    updating_ = true;
    const int selected = selected_object_id();
    // In place while the ids are the same: a rename's commit (the delegate's setModelData) may
    // still be on the stack and must not find its item deleted under it.
    const bool same_rows =
        list_->count() == int(objects.size()) &&
        std::equal(objects.begin(), objects.end(), row_ids_.begin(), row_ids_.end(),
                   [](const VideoObject& o, int id) { return o.id == id; });
    if (!same_rows) {
        list_->clear();
        row_ids_.clear();
        for (const VideoObject& object : objects) {
            auto* item = new QListWidgetItem(list_);
            item->setData(Qt::UserRole, object.id);
            item->setFlags(item->flags() | Qt::ItemIsEditable);
            row_ids_.push_back(object.id);
        }
    }
    for (int row = 0; row < int(objects.size()); ++row) {
        const VideoObject& object = objects[size_t(row)];
        QListWidgetItem* item = list_->item(row);
        item->setText(object.name);
        QPixmap swatch(12, 12);
        swatch.fill(object.colour);
        item->setIcon(QIcon(swatch));
        if (!same_rows && object.id == selected) list_->setCurrentItem(item);
    }
    updating_ = false;
}

int VideoObjectsDock::selected_object_id() const {
    return current_object_id(*list_);
}

void VideoObjectsDock::select_object(int object_id) {
    select_object_row(*list_, object_id);
}

void VideoObjectsDock::on_item_changed(QListWidgetItem* item) {
    if (updating_) return;
    const int id = item->data(Qt::UserRole).toInt();
    const QString name = item->text();
    // After the view has finished committing the editor: the answer rebuilds this list, which
    // must not happen inside QAbstractItemView::commitData.
    QTimer::singleShot(0, this, [this, id, name] { emit rename_requested(id, name); });
}

}  // namespace ps::ui
