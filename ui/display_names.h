// Human words for the identifiers the engine and the command line use (effect, parameter and
// choice names): the panels show these, and keep the identifiers as item data.
#pragma once

#include <QString>

#include <string>

namespace ps::ui {

// "floyd_steinberg" -> "Floyd–Steinberg", "clahe_clip" -> "Local contrast (CLAHE)". An identifier
// without an entry reads as words: "pop_art_grid" -> "Pop art grid".
QString display_name(const std::string& identifier);

// For effect-target identifiers ("all", "object", "background").
QString target_display_name(const QString& target);

}  // namespace ps::ui
