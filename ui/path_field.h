// A path field with its "Browse…" button, for the dialogs that ask for files and folders.
#pragma once

#include <QString>

#include <functional>

class QLineEdit;
class QWidget;

namespace ps::ui {

// A row holding `edit` and a Browse button; the button puts what `choose` returns (a file or
// folder dialog's answer) into `edit`, unless it is empty (the user cancelled).
QWidget* path_field(QLineEdit* edit, QWidget* parent, std::function<QString()> choose);

}  // namespace ps::ui
