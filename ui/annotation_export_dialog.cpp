// Export / import dialog: the fields become ExportOptions or an import call on the engine's pool.
#include "annotation_export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

#include "annotating/annotation_session.h"
#include "annotation/formats.h"
#include "engine/engine.h"
#include "engine/future_watch.h"
#include "path_field.h"

namespace ps::ui {
namespace {

using annotation::ExportFormat;

// Combo entries: text and the format name export_format_from_string() reads.
const char* const kExportFormats[][2] = {{"COCO instances (JSON)", "coco"},
                                         {"YOLO segmentation (txt)", "yolo"},
                                         {"LabelMe (JSON per image)", "labelme"},
                                         {"PNG masks", "png"}};

QString listed(const std::vector<std::string>& items, int at_most = 8) {
    QStringList lines;
    for (size_t i = 0; i < items.size() && int(i) < at_most; ++i)
        lines << QString::fromStdString(items[i]);
    if (int(items.size()) > at_most)
        lines << QObject::tr("… and %1 more").arg(items.size() - size_t(at_most));
    return lines.join("\n");
}

}  // namespace

AnnotationExportDialog::AnnotationExportDialog(engine::Engine& engine,
                                               annotating::AnnotationSession& session,
                                               QWidget* parent)
    : QDialog(parent), engine_(engine), session_(session) {
    setObjectName("annotation_export_dialog");
    setWindowTitle(tr("Export / Import Annotations"));
    auto* layout = new QVBoxLayout(this);
    tabs_ = new QTabWidget(this);
    tabs_->addTab(build_export_tab(), tr("Export"));
    tabs_->addTab(build_import_tab(), tr("Import"));
    layout->addWidget(tabs_);
    status_ = new QLabel(this);
    status_->setObjectName("annotation_io_status");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(status_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

QWidget* AnnotationExportDialog::build_export_tab() {
    auto* tab = new QWidget(this);
    auto* form = new QFormLayout(tab);
    export_format_ = new QComboBox(tab);
    export_format_->setObjectName("export_format");
    for (const auto& format : kExportFormats) export_format_->addItem(tr(format[0]), format[1]);
    form->addRow(tr("Format"), export_format_);
    // Beside the project, not in it: exported PNG masks inside would become project images.
    export_dir_ = new QLineEdit(QDir(session_.folder()).absolutePath() + "_export", tab);
    export_dir_->setObjectName("export_dir");
    form->addRow(tr("Folder"), path_field(export_dir_, tab, [this] {
                     return QFileDialog::getExistingDirectory(this, tr("Export To"),
                                                              export_dir_->text());
                 }));
    coco_polygons_ = new QCheckBox(tr("COCO: polygons instead of RLE"), tab);
    coco_polygons_->setObjectName("export_coco_polygons");
    form->addRow(coco_polygons_);
    tolerance_ = new QDoubleSpinBox(tab);
    tolerance_->setObjectName("export_tolerance");
    tolerance_->setRange(0, 10);
    tolerance_->setSingleStep(0.25);
    tolerance_->setValue(annotation::PolygonOptions{}.tolerance_px);
    tolerance_->setSuffix(tr(" px"));
    tolerance_->setToolTip(
        tr("Polygon simplification (Douglas-Peucker); 0 keeps every contour vertex"));
    form->addRow(tr("Polygon tolerance"), tolerance_);
    include_hidden_ = new QCheckBox(tr("Include hidden objects"), tab);
    include_hidden_->setObjectName("export_hidden");
    form->addRow(include_hidden_);
    only_verified_ = new QCheckBox(tr("Only verified objects"), tab);
    only_verified_->setObjectName("export_only_verified");
    form->addRow(only_verified_);
    export_button_ = new QPushButton(tr("Export"), tab);
    export_button_->setObjectName("export_button");
    form->addRow(export_button_);
    const auto update = [this] {
        const QString format = export_format_->currentData().toString();
        coco_polygons_->setEnabled(format == "coco");
        tolerance_->setEnabled(format == "yolo" || format == "labelme" ||
                               (format == "coco" && coco_polygons_->isChecked()));
    };
    connect(export_format_, &QComboBox::currentIndexChanged, this, update);
    connect(coco_polygons_, &QCheckBox::toggled, this, update);
    update();
    connect(export_button_, &QPushButton::clicked, this, &AnnotationExportDialog::start_export);
    return tab;
}

QWidget* AnnotationExportDialog::build_import_tab() {
    auto* tab = new QWidget(this);
    auto* form = new QFormLayout(tab);
    import_format_ = new QComboBox(tab);
    import_format_->setObjectName("import_format");
    import_format_->addItem(tr("COCO instances JSON"), "coco");
    import_format_->addItem(tr("LabelMe JSON (file or folder)"), "labelme");
    form->addRow(tr("Format"), import_format_);
    import_path_ = new QLineEdit(tab);
    import_path_->setObjectName("import_path");
    form->addRow(tr("From"), path_field(import_path_, tab, [this] {
                     if (import_format_->currentData().toString() == "labelme") {
                         return QFileDialog::getExistingDirectory(this, tr("LabelMe Folder"));
                     }
                     return QFileDialog::getOpenFileName(this, tr("COCO File"), QString(),
                                                         tr("JSON (*.json);;All files (*)"));
                 }));
    auto* note = new QLabel(tr("Objects are added to the project's images with the same file "
                               "names, unverified; new labels join the label set."),
                            tab);
    note->setWordWrap(true);
    form->addRow(note);
    import_button_ = new QPushButton(tr("Import"), tab);
    import_button_->setObjectName("import_button");
    form->addRow(import_button_);
    connect(import_button_, &QPushButton::clicked, this, &AnnotationExportDialog::start_import);
    return tab;
}

void AnnotationExportDialog::set_running(bool running, const QString& status) {
    running_ = running;
    export_button_->setEnabled(!running);
    import_button_->setEnabled(!running);
    status_->setText(status);
}

QString AnnotationExportDialog::status_text() const {
    return status_->text();
}

void AnnotationExportDialog::start_export() {
    if (running_) return;
    auto project = session_.project();
    const QString out_dir = export_dir_->text().trimmed();
    const auto format = annotation::export_format_from_string(
        export_format_->currentData().toString().toStdString());
    if (!project || out_dir.isEmpty() || !format) {
        set_running(false, tr("Choose an output folder."));
        emit export_finished(false, status_text());
        return;
    }
    annotation::ExportOptions options;
    options.coco_polygons = coco_polygons_->isChecked();
    options.polygon.tolerance_px = tolerance_->value();
    options.include_hidden = include_hidden_->isChecked();
    options.only_verified = only_verified_->isChecked();
    session_.flush();  // the files on disk are what gets exported
    project = session_.project();
    set_running(true, tr("Exporting to %1…").arg(out_dir));
    const std::string out = out_dir.toStdString();
    auto future = engine_.run_task<annotation::ExportSummary>(
        engine::Priority::Batch, [project, format, out, options]() {
            return annotation::export_project(*project, *format, out, options);
        });
    engine::when_finished(this, future, [this, out_dir](Result<annotation::ExportSummary> summary) {
        if (!summary) {
            set_running(false, QString::fromStdString(summary.message()));
            emit export_finished(false, status_text());
            return;
        }
        QString text = tr("Exported %1 objects of %2 images to %3.")
                           .arg(summary->objects)
                           .arg(summary->images)
                           .arg(out_dir);
        if (!summary->skipped.empty())
            text += "\n" + tr("Skipped:") + "\n" + listed(summary->skipped);
        if (!summary->warnings.empty())
            text += "\n" + tr("Warnings:") + "\n" + listed(summary->warnings);
        set_running(false, text);
        emit export_finished(true, text);
    });
}

void AnnotationExportDialog::start_import() {
    if (running_) return;
    const QString input = import_path_->text().trimmed();
    const bool coco = import_format_->currentData().toString() == "coco";
    if (!session_.project() || input.isEmpty() || !QFileInfo::exists(input)) {
        set_running(false, tr("Choose an existing %1 to import.")
                               .arg(coco ? tr("COCO file") : tr("LabelMe file or folder")));
        emit import_finished(false, status_text());
        return;
    }
    session_.flush();
    // Import adds labels to its own copy; the session re-reads the project afterwards.
    auto project = std::make_shared<annotation::Project>(*session_.project());
    set_running(true, tr("Importing %1…").arg(QFileInfo(input).fileName()));
    const std::string path = input.toStdString();
    auto future = engine_.run_task<annotation::ImportSummary>(
        engine::Priority::Batch, [project, path, coco]() {
            return coco ? annotation::import_coco(*project, path)
                        : annotation::import_labelme(*project, path);
        });
    engine::when_finished(this, future, [this](Result<annotation::ImportSummary> summary) {
        if (!summary) {
            set_running(false, QString::fromStdString(summary.message()));
            emit import_finished(false, status_text());
            return;
        }
        QString text =
            tr("Imported %1 objects into %2 images.").arg(summary->objects).arg(summary->images);
        if (!summary->labels_added.empty()) {
            QStringList added;
            for (const std::string& label : summary->labels_added)
                added << QString::fromStdString(label);
            text += " " + tr("New labels: %1.").arg(added.join(", "));
        }
        if (!summary->skipped.empty())
            text += "\n" + tr("Skipped:") + "\n" + listed(summary->skipped);
        set_running(false, text);
        emit import_finished(true, text);
    });
}

}  // namespace ps::ui
