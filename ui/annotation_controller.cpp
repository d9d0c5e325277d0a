// Annotation controller: actions -> undoable document commands; the session saves what changes.
#include "annotation_controller.h"

#include <QAction>
#include <QActionGroup>
#include <QFileDialog>
#include <QMainWindow>
#include <QMenu>
#include <QMessageBox>
#include <QUndoStack>

#include <opencv2/core.hpp>

#include "annotating/annotation_session.h"
#include "annotation_export_dialog.h"
#include "editing/edit_commands.h"
#include "editing/mask_stroke.h"
#include "engine/engine.h"
#include "image_canvas.h"
#include "label_dock.h"
#include "point_file_dialog.h"
#include "project_dock.h"

namespace ps::ui {
namespace {

QAction* make_action(QObject* parent, const QString& text, const QKeySequence& key,
                     const QString& name, const QString& tip = {}) {
    auto* action = new QAction(text, parent);
    action->setShortcut(key);
    action->setObjectName(name);
    if (!tip.isEmpty()) action->setStatusTip(tip);
    return action;
}

}  // namespace

AnnotationController::AnnotationController(AnnotationContext context, engine::Engine& engine,
                                           QObject* parent)
    : QObject(parent), context_(std::move(context)), engine_(engine) {
    QMainWindow* window = context_.window;
    session_ = new annotating::AnnotationSession(engine_, *context_.document, this);
    build_actions();
    label_dock_ = new LabelDock(window, window);
    project_dock_ = new ProjectDock(next_, window);
    // Left, where the image panels are: a project puts its images in front of them (they serve
    // editing, not annotation) and its labels below.
    window->addDockWidget(Qt::LeftDockWidgetArea, project_dock_);
    if (context_.tab_with) window->tabifyDockWidget(context_.tab_with, project_dock_);
    window->addDockWidget(Qt::LeftDockWidgetArea, label_dock_);
    project_dock_->hide();  // shown with a project
    label_dock_->hide();
    annotate_menu_->addSeparator();
    annotate_menu_->addMenu(label_dock_->menu());

    connect(session_, &annotating::AnnotationSession::project_opened, this,
            &AnnotationController::on_project_opened);
    connect(
        session_, &annotating::AnnotationSession::project_failed, this,
        [this](const QString& message) { show_problem(tr("Cannot open the project"), message); });
    connect(session_, &annotating::AnnotationSession::statuses_changed, this,
            [this] { project_dock_->show_statuses(session_->statuses(), session_->problems()); });
    connect(session_, &annotating::AnnotationSession::labels_changed, this, [this] {
        label_dock_->set_labels(session_->labels());
        recolour_objects();
    });
    connect(session_, &annotating::AnnotationSession::problem_found, this,
            [this](const QString&, const QString& message) {
                project_dock_->show_statuses(session_->statuses(), session_->problems());
                show_problem(tr("Annotation file set aside"), message);
            });
    connect(session_, &annotating::AnnotationSession::save_failed, this,
            [this](const QString& message) { show_problem(tr("Annotation not saved"), message); });
    connect(label_dock_, &LabelDock::labels_edited, this,
            [this](const annotation::LabelSet& labels) {
                if (Status saved = session_->set_labels(labels); !saved) {
                    show_problem(tr("Labels not saved"), QString::fromStdString(saved.message()));
                }
            });
    connect(label_dock_, &LabelDock::label_triggered, this,
            &AnnotationController::relabel_selected);
    connect(label_dock_, &LabelDock::current_label_changed, this,
            [this](const QString& label) { context_.show_status(tr("Label: %1").arg(label)); });
    connect(project_dock_, &ProjectDock::image_requested, this,
            [this](const QString& file) { go_to(file.toStdString()); });
    connect(context_.canvas, &ImageCanvas::stroke_finished, this,
            &AnnotationController::apply_stroke);
    set_project_actions_enabled(false);
}

AnnotationController::~AnnotationController() = default;

void AnnotationController::build_actions() {
    open_project_ = make_action(this, tr("Open &Project…"),
                                QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O), "open_project",
                                tr("Open or create an annotation project in a folder of images"));
    connect(open_project_, &QAction::triggered, this, [this] {
        const QString folder =
            QFileDialog::getExistingDirectory(context_.window, tr("Open Project Folder"));
        if (!folder.isEmpty()) open_project(folder);
    });
    export_ = make_action(this, tr("Export / Import &Annotations…"),
                          QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), "export_annotations");
    connect(export_, &QAction::triggered, this, &AnnotationController::open_export_dialog);
    point_file_ =
        make_action(this, tr("Apply Point &File…"), QKeySequence(), "apply_point_file",
                    tr("Segment the objects a point file lists, with the loaded SAM model"));
    connect(point_file_, &QAction::triggered, this, &AnnotationController::open_point_file_dialog);

    annotate_menu_ = new QMenu(tr("&Annotate"), context_.window);
    next_ = make_action(this, tr("&Next Unannotated Image"), QKeySequence(Qt::Key_N),
                        "next_unannotated");
    connect(next_, &QAction::triggered, this, &AnnotationController::next_unannotated);
    done_ = make_action(this, tr("Mark &Done && Next"), QKeySequence(Qt::CTRL | Qt::Key_Return),
                        "mark_done",
                        tr("The image is fully annotated; go to the next one that is not"));
    connect(done_, &QAction::triggered, this, &AnnotationController::mark_done_and_next);
    annotate_menu_->addAction(next_);
    annotate_menu_->addAction(done_);
    annotate_menu_->addSeparator();

    auto* tools = new QActionGroup(this);
    points_tool_ = make_action(tools, tr("&Point Tool"), QKeySequence(Qt::Key_P), "tool_points");
    brush_tool_ =
        make_action(tools, tr("&Brush"), QKeySequence(Qt::Key_B), "tool_brush",
                    tr("Paint into the selected object's mask (none selected: the newest)"));
    eraser_tool_ = make_action(tools, tr("&Eraser"), QKeySequence(Qt::Key_E), "tool_eraser",
                               tr("Cut from the selected object's mask"));
    const std::pair<QAction*, ImageCanvas::Tool> tool_of[] = {
        {points_tool_, ImageCanvas::Tool::Points},
        {brush_tool_, ImageCanvas::Tool::Brush},
        {eraser_tool_, ImageCanvas::Tool::Eraser}};
    for (const auto& [action, tool] : tool_of) {
        action->setCheckable(true);
        annotate_menu_->addAction(action);
        connect(action, &QAction::triggered, this,
                [this, tool = tool] { context_.canvas->set_tool(tool); });
    }
    points_tool_->setChecked(true);
    smaller_ =
        make_action(this, tr("Smaller Brush"), QKeySequence(Qt::Key_BracketLeft), "brush_smaller");
    larger_ =
        make_action(this, tr("Larger Brush"), QKeySequence(Qt::Key_BracketRight), "brush_larger");
    // Steps of about 20 %: a few presses go from a fine edge to a broad fill.
    connect(smaller_, &QAction::triggered, this,
            [this] { set_brush_radius(context_.canvas->brush_radius() / 1.25); });
    connect(larger_, &QAction::triggered, this,
            [this] { set_brush_radius(context_.canvas->brush_radius() * 1.25); });
    annotate_menu_->addAction(smaller_);
    annotate_menu_->addAction(larger_);
    annotate_menu_->addSeparator();
    verify_ = make_action(
        this, tr("&Verify Object"), QKeySequence(Qt::Key_V), "verify_object",
        tr("Mark the selected object (none selected: all of the image's) as checked by a person"));
    connect(verify_, &QAction::triggered, this, &AnnotationController::verify);
    hide_ = make_action(this, tr("&Hide / Show Object"), QKeySequence(Qt::Key_H), "hide_object");
    connect(hide_, &QAction::triggered, this, &AnnotationController::toggle_hidden);
    delete_ =
        make_action(this, tr("De&lete Object"), QKeySequence(Qt::Key_Delete), "delete_object");
    connect(delete_, &QAction::triggered, this, &AnnotationController::delete_selected);
    annotate_menu_->addAction(verify_);
    annotate_menu_->addAction(hide_);
    annotate_menu_->addAction(delete_);
}

