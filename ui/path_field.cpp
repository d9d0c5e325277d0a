// Path field: a line edit and a Browse button in one row.
#include "path_field.h"

#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>

namespace ps::ui {

QWidget* path_field(QLineEdit* edit, QWidget* parent, std::function<QString()> choose) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* browse = new QPushButton(QObject::tr("Browse…"), row);
    QObject::connect(browse, &QPushButton::clicked, row, [edit, choose = std::move(choose)] {
        const QString chosen = choose();
        if (!chosen.isEmpty()) edit->setText(chosen);
    });
    layout->addWidget(browse);
    return row;
}

}  // namespace ps::ui
