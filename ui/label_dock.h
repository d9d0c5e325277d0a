// The project's label set: name, colour and hotkey per label; add, edit, remove; the current
// label (given to the next accepted object). Each label is also an action with its hotkey in the
// Labels menu, so label choice works from the keyboard anywhere in the window.
#pragma once

#include <QDockWidget>

#include "annotation/annotation.h"

class QActionGroup;
class QListWidget;
class QMenu;
class QPushButton;

namespace ps::ui {

class LabelDock : public QDockWidget {
    Q_OBJECT
  public:
    // `shortcut_scope`: the window whose other shortcuts a label's hotkey must not collide with.
    explicit LabelDock(QWidget* shortcut_scope, QWidget* parent = nullptr);

    void set_labels(const annotation::LabelSet& labels);  // shows them, rebuilds the actions
    const annotation::LabelSet& labels() const { return labels_; }
    QString current_label() const;
    void set_current_label(const QString& name);
    QMenu* menu() const { return menu_; }
    QListWidget* list() const { return list_; }

    // The checks behind the Add / Edit / Remove buttons; an empty string when the change was
    // made (labels_edited follows), else why not.
    QString add_label(const annotation::Label& label);
    QString edit_label(int index, const annotation::Label& label);
    QString remove_label(int index);

  signals:
    void labels_edited(const annotation::LabelSet& labels);
    void label_triggered(const QString& name);  // by its hotkey or its menu entry
    void current_label_changed(const QString& name);

  private:
    QString check(const annotation::Label& label, int index) const;
    void edit_with_dialog(int index);  // -1: a new label
    void rebuild();

    QWidget* shortcut_scope_ = nullptr;
    annotation::LabelSet labels_;
    QListWidget* list_ = nullptr;
    QPushButton* edit_ = nullptr;
    QPushButton* remove_ = nullptr;
    QMenu* menu_ = nullptr;
    QActionGroup* actions_ = nullptr;
    bool updating_ = false;
};

}  // namespace ps::ui
