// The F1 cheat sheet: every keyboard shortcut of the window, read from its actual QActions (so
// it cannot drift from the menus), plus the canvas's mouse gestures.
#pragma once

#include <QDialog>
#include <QKeySequence>
#include <QString>

#include <vector>

class QAction;
class QTableWidget;

namespace ps::ui {

struct ShortcutEntry {
    QString where;  // menu path: "Edit ▸ Accept Object"
    QKeySequence key;
    QAction* action = nullptr;
};

// Every enabled-or-not action under `window` with a shortcut, one entry per key sequence.
std::vector<ShortcutEntry> collect_shortcuts(const QWidget* window);
// The action (other than `except`) under `window` that already uses `key`, or nullptr.
QAction* shortcut_owner(const QWidget* window, const QKeySequence& key,
                        const QAction* except = nullptr);

class ShortcutSheet : public QDialog {
    Q_OBJECT
  public:
    explicit ShortcutSheet(const QWidget* window, QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }

  private:
    QTableWidget* table_ = nullptr;
};

}  // namespace ps::ui
