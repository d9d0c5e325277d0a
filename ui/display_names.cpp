// Display names: one table for every identifier a panel shows.
#include "display_names.h"

#include <QObject>
#include <QStringList>

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
        {"track_frame", "Tracked video frame"},
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

QString model_display_name(const QString& family, const QString& arch) {
    if (arch == "u2netp") return QStringLiteral("U²-NetP");
    if (family == "u2net") return QStringLiteral("U²-Net");
    if (family == "isnet") return QStringLiteral("ISNet");
    // BiRefNet's variants of one backbone share their shapes: the file name says which.
    if (family == "birefnet")
        return arch == "birefnet_lite" ? QStringLiteral("BiRefNet lite")
                                       : QStringLiteral("BiRefNet");
    if (family == "inspyrenet") return QStringLiteral("InSPyReNet");
    if (family == "sam") return QStringLiteral("SAM");
    if (family == "mobile_sam") return QStringLiteral("MobileSAM");
    if (family == "sam2") return QStringLiteral("SAM 2.1");
    return family;
}

QString segmenter_display_name(const QString& family, const QString& arch) {
    // The names Meta's READMEs give the checkpoints, as `photosynth-cli info` prints them.
    static const std::map<QString, const char*> sizes = {
        {"vit_b", "ViT-B"},
        {"vit_l", "ViT-L"},
        {"vit_h", "ViT-H"},
        {"sam2.1_hiera_t", "Hiera-T"},
        {"sam2.1_hiera_s", "Hiera-S"},
        {"sam2.1_hiera_b+", "Hiera-B+"},
        {"sam2.1_hiera_l", "Hiera-L"},
    };
    const QString name = model_display_name(family, arch);
    const auto size = sizes.find(arch);
    return size == sizes.end() ? name : name + ' ' + QString::fromUtf8(size->second);
}

QString matting_model_label(const QString& family, const QString& arch, const QString& file,
                            qint64 bytes, int input_width, int input_height, bool any_size) {
    QStringList parts{model_display_name(family, arch), file};
    if (bytes > 0) {
        parts << (bytes >= 1024 * 1024 ? QString("%1 MB").arg(double(bytes) / (1024 * 1024), 0, 'f',
                                                              bytes >= 100LL * 1024 * 1024 ? 0 : 1)
                                       : QString("%1 KB").arg((bytes + 1023) / 1024));
    }
    // Not arg("%1²"): QString::arg reads the superscript two as a digit of the placeholder.
    if (any_size) {
        parts << QObject::tr("any size");
    } else if (input_width > 0 && input_height > 0 && input_height != input_width) {
        parts << QString::number(input_width) + QStringLiteral("×") + QString::number(input_height);
    } else if (input_width > 0) {
        parts << QString::number(input_width) + QStringLiteral("²");
    }
    return parts.join(QStringLiteral(" · "));
}

}  // namespace ps::ui