void AnnotationController::add_file_actions(QMenu* file) {
    file->addAction(open_project_);
    file->addAction(export_);
    file->addAction(point_file_);
}

void AnnotationController::set_project_actions_enabled(bool enabled) {
    for (QAction* action : {export_, point_file_, next_, done_}) action->setEnabled(enabled);
}

void AnnotationController::open_project(const QString& folder) {
    context_.show_status(tr("Opening project %1…").arg(folder));
    session_->open_project(folder);
}

void AnnotationController::on_project_opened(const QString& folder) {
    set_project_actions_enabled(true);
    const auto project = session_->project();
    project_dock_->show_images(folder, project->images());
    project_dock_->show_statuses(session_->statuses(), session_->problems());
    project_dock_->show();
    project_dock_->raise();
    label_dock_->show();
    context_.set_folder_files(session_->image_paths());
    if (project->images().empty()) {
        context_.show_status(tr("%1: no images in the project folder").arg(folder));
    } else {
        go_to(session_->next_unannotated({}).value_or(project->images().front()));
    }
    emit project_opened(folder);
}

void AnnotationController::go_to(const std::string& image_file) {
    const auto project = session_->project();
    if (!project) return;
    const auto& images = project->images();
    const auto it = std::find(images.begin(), images.end(), image_file);
    if (it != images.end()) context_.go_to_folder_image(int(it - images.begin()));
}

