// Export of the project to COCO / YOLO / LabelMe / PNG masks, and import of COCO or LabelMe
// files into it (core/annotation/formats.h). Both run on the engine's pool; the dialog is
// window-modal, so no edit lands in the project while an import writes to it.
#pragma once

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;

namespace ps::engine {
class Engine;
}

namespace ps::annotating {
class AnnotationSession;
}

namespace ps::ui {

class AnnotationExportDialog : public QDialog {
    Q_OBJECT
  public:
    AnnotationExportDialog(engine::Engine& engine, annotating::AnnotationSession& session,
                           QWidget* parent = nullptr);

    // What the Export / Import buttons do, with the values in the dialog's fields.
    void start_export();
    void start_import();
    bool running() const { return running_; }
    QString status_text() const;

  signals:
    void export_finished(bool ok, const QString& message);
    void import_finished(bool ok, const QString& message);

  private:
    QWidget* build_export_tab();
    QWidget* build_import_tab();
    void set_running(bool running, const QString& status);

    engine::Engine& engine_;
    annotating::AnnotationSession& session_;
    QTabWidget* tabs_ = nullptr;
    QComboBox* export_format_ = nullptr;
    QLineEdit* export_dir_ = nullptr;
    QCheckBox* coco_polygons_ = nullptr;
    QDoubleSpinBox* tolerance_ = nullptr;
    QCheckBox* include_hidden_ = nullptr;
    QCheckBox* only_verified_ = nullptr;
    QPushButton* export_button_ = nullptr;
    QComboBox* import_format_ = nullptr;
    QLineEdit* import_path_ = nullptr;
    QPushButton* import_button_ = nullptr;
    QLabel* status_ = nullptr;
    bool running_ = false;
};

}  // namespace ps::ui
