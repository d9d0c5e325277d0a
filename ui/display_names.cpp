// Display names: one table for every identifier a panel shows.
#include "display_names.h"

#include <QObject>

#include <map>

namespace ps::ui {
namespace {

const std::map<std::string, const char*>& names() {
    static const std::map<std::string, const char*> table = {
        // Effects.
        {"bw", "Black & white"},
        {"pop_art", "Pop art"},
        {"pop_art_grid", "Pop art 2×2"},
        {"dither", "Dither"},
        {"halftone", "Halftone"},
        {"duotone", "Duotone"},
        // Parameters.
        {"clahe_clip", "Local contrast (CLAHE)"},
        {"clahe_tiles", "Contrast tiles"},
        {"contrast", "Contrast"},
        {"brightness", "Brightness"},
        {"gamma", "Gamma"},
        {"palette", "Palette"},
        {"smooth", "Smoothing (px)"},
        {"levels", "Colours per quadrant"},
        {"method", "Method"},
        {"colors", "Colours"},
        {"serpentine", "Serpentine scan"},
        {"cell", "Dot spacing (px)"},
        {"angle", "Screen angle (°)"},
        {"antialias", "Smooth dots"},
        {"dark", "Shadows colour"},
        {"light", "Highlights colour"},
        // Engine and benchmark stages.
        {"decode", "Image decode"},
        {"preprocess", "Preprocess"},
        {"encode", "Encode"},
        {"mask_decode", "Mask decoder"},
        {"postprocess", "Post-process"},
        {"effect", "Effect"},
        {"export", "Export"},
        {"matte", "Background matte"},
        {"click_to_mask", "Click to mask"},
        {"cached_click", "Further click"},
        // Choices.
        {"floyd_steinberg", "Floyd–Steinberg"},
        {"atkinson", "Atkinson"},
        {"bayer4", "Ordered (Bayer 4×4)"},
        {"bayer8", "Ordered (Bayer 8×8)"},
        {"uniform", "Uniform colours"},
        {"median_cut", "Image colours (median cut)"},
    };
    return table;
}

}  // namespace

QString display_name(const std::string& identifier) {
    const auto it = names().find(identifier);
    if (it != names().end()) return QString::fromUtf8(it->second);
    QString words = QString::fromStdString(identifier).replace('_', ' ');
    if (!words.isEmpty()) words[0] = words[0].toUpper();
    return words;
}

QString target_display_name(const QString& target) {
    if (target == "all") return QObject::tr("Whole image");
    if (target == "object") return QObject::tr("Only the object");
    if (target == "background") return QObject::tr("Only the background");
    return target;
}

}  // namespace ps::ui
