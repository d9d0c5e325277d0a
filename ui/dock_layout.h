// Dock helpers for a window that must fit small screens.
#pragma once

class QDockWidget;

namespace ps::ui {

// Puts the dock's widget inside a frameless, resizable scroll area, so the dock's minimum
// height is small and a tall panel scrolls instead of forcing the window taller than the
// screen (the window could not be made smaller than ~987 px). Idempotent.
void make_scrollable(QDockWidget* dock);

}  // namespace ps::ui
