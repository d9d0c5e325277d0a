// Cheat sheet and shortcut lookup over the window's real actions.
#include "shortcut_sheet.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSet>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ps::ui {
namespace {

QString plain(QString text) {
    // "&Open Image…" -> "Open Image…" ("&&" is a literal ampersand).
    text.replace("&&", "\x01");
    text.remove('&');
    text.replace("\x01", "&");
    return text;
}

QMenu* menu_of(const QAction* action) {
    for (QObject* object : action->associatedObjects()) {
        // Untitled menus are not places a user looks: the menu bar's overflow "»" popup holds
        // every top-level menu's action too.
        auto* menu = qobject_cast<QMenu*>(object);
        if (menu && !menu->title().isEmpty()) return menu;
    }
    return nullptr;
}

QString menu_path(const QAction* action) {
    QStringList parts{plain(action->text())};
    QSet<const QMenu*> seen;  // a menu reachable from itself must not loop
    for (QMenu* menu = menu_of(action); menu && !seen.contains(menu);
         menu = menu_of(menu->menuAction())) {
        seen.insert(menu);
        parts.prepend(plain(menu->title()));
    }
    return parts.join(" ▸ ");
}

// Mouse gestures of the canvas: not actions, but part of the loop a user must learn.
const char* const kGestures[][2] = {
    {"Click", "Object point (Points tool)"},
    {"Alt+Click or Right-click", "Background point"},
    {"Drag", "Box prompt"},
    {"Drag a point", "Move it; right-click a point removes it"},
    {"Drag (Brush / Eraser)",
     "Paint into / cut from the selected object (none selected: the newest)"},
    {"Right-drag (Brush)", "Erase"},
    {"Space+Drag or Middle-drag", "Pan"},
    {"Wheel", "Zoom"},
    {"Click / Right-click (video)",
     "Object / background point for the selected object on this frame (none selected: a new "
     "object)"},
    {"Drag (video)", "Box prompt for the selected object on this frame"},
};

}  // namespace

std::vector<ShortcutEntry> collect_shortcuts(const QWidget* window) {
    std::vector<ShortcutEntry> entries;
    for (QAction* action : window->findChildren<QAction*>()) {
        QSet<QString> seen;  // an action listing the same key twice (platform aliases) counts once
        for (const QKeySequence& key : action->shortcuts()) {
            if (key.isEmpty() || seen.contains(key.toString())) continue;
            seen.insert(key.toString());
            entries.push_back({menu_path(action), key, action});
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const ShortcutEntry& a, const ShortcutEntry& b) { return a.where < b.where; });
    return entries;
}

QAction* shortcut_owner(const QWidget* window, const QKeySequence& key, const QAction* except) {
    if (key.isEmpty()) return nullptr;
    for (const ShortcutEntry& entry : collect_shortcuts(window)) {
        if (entry.action != except && entry.key.matches(key) == QKeySequence::ExactMatch) {
            return entry.action;
        }
    }
    return nullptr;
}

ShortcutSheet::ShortcutSheet(const QWidget* window, QWidget* parent) : QDialog(parent) {
    setObjectName("shortcut_sheet");
    setWindowTitle(tr("Keyboard Shortcuts"));
    resize(560, 640);
    auto* layout = new QVBoxLayout(this);
    const std::vector<ShortcutEntry> entries = collect_shortcuts(window);
    table_ = new QTableWidget(int(entries.size() + std::size(kGestures)), 2, this);
    table_->setObjectName("shortcut_table");
    table_->setHorizontalHeaderLabels({tr("Key"), tr("Action")});
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionMode(QAbstractItemView::NoSelection);
    int row = 0;
    for (const ShortcutEntry& entry : entries) {
        table_->setItem(row, 0, new QTableWidgetItem(entry.key.toString(QKeySequence::NativeText)));
        table_->setItem(row, 1, new QTableWidgetItem(entry.where));
        ++row;
    }
    for (const auto& gesture : kGestures) {
        table_->setItem(row, 0, new QTableWidgetItem(tr(gesture[0])));
        table_->setItem(row, 1, new QTableWidgetItem(tr(gesture[1])));
        ++row;
    }
    table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

}  // namespace ps::ui