void AnnotationController::before_open(const QString& path) {
    session_->prefetch(path);
}

void AnnotationController::image_closing() {
    session_->detach_image();
}

void AnnotationController::image_opened(const QString& path, const engine::ImageInfo& image) {
    session_->attach_image(path, {image.width, image.height},
                           {image.work_width, image.work_height});
    if (!session_->active()) return;
    project_dock_->set_current(session_->current_image_file());
    if (!session_->image_attached()) {
        context_.show_status(tr("%1 is not in the project: its objects are not saved").arg(path));
    }
}

void AnnotationController::style_new_object(editing::SegmentObject& object) const {
    if (!session_->image_attached()) return;
    QString label = label_dock_->current_label();
    if (label.isEmpty() && !session_->labels().labels.empty()) {
        label = QString::fromStdString(session_->labels().labels.front().name);
    }
    if (label.isEmpty()) label = "object";
    object.name = label;
    object.colour = session_->label_colour(label);
    object.verified = true;  // a person made it
}

void AnnotationController::restyle(editing::SegmentObject& object) {
    if (!session_->image_attached()) return;
    object.name = object.name.trimmed();
    if (!session_->labels().find(object.name.toStdString()) && !object.name.isEmpty()) {
        annotation::LabelSet labels = session_->labels();
        const QColor colour = session_->label_colour(object.name);
        labels.labels.push_back(
            {object.name.toStdString(),
             {uint8_t(colour.red()), uint8_t(colour.green()), uint8_t(colour.blue())},
             {}});
        if (Status saved = session_->set_labels(labels); !saved) {
            show_problem(tr("Labels not saved"), QString::fromStdString(saved.message()));
        }
    }
    object.colour = session_->label_colour(object.name);
}

void AnnotationController::recolour_objects() {
    if (!session_->image_attached()) return;
    editing::EditDocument& document = edit_document();
    for (editing::SegmentObject object : document.objects()) {
        const QColor colour = session_->label_colour(object.name);
        if (object.colour == colour) continue;
        object.colour = colour;  // display only: colours are not part of the annotation
        document.update_object(object);
    }
}

void AnnotationController::relabel_selected(const QString& label) {
    context_.show_status(tr("Label: %1").arg(label));
    const int id = context_.selected_object_id();
    const editing::SegmentObject* object = edit_document().object(id);
    if (!object || object->name == label) return;
    editing::SegmentObject after = *object;
    after.name = label;
    after.colour = session_->label_colour(label);
    undo_stack().push(
        new editing::ObjectEditCommand(edit_document(), *object, after, tr("Label %1").arg(label)));
}

void AnnotationController::next_unannotated() {
    if (!session_->active()) return;
    const std::string current = session_->current_image_file();
    const auto next = session_->next_unannotated(current);
    if (!next) return context_.show_status(tr("Every image of the project is done"));
    if (*next == current) return context_.show_status(tr("This is the only image not done"));
    go_to(*next);
}

void AnnotationController::mark_done_and_next() {
    if (!session_->image_attached()) return;
    session_->mark_done();
    next_unannotated();
}

int AnnotationController::brush_target() const {
    const int selected = context_.selected_object_id();
    if (edit_document().object(selected)) return selected;
    const auto& objects = edit_document().objects();
    return objects.empty() ? -1 : objects.back().id;
}

