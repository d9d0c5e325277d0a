// The main window shows what the engine says: the image, prompts and masks, candidates, objects
// and metrics. Every edit is an undoable command; every model run goes through the engine.
#pragma once

#include <QMainWindow>
#include <QStringList>
#include <QUndoStack>

#include <optional>
#include <string>

#include "editing/edit_document.h"
#include "models/sam2/sam2_model.h"

class QLabel;
class QUndoView;

namespace ps::engine {
class Engine;
}

namespace ps::ui {

class AnnotationController;
struct AnnotationContext;
class AppSettings;
class BackgroundPanel;
class BenchmarkPanel;
class CandidateStrip;
class EffectsPanel;
class ImageCanvas;
class MessageBanner;
class ObjectsDock;
struct VideoContext;
class VideoModeController;
class VideoTimeline;

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    // `settings` (optional; the app passes it, tests may not) backs the settings dialog, the
    // recent files and the overlay style.
    explicit MainWindow(engine::Engine& engine, AppSettings* settings = nullptr,
                        QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads a SAM checkpoint in the background; an empty path means the built-in GrabCut.
    // `sam2_layout`: what a SAM 2 file of an unpublished layout does not store (tests' tiny one).
    void set_sam_model(const QString& checkpoint_path,
                       const sam2::Sam2LayoutOverrides& sam2_layout = {});
    // Opens through the engine (off the GUI thread); `image_opened` or `image_failed` follows.
    void open_image(const QString& path);
    void open_folder(const QString& folder);
    // What the user named (a drop, the command line): a folder to browse, a video (video mode)
    // or an image.
    void open_path(const QString& path);
    void step_folder(int delta);  // PgDn / PgUp
    // The list PgDn / PgUp walk (a folder's or a project's images), and a jump within it.
    void set_folder_files(const QStringList& files);
    void go_to_folder_image(int index);
    // The same as a click on the canvas at an image point (scripts, screenshots, accessibility).
    void add_point(const QPointF& image_point, int label) {
        on_point_requested(image_point, label);
    }
    void accept_mask() { accept_object(); }  // Enter

    // Exports (atomic writes); return an error message or an empty string.
    QString export_current_mask(const QString& path);
    QString export_object_masks(const QString& folder);
    QString export_cutout(const QString& path);
    QString export_overlay(const QString& path);

    QString current_path() const { return current_path_; }
    int current_image_id() const { return image_id_; }
    bool busy() const;  // a request in flight, here or in video mode
    editing::EditDocument& document() { return document_; }
    QUndoStack& undo_stack() { return undo_stack_; }
    ImageCanvas* canvas() const { return canvas_; }
    CandidateStrip* candidates() const { return candidates_; }
    ObjectsDock* objects_dock() const { return objects_dock_; }
    BackgroundPanel* background_panel() const { return background_panel_; }
    EffectsPanel* effects_panel() const { return effects_panel_; }
    QString status_text() const;
    // Progress goes to the status bar; what needs the user's attention goes to the banner
    // above the canvas, where it stays until dismissed or replaced.
    void show_status(const QString& text) { set_status(text); }
    void show_error(const QString& text);
    void show_warning(const QString& text);
    QString banner_text() const;
    MessageBanner* banner() const { return banner_; }
    // Accepted objects that would be lost on quit: outside a project and not exported since.
    bool has_unsaved_objects() const;
    // The loaded SAM model; empty while the built-in GrabCut answers.
    const std::string& model_id() const { return model_id_; }
    QString model_name() const { return model_name_; }
    AnnotationController* annotation() const { return annotation_; }
    VideoModeController* video() const { return video_; }  // video mode (SAM 2.1 tracking)
    VideoTimeline* timeline() const { return timeline_; }
    void show_shortcut_sheet();  // F1

  protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

  signals:
    void image_opened(const QString& path);
    void image_failed(const QString& message);
    void model_ready(const QString& description);
    void masks_shown();  // after the decoder's answer for the current prompts is displayed

  private slots:
    void on_panel_export(const QString& error);

  private:
    void build_menus();
    void rebuild_recent_menu();
    void open_settings_dialog();
    void open_download_dialog();
    // The model folders' background-removal checkpoints into the Remove Background panel's list.
    void list_matting_models();
    void on_point_requested(const QPointF& point, int label);
    void on_box_requested(const QRectF& box);
    void on_point_moved(int index, const QPointF& point);
    void on_point_removed(int index);
    void choose_candidate(int index);
    void accept_object();
    void clear_prompts();
    void push_prompts(editing::PromptState next, const QString& text);
    void request_masks();
    void preview_hover(const QPointF& point);
    void refresh_masks();
    void refresh_objects();
    // What "the mask" means to exports and panels: the current mask, else the selected object's,
    // else the union of the visible objects; empty when there is none.
    cv::Mat subject_matte() const;
    void update_comparison();  // the panel result shown before / after on the canvas
    void restore_layout();
    void fit_to_screen();  // once shown: the window within the screen's available area
    bool confirm_discard();
    void set_status(const QString& text);
    void choose_and_open_image();
    void choose_and_open_folder();
    void choose_and_export(int kind);
    AnnotationContext annotation_context();  // what annotation mode may use of the window
    VideoContext video_context();            // what video mode may use of the window
    void leave_image();                      // a video replaces the image on the canvas

    engine::Engine& engine_;
    AppSettings* settings_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    editing::EditDocument document_;
    QUndoStack undo_stack_;
    ImageCanvas* canvas_ = nullptr;
    CandidateStrip* candidates_ = nullptr;
    ObjectsDock* objects_dock_ = nullptr;
    QDockWidget* metrics_dock_ = nullptr;
    BackgroundPanel* background_panel_ = nullptr;
    EffectsPanel* effects_panel_ = nullptr;
    BenchmarkPanel* benchmark_panel_ = nullptr;
    AnnotationController* annotation_ = nullptr;
    VideoModeController* video_ = nullptr;
    VideoTimeline* timeline_ = nullptr;
    QUndoView* undo_view_ = nullptr;
    QLabel* status_ = nullptr;
    MessageBanner* banner_ = nullptr;
    bool first_start_ = false;  // no saved geometry: the default size, fitted to the screen
    bool shown_once_ = false;
    QDockWidget* last_preview_panel_ = nullptr;
    QLabel* engine_label_ = nullptr;
    std::string model_id_;  // empty: GrabCut
    QString model_name_;    // shown with each answer: a checkpoint's file name, or GrabCut
    QString current_path_;
    int image_id_ = 0;
    QStringList folder_files_;
    int folder_index_ = -1;
    std::vector<int> preencoded_ids_;
    int pending_ = 0;
    int next_colour_ = 0;
};

}  // namespace ps::ui
