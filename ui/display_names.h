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

// A model for people, from the engine's family and arch: "U²-NetP", "ISNet", "BiRefNet_lite".
// An unknown family reads as its identifier.
QString model_display_name(const QString& family, const QString& arch);

// A promptable segmenter with its published size, for the status bar: "SAM 2.1 Hiera-T",
// "SAM ViT-B", "MobileSAM". An arch without a published name (a custom layout) adds nothing:
// "SAM 2.1".
QString segmenter_display_name(const QString& family, const QString& arch);

// An entry of the Remove Background panel's model list: "ISNet · isnet-general-use.pth · 176 MB ·
// 1024²" ("2560×1440" where not square, "any size" for BiRefNet_dynamic). A size of 0 bytes or
// an input width of 0 is left out.
QString matting_model_label(const QString& family, const QString& arch, const QString& file,
                            qint64 bytes, int input_width, int input_height = 0,
                            bool any_size = false);

}  // namespace ps::ui