void AnnotationController::apply_stroke(const QVector<QPointF>& points, double radius_px,
                                        bool erase) {
    editing::EditDocument& document = edit_document();
    const cv::Mat work = engine_.work_image(context_.current_image_id());
    if (work.empty() || points.isEmpty()) return;
    std::vector<cv::Point2d> stroke;
    for (const QPointF& p : points) stroke.emplace_back(p.x(), p.y());
    const int target = brush_target();
    const editing::SegmentObject* object = document.object(target);
    if (!object) {
        if (erase) return context_.show_status(tr("Nothing to erase: no object on this image"));
        // The first stroke on an image without objects paints a new, hand-drawn object.
        editing::SegmentObject painted;
        painted.id = document.next_object_id();
        painted.name = tr("Object %1").arg(painted.id);
        painted.colour = QColor(30, 144, 255);
        painted.mask = editing::paint_stroke(cv::Mat(), work.size(), stroke, radius_px, false);
        painted.segmenter = "brush";
        style_new_object(painted);
        undo_stack().push(new editing::AcceptObjectCommand(document, painted, document.prompts()));
        return;
    }
    editing::SegmentObject after = *object;
    after.mask = editing::paint_stroke(object->mask, work.size(), stroke, radius_px, erase);
    if (!object->mask.empty() && cv::countNonZero(after.mask != object->mask) == 0) return;
    undo_stack().push(new editing::ObjectEditCommand(
        document, *object, after,
        erase ? tr("Erase from %1").arg(object->name) : tr("Brush on %1").arg(object->name)));
}

void AnnotationController::set_brush_radius(double radius_px) {
    context_.canvas->set_brush_radius(radius_px);
    context_.show_status(tr("Brush radius %1 px").arg(context_.canvas->brush_radius(), 0, 'f', 1));
}

void AnnotationController::verify() {
    editing::EditDocument& document = edit_document();
    const int selected = context_.selected_object_id();
    std::vector<editing::SegmentObject> targets;
    for (const editing::SegmentObject& object : document.objects()) {
        if (!object.verified && (selected < 0 || object.id == selected)) targets.push_back(object);
    }
    if (targets.empty()) return context_.show_status(tr("Nothing to verify"));
    QUndoStack& stack = undo_stack();
    stack.beginMacro(tr("Verify %n object(s)", nullptr, int(targets.size())));
    for (const editing::SegmentObject& object : targets) {
        editing::SegmentObject after = object;
        after.verified = true;
        stack.push(new editing::ObjectEditCommand(document, object, after, tr("Verify")));
    }
    stack.endMacro();
}

void AnnotationController::toggle_hidden() {
    const editing::SegmentObject* object = edit_document().object(context_.selected_object_id());
    if (!object) return context_.show_status(tr("Select an object first"));
    editing::SegmentObject after = *object;
    after.visible = !object->visible;
    undo_stack().push(new editing::ObjectEditCommand(edit_document(), *object, after,
                                                     after.visible ? tr("Show") : tr("Hide")));
}

void AnnotationController::delete_selected() {
    const int id = context_.selected_object_id();
    if (!edit_document().object(id)) return context_.show_status(tr("Select an object first"));
    undo_stack().push(new editing::DeleteObjectCommand(edit_document(), id));
}

void AnnotationController::show_problem(const QString& title, const QString& message) {
    // The banner, not a message box: it never stops the event loop (saves, answers) behind it,
    // and it stays until the user dismisses it or a newer problem replaces it.
    context_.show_error(tr("%1: %2").arg(title, message));
}

void AnnotationController::reload_after_external_write() {
    // A batch or an import wrote annotation files: re-read the statuses and the labels, and
    // re-open the image on screen so that its objects come from the file.
    session_->reload();
    if (session_->image_attached()) context_.open_image(context_.current_path());
}

AnnotationExportDialog* AnnotationController::open_export_dialog() {
    if (!session_->active()) return nullptr;
    auto* dialog = new AnnotationExportDialog(engine_, *session_, context_.window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &AnnotationExportDialog::import_finished, this,
            [this](bool ok, const QString& message) {
                context_.show_status(message.section('\n', 0, 0));
                if (ok) reload_after_external_write();
            });
    connect(dialog, &AnnotationExportDialog::export_finished, this,
            [this](bool, const QString& message) {
                context_.show_status(message.section('\n', 0, 0));
            });
    dialog->open();
    return dialog;
}

PointFileDialog* AnnotationController::open_point_file_dialog() {
    if (!session_->active()) return nullptr;
    auto* dialog = new PointFileDialog(engine_, *session_, context_.model_id(),
                                       context_.model_name(), context_.window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &PointFileDialog::run_finished, this, [this](bool, const QString& summary) {
        context_.show_status(summary.section('\n', 0, 0));
        reload_after_external_write();
    });
    dialog->open();
    return dialog;
}

}  // namespace ps::ui
