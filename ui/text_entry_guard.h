// Keeps the keys a text field needs (Enter, Escape, plain letters and digits) away from the
// window's shortcuts while that field has the focus.
#pragma once

#include <QObject>

class QKeyEvent;
class QWidget;

namespace ps::ui {

// True for widgets that take typed text: line edits (also inside spin boxes, editable combo
// boxes and item-view editors), text edits and spin boxes.
bool is_text_entry(const QWidget* widget);

// True when `key` pressed in a text entry belongs to it rather than to a window shortcut: Enter,
// Escape and any key without Ctrl, Alt or Meta (typing "n" must not jump to the next image).
bool text_entry_owns_key(const QKeyEvent& key);

// An application-wide event filter. Qt asks the focused widget first with a ShortcutOverride
// event; QLineEdit claims printable keys but not Enter or Escape, so a window shortcut on Return
// (Accept Object) fired inside the rename editor. Accepting the override sends the key to the
// widget instead, where the item delegate commits or cancels and dialogs see Escape.
class TextEntryGuard : public QObject {
    Q_OBJECT
  public:
    explicit TextEntryGuard(QObject* parent = nullptr);
    bool eventFilter(QObject* watched, QEvent* event) override;
};

}  // namespace ps::ui
