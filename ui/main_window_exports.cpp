// Main window, its exports: the mask, every object's mask, the cut-out and the overlay at full
// resolution (atomic writes), and the File menu's dialogs that lead to them.
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>

#include "background_panel.h"
#include "effects_panel.h"
#include "engine/engine.h"
#include "image/mask_export.h"
#include "io/image_writer.h"
#include "main_window.h"
#include "video_mode_controller.h"

namespace ps::ui {

QString MainWindow::export_current_mask(const QString& path) {
    const cv::Mat mask = subject_matte();
    const cv::Mat full = engine_.full_image(image_id_);
    if (mask.empty() || full.empty()) return tr("No mask to export: click on the image first");
    auto written = io::write_png(path.toStdString(), image::upscale_mask(mask, full.size()));
    // Not "saved": one mask may be one object of several (only exporting them all is).
    return written ? QString() : QString::fromStdString(written.message());
}

QString MainWindow::export_object_masks(const QString& folder) {
    const cv::Mat full = engine_.full_image(image_id_);
    if (document_.objects().empty() || full.empty()) return tr("No objects to export");
    const QString stem = QFileInfo(current_path_).completeBaseName();
    for (const editing::SegmentObject& object : document_.objects()) {
        const QString path = QString("%1/%2_object%3.png").arg(folder, stem).arg(object.id);
        auto written =
            io::write_png(path.toStdString(), image::upscale_mask(object.mask, full.size()));
        if (!written) return QString::fromStdString(written.message());
    }
    undo_stack_.setClean();  // every object is on disk now
    return {};
}

QString MainWindow::export_cutout(const QString& path) {
    const cv::Mat mask = subject_matte();
    const cv::Mat full = engine_.full_image(image_id_);
    if (mask.empty() || full.empty())
        return tr("No mask to cut out with: click on the image first");
    auto written = io::write_rgba_png(
        path.toStdString(), image::cutout_rgba(full, image::upscale_mask(mask, full.size())));
    return written ? QString() : QString::fromStdString(written.message());
}

QString MainWindow::export_overlay(const QString& path) {
    const cv::Mat full = engine_.full_image(image_id_);
    if (full.empty()) return tr("No image");
    std::vector<cv::Mat> masks;
    std::vector<cv::Scalar> colours;
    for (const editing::SegmentObject& object : document_.objects()) {
        if (!object.visible) continue;
        masks.push_back(image::upscale_mask(object.mask, full.size()));
        colours.emplace_back(object.colour.red(), object.colour.green(), object.colour.blue());
    }
    if (const cv::Mat mask = document_.current_mask(); !mask.empty()) {
        masks.push_back(image::upscale_mask(mask, full.size()));
        colours.emplace_back(30, 144, 255);
    }
    auto written =
        io::write_png(path.toStdString(), image::overlay(full, masks, colours, 0.5, true));
    return written ? QString() : QString::fromStdString(written.message());
}

void MainWindow::choose_and_export(int kind) {
    // A video replaced the image: its exports are video mode's own, one dialog for every format.
    if (video_->active()) {
        return show_warning(
            tr("A video is open: File ▸ Export Video Annotations… writes its masks, "
               "cut-outs and JSON"));
    }
    if (!image_id_) return show_warning(tr("Open an image first (Ctrl+O)"));
    // Refuse before the file dialog, not after the user has chosen a name.
    if ((kind == 0 || kind == 2) && subject_matte().empty()) {
        return show_warning(
            tr("Nothing to export yet: click on the image, or select an accepted object"));
    }
    if (kind == 1 && document_.objects().empty()) {
        return show_warning(
            tr("No accepted objects to export: press Enter to accept a mask first"));
    }
    const QString stem = QFileInfo(current_path_).completeBaseName();
    QString error;
    if (kind == 1) {
        const QString folder =
            QFileDialog::getExistingDirectory(this, tr("Export Object Masks To"));
        if (folder.isEmpty()) return;
        const bool exists = QFileInfo::exists(
            QString("%1/%2_object%3.png")
                .arg(folder, stem)
                .arg(document_.objects().empty() ? 0 : document_.objects().front().id));
        if (exists && QMessageBox::question(
                          this, tr("Overwrite?"),
                          tr("Object masks already exist in %1. Overwrite them?").arg(folder)) !=
                          QMessageBox::Yes) {
            return;
        }
        error = export_object_masks(folder);
    } else if (kind >= 4) {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export"), stem + (kind == 4 ? "_nobg.png" : "_effect.png"),
            tr("PNG (*.png)"));
        if (path.isEmpty()) return;
        // Full resolution on the engine's pool; the panel reports when the file is written.
        if (kind == 4) {
            background_panel_->export_result(path);
        } else {
            effects_panel_->export_result(path);
        }
        return;
    } else {
        const QString suggested = stem + (kind == 0   ? "_mask.png"
                                          : kind == 2 ? "_cutout.png"
                                                      : "_overlay.png");
        // The save dialog asks before overwriting an existing file.
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export"), suggested, tr("PNG (*.png)"));
        if (path.isEmpty()) return;
        error = kind == 0   ? export_current_mask(path)
                : kind == 2 ? export_cutout(path)
                            : export_overlay(path);
    }
    if (!error.isEmpty()) return show_error(tr("Export failed: %1").arg(error));
    set_status(tr("Exported"));
}

}  // namespace ps::ui
