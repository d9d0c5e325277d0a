// Project dock: one row per image, its status as a coloured dot and in the tooltip.
#include "project_dock.h"

#include <QAction>
#include <QDir>
#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QToolButton>
#include <QVBoxLayout>

namespace ps::ui {
namespace {

using annotation::ImageStatus;

constexpr int kStatusRole = Qt::UserRole + 1;

QIcon dot(const QColor& colour, bool ring = false) {
    QPixmap pixmap(14, 14);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QPen(colour.darker(140), 1));
    painter.setBrush(ring ? QBrush(Qt::NoBrush) : QBrush(colour));
    painter.drawEllipse(QRectF(1.5, 1.5, 11, 11));
    return QIcon(pixmap);
}

QIcon status_icon(ImageStatus status) {
    switch (status) {
        case ImageStatus::NotStarted:
            return dot(QColor(150, 150, 150), true);
        case ImageStatus::InProgress:
            return dot(QColor(245, 170, 40));
        case ImageStatus::Done:
            return dot(QColor(60, 180, 75));
    }
    return {};
}

QString status_text(ImageStatus status) {
    switch (status) {
        case ImageStatus::NotStarted:
            return QObject::tr("not started");
        case ImageStatus::InProgress:
            return QObject::tr("in progress");
        case ImageStatus::Done:
            return QObject::tr("done");
    }
    return {};
}

}  // namespace

ProjectDock::ProjectDock(QAction* next_unannotated, QWidget* parent)
    : QDockWidget(tr("Project"), parent) {
    setObjectName("project_dock");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    summary_ = new QLabel(tr("No project open (File ▸ Open Project…)"), body);
    summary_->setObjectName("project_summary");
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    list_ = new QListWidget(body);
    list_->setObjectName("project_images");
    layout->addWidget(list_, 1);
    auto* next = new QToolButton(body);
    next->setObjectName("next_unannotated");
    next->setDefaultAction(next_unannotated);
    next->setToolButtonStyle(Qt::ToolButtonTextOnly);
    next->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    layout->addWidget(next);
    setWidget(body);
    // Enter or a double click opens; a single click only selects, so arrow keys can browse.
    connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        emit image_requested(item->data(Qt::UserRole).toString());
    });
    list_->installEventFilter(this);
}

bool ProjectDock::eventFilter(QObject* watched, QEvent* event) {
    // Enter in the list opens the image rather than firing the window's Accept Object shortcut.
    if (watched == list_ && event->type() == QEvent::ShortcutOverride) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        const auto modifiers = static_cast<QKeyEvent*>(event)->modifiers() & ~Qt::KeypadModifier;
        if ((key == Qt::Key_Return || key == Qt::Key_Enter) && modifiers == Qt::NoModifier) {
            event->accept();
            return true;
        }
    }
    return QDockWidget::eventFilter(watched, event);
}

void ProjectDock::show_images(const QString& folder, const std::vector<std::string>& images) {
    setWindowTitle(tr("Project — %1").arg(QDir(folder).dirName()));
    list_->clear();
    rows_.clear();
    for (const std::string& file : images) {
        const QString name = QString::fromStdString(file);
        auto* item = new QListWidgetItem(status_icon(ImageStatus::NotStarted), name, list_);
        item->setData(Qt::UserRole, name);
        item->setData(kStatusRole, int(ImageStatus::NotStarted));
        rows_[file] = list_->count() - 1;
    }
}

void ProjectDock::show_statuses(const std::map<std::string, ImageStatus>& statuses,
                                const std::map<std::string, QString>& problems) {
    int counts[3] = {0, 0, 0};
    for (const auto& [file, row] : rows_) {
        auto it = statuses.find(file);
        const ImageStatus status = it == statuses.end() ? ImageStatus::NotStarted : it->second;
        ++counts[int(status)];
        QListWidgetItem* item = list_->item(row);
        auto problem = problems.find(file);
        if (problem != problems.end()) {
            item->setIcon(dot(QColor(220, 40, 40)));
            item->setToolTip(problem->second);
            item->setForeground(QColor(220, 40, 40));
        } else {
            item->setIcon(status_icon(status));
            item->setToolTip(QString("%1 — %2").arg(item->text(), status_text(status)));
            item->setData(Qt::ForegroundRole, QVariant());
        }
        item->setData(kStatusRole, int(status));
    }
    const int total = int(rows_.size());
    QString text = tr("%1 of %2 images done · %3 in progress · %4 not started")
                       .arg(counts[int(ImageStatus::Done)])
                       .arg(total)
                       .arg(counts[int(ImageStatus::InProgress)])
                       .arg(counts[int(ImageStatus::NotStarted)]);
    if (!problems.empty())
        text += tr(" · %n unreadable annotation file(s)", nullptr, int(problems.size()));
    summary_->setText(text);
}

void ProjectDock::set_current(const std::string& image_file) {
    auto it = rows_.find(image_file);
    list_->setCurrentRow(it == rows_.end() ? -1 : it->second);
}

QString ProjectDock::summary() const {
    return summary_->text();
}

ImageStatus ProjectDock::shown_status(const std::string& image_file) const {
    auto it = rows_.find(image_file);
    if (it == rows_.end()) return ImageStatus::NotStarted;
    return ImageStatus(list_->item(it->second)->data(kStatusRole).toInt());
}

}  // namespace ps::ui
