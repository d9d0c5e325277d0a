// Dock helpers.
#include "dock_layout.h"

#include <QDockWidget>
#include <QScrollArea>

namespace ps::ui {

void make_scrollable(QDockWidget* dock) {
    QWidget* content = dock->widget();
    if (!content || qobject_cast<QScrollArea*>(content)) return;
    auto* scroll = new QScrollArea(dock);
    scroll->setObjectName(dock->objectName() + "_scroll");
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setWidget(content);  // takes ownership
    dock->setWidget(scroll);
}

}  // namespace ps::ui
