// Text-entry guard: claims the keys typing needs before window shortcuts see them.
#include "text_entry_guard.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QKeyEvent>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTextEdit>

namespace ps::ui {

bool is_text_entry(const QWidget* widget) {
    if (!widget) return false;
    if (qobject_cast<const QLineEdit*>(widget) || qobject_cast<const QAbstractSpinBox*>(widget))
        return true;
    if (const auto* text = qobject_cast<const QTextEdit*>(widget)) return !text->isReadOnly();
    if (const auto* plain = qobject_cast<const QPlainTextEdit*>(widget))
        return !plain->isReadOnly();
    if (const auto* combo = qobject_cast<const QComboBox*>(widget)) return combo->isEditable();
    return false;
}

bool text_entry_owns_key(const QKeyEvent& key) {
    const Qt::KeyboardModifiers modifiers =
        key.modifiers() & ~(Qt::ShiftModifier | Qt::KeypadModifier);
    if (modifiers != Qt::NoModifier) return false;  // Ctrl+S, Alt+1, … stay window shortcuts
    // Function keys (F1 for help) and page keys still reach the window.
    const int k = key.key();
    if (k == Qt::Key_Return || k == Qt::Key_Enter || k == Qt::Key_Escape) return true;
    return k < Qt::Key_Escape || k == Qt::Key_Delete || k == Qt::Key_Backspace ||
           k == Qt::Key_Home || k == Qt::Key_End || k == Qt::Key_Left || k == Qt::Key_Right ||
           k == Qt::Key_Up || k == Qt::Key_Down;
}

TextEntryGuard::TextEntryGuard(QObject* parent) : QObject(parent) {}

bool TextEntryGuard::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::ShortcutOverride && watched->isWidgetType() &&
        is_text_entry(static_cast<QWidget*>(watched)) &&
        text_entry_owns_key(*static_cast<QKeyEvent*>(event))) {
        event->accept();
    }
    return QObject::eventFilter(watched, event);
}

}  // namespace ps::ui
