// The app's compiled-in Qt resources (the official weights manifest).
#pragma once

namespace ps::ui {

// Registers the resources built into the photosynth_ui static library. A .qrc compiled into a
// static library is not registered by itself (the linker drops its unreferenced initialiser),
// so ":/models/manifest.json" could not be opened; idempotent.
void init_resources();

}  // namespace ps::ui
