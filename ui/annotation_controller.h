// Annotation mode of the main window: the project, its docks and dialogs, and the keyboard-first
// actions of the click-to-mask loop (labels, brush and eraser, verify, mark done, next image).
// The window calls its hooks around opening an image and accepting an object; everything else
// is wired here, so the window stays a thin shell.
#pragma once

#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>

#include <functional>
#include <string>

#include "editing/edit_document.h"

class QAction;
class QDockWidget;
class QMainWindow;
class QMenu;
class QUndoStack;

namespace ps::engine {
class Engine;
struct ImageInfo;
}  // namespace ps::engine

namespace ps::annotating {
class AnnotationSession;
}

namespace ps::ui {

class AnnotationExportDialog;
class ImageCanvas;
class LabelDock;
class PointFileDialog;
class ProjectDock;

// What annotation mode needs from the window that hosts it, and nothing more: the window fills
// it in (tests may fill it with a bare QMainWindow), so the controller never sees MainWindow.
struct AnnotationContext {
    QMainWindow* window = nullptr;    // parent of the docks, dialogs and the Annotate menu
    QDockWidget* tab_with = nullptr;  // the left dock the project dock joins as a tab
    editing::EditDocument* document = nullptr;
    QUndoStack* undo_stack = nullptr;
    ImageCanvas* canvas = nullptr;
    std::function<int()> selected_object_id;  // -1 when none
    std::function<int()> current_image_id;    // the engine's id of the image shown; 0 when none
    std::function<QString()> current_path;
    std::function<void(const QString&)> show_status;  // progress: the status bar
    std::function<void(const QString&)> show_error;   // needs attention: the banner
    // The list PgDn / PgUp walk, a jump within it, and opening an image again.
    std::function<void(const QStringList&)> set_folder_files;
    std::function<void(int)> go_to_folder_image;
    std::function<void(const QString&)> open_image;
    std::function<std::string()> model_id;  // the loaded SAM model; empty for GrabCut
    std::function<QString()> model_name;
};

class AnnotationController : public QObject {
    Q_OBJECT
  public:
    AnnotationController(AnnotationContext context, engine::Engine& engine,
                         QObject* parent = nullptr);
    ~AnnotationController() override;

    // Menus: File gets the project entries, and the Annotate menu is returned for the bar.
    void add_file_actions(QMenu* file);
    QMenu* annotate_menu() const { return annotate_menu_; }

    annotating::AnnotationSession& session() { return *session_; }
    LabelDock* label_dock() const { return label_dock_; }
    ProjectDock* project_dock() const { return project_dock_; }

    // Opens the project folder (created with the default labels if new), then its first image
    // that is not done. project_opened or project_failed (the session's) follows.
    void open_project(const QString& folder);

    // Hooks of MainWindow::open_image and accept / rename.
    void before_open(const QString& path);
    void image_closing();
    void image_opened(const QString& path, const engine::ImageInfo& image);
    // A new object takes the current label's name and colour (project mode only).
    void style_new_object(editing::SegmentObject& object) const;
    // After a rename in the object list: the name is the label; a new name joins the label set.
    void restyle(editing::SegmentObject& object);

    void next_unannotated();
    void mark_done_and_next();
    void apply_stroke(const QVector<QPointF>& points, double radius_px, bool erase);
    void relabel_selected(const QString& label);
    void verify();
    void toggle_hidden();
    void delete_selected();
    void set_brush_radius(double radius_px);

    // Window-modal, non-blocking (QDialog::open); deleted when closed.
    AnnotationExportDialog* open_export_dialog();
    PointFileDialog* open_point_file_dialog();

  signals:
    void project_opened(const QString& folder);

  private:
    void build_actions();
    void on_project_opened(const QString& folder);
    void show_problem(const QString& title, const QString& message);
    void go_to(const std::string& image_file);
    void reload_after_external_write();
    void recolour_objects();
    int brush_target() const;  // the selected object, else the newest; -1 when none
    void set_project_actions_enabled(bool enabled);
    editing::EditDocument& edit_document() const { return *context_.document; }
    QUndoStack& undo_stack() const { return *context_.undo_stack; }

    AnnotationContext context_;
    engine::Engine& engine_;
    annotating::AnnotationSession* session_ = nullptr;
    LabelDock* label_dock_ = nullptr;
    ProjectDock* project_dock_ = nullptr;
    QMenu* annotate_menu_ = nullptr;
    QAction* open_project_ = nullptr;
    QAction* export_ = nullptr;
    QAction* point_file_ = nullptr;
    QAction* next_ = nullptr;
    QAction* done_ = nullptr;
    QAction* points_tool_ = nullptr;
    QAction* brush_tool_ = nullptr;
    QAction* eraser_tool_ = nullptr;
    QAction* smaller_ = nullptr;
    QAction* larger_ = nullptr;
    QAction* verify_ = nullptr;
    QAction* hide_ = nullptr;
    QAction* delete_ = nullptr;
};

}  // namespace ps::ui
