// Main window wiring: canvas gestures -> undoable prompt commands -> engine requests -> display.
#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMimeData>
#include <QStatusBar>
#include <QUndoView>
#include <QVBoxLayout>

#include "annotating/annotation_session.h"
#include "annotating/sam_prompt.h"
#include "annotation_controller.h"
#include "app_settings.h"
#include "background_panel.h"
#include "benchmark_panel.h"
#include "candidate_strip.h"
#include "display_names.h"
#include "dock_layout.h"
#include "download_dialog.h"
#include "editing/edit_commands.h"
#include "effects_panel.h"
#include "engine/checkpoint_discovery.h"
#include "engine/engine.h"
#include "engine/future_watch.h"
#include "image_canvas.h"
#include "label_dock.h"
#include "message_banner.h"
#include "metrics_dock.h"
#include "objects_dock.h"
#include "resources.h"
#include "settings_dialog.h"
#include "shortcut_sheet.h"
#include "text_entry_guard.h"
#include "video_mode_controller.h"
#include "video_timeline.h"

namespace ps::ui {
namespace {

const QColor kPalette[] = {{230, 25, 75},  {60, 180, 75},   {255, 225, 25}, {0, 130, 200},
                           {245, 130, 48}, {145, 30, 180},  {70, 240, 240}, {240, 50, 230},
                           {210, 245, 60}, {250, 190, 212}, {0, 128, 128},  {170, 110, 40}};

QImage to_qimage(const cv::Mat& rgb) {
    return QImage(rgb.data, rgb.cols, rgb.rows, int(rgb.step[0]), QImage::Format_RGB888).copy();
}

const QStringList kImageSuffixes{"png", "jpg", "jpeg", "bmp",  "gif",
                                 "ppm", "pgm", "tif",  "tiff", "webp"};
// Dropped files with these suffixes open in video mode.
const QStringList kVideoSuffixes{"mp4", "avi", "mov", "mkv", "webm", "m4v", "mpg", "mpeg", "wmv"};

}  // namespace

MainWindow::MainWindow(engine::Engine& engine, AppSettings* settings, QWidget* parent)
    : QMainWindow(parent), engine_(engine), settings_(settings) {
    init_resources();
    setWindowTitle("Photosynth");
    // Enter and Escape in a text field (the rename editor, a parameter) belong to that field.
    qApp->installEventFilter(new TextEntryGuard(this));
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    banner_ = new MessageBanner(central);
    candidates_ = new CandidateStrip(central);
    canvas_ = new ImageCanvas(central);
    layout->addWidget(banner_);
    layout->addWidget(candidates_);
    layout->addWidget(canvas_, 1);
    timeline_ = new VideoTimeline(central);  // shown in video mode
    layout->addWidget(timeline_);
    setCentralWidget(central);

    model_name_ = engine::Engine::kBuiltinSegmenterName;
    objects_dock_ = new ObjectsDock(this);
    addDockWidget(Qt::RightDockWidgetArea, objects_dock_);
    auto* history = new QDockWidget(tr("History"), this);
    history->setObjectName("history_dock");
    undo_view_ = new QUndoView(&undo_stack_, history);
    history->setWidget(undo_view_);
    addDockWidget(Qt::RightDockWidgetArea, history);
    auto* metrics = new MetricsDock(engine_.metrics(), this);
    metrics_dock_ = metrics;
    addDockWidget(Qt::RightDockWidgetArea, metrics);
    connect(metrics, &MetricsDock::clear_cache_requested, this, [this] { engine_.clear_cache(); });
    background_panel_ = new BackgroundPanel(engine_, this);
    effects_panel_ = new EffectsPanel(engine_, this);
    for (auto* panel : {static_cast<QDockWidget*>(background_panel_),
                        static_cast<QDockWidget*>(effects_panel_)}) {
        connect(panel, SIGNAL(export_finished(QString)), this, SLOT(on_panel_export(QString)));
    }
    addDockWidget(Qt::LeftDockWidgetArea, background_panel_);
    addDockWidget(Qt::LeftDockWidgetArea, effects_panel_);
    tabifyDockWidget(background_panel_, effects_panel_);
    benchmark_panel_ = new BenchmarkPanel(engine_, this);
    addDockWidget(Qt::RightDockWidgetArea, benchmark_panel_);
    tabifyDockWidget(metrics, benchmark_panel_);
    metrics->raise();
    background_panel_->raise();
    // Tall panels scroll inside their docks: the window then fits 1366×768 (and 1920×1080 at
    // scale 1.5) with every default dock open.
    for (QDockWidget* dock :
         {static_cast<QDockWidget*>(background_panel_), static_cast<QDockWidget*>(effects_panel_),
          static_cast<QDockWidget*>(benchmark_panel_)}) {
        make_scrollable(dock);
    }
    for (QDockWidget* panel : {static_cast<QDockWidget*>(background_panel_),
                               static_cast<QDockWidget*>(effects_panel_)}) {
        connect(panel, &QDockWidget::visibilityChanged, this, &MainWindow::update_comparison);
    }
    connect(background_panel_, &BackgroundPanel::canvas_preview_changed, this, [this] {
        last_preview_panel_ = background_panel_;
        update_comparison();
    });
    connect(effects_panel_, &EffectsPanel::canvas_preview_changed, this, [this] {
        last_preview_panel_ = effects_panel_;
        update_comparison();
    });
    connect(background_panel_, &BackgroundPanel::split_changed, this,
            [this](int percent) { canvas_->set_split(percent / 100.0); });
    connect(canvas_, &ImageCanvas::split_moved, this, [this](double split) {
        background_panel_->set_split_percent(int(std::lround(split * 100)));
    });

    status_ = new QLabel(tr("Open an image to start (Ctrl+O)"), this);
    status_->setObjectName("status_text");
    engine_label_ = new QLabel(this);
    engine_label_->setObjectName("engine_label");
    statusBar()->addWidget(status_, 1);
    statusBar()->addPermanentWidget(engine_label_);

    connect(canvas_, &ImageCanvas::point_requested, this, &MainWindow::on_point_requested);
    connect(canvas_, &ImageCanvas::box_requested, this, &MainWindow::on_box_requested);
    connect(canvas_, &ImageCanvas::point_moved, this, &MainWindow::on_point_moved);
    connect(canvas_, &ImageCanvas::point_removed, this, &MainWindow::on_point_removed);
    connect(canvas_, &ImageCanvas::hover_moved, this, &MainWindow::preview_hover);
    setAcceptDrops(true);
    connect(candidates_, &CandidateStrip::candidate_chosen, this, &MainWindow::choose_candidate);
    connect(&document_, &editing::EditDocument::prompts_changed, this, [this] {
        canvas_->show_prompts(document_.prompts());
        if (document_.current_candidates() || document_.prompts().empty()) {
            refresh_masks();
        } else {
            request_masks();
        }
    });
    connect(&document_, &editing::EditDocument::candidates_changed, this,
            &MainWindow::refresh_masks);
    connect(&document_, &editing::EditDocument::objects_changed, this,
            &MainWindow::refresh_objects);
    connect(objects_dock_, &ObjectsDock::rename_requested, this,
            [this](int id, const QString& typed) {
                const editing::SegmentObject* object = document_.object(id);
                const QString name = typed.trimmed();
                if (!object || object->name == name) return;
                if (name.isEmpty()) {
                    show_warning(tr("An object needs a name: \"%1\" is kept").arg(object->name));
                    return refresh_objects();  // the list shows the kept name again
                }
                editing::SegmentObject after = *object;
                after.name = name;
                annotation_->restyle(after);  // in a project the name is the label
                undo_stack_.push(
                    new editing::ObjectEditCommand(document_, *object, after, tr("Rename")));
            });
    connect(objects_dock_, &ObjectsDock::visibility_requested, this, [this](int id, bool visible) {
        const editing::SegmentObject* object = document_.object(id);
        if (!object || object->visible == visible) return;
        editing::SegmentObject after = *object;
        after.visible = visible;
        undo_stack_.push(new editing::ObjectEditCommand(document_, *object, after,
                                                        visible ? tr("Show") : tr("Hide")));
    });
    connect(objects_dock_, &ObjectsDock::delete_requested, this,
            [this](int id) { undo_stack_.push(new editing::DeleteObjectCommand(document_, id)); });
    // The selected object is "the mask" of exports and panels once the prompts are accepted.
    connect(objects_dock_->list(), &QListWidget::currentRowChanged, this, [this] {
        const cv::Mat subject = subject_matte();
        background_panel_->set_sam_mask(subject);
        effects_panel_->set_matte(subject);
    });
    annotation_ = new AnnotationController(annotation_context(), engine_, this);
    video_ = new VideoModeController(video_context(), engine_, this);
    // The candidate strip, the effects and background removal are of a still image: in video
    // mode the strip (SAM 2 tracks one mask per object, no candidates) leaves the canvas its
    // room and the two panels say why they are idle, rather than showing an empty strip, the
    // last image's thumbnails or controls that change nothing. A video's background is the
    // CLI's (remove-bg --video streams every frame through a matting model).
    connect(video_, &VideoModeController::video_opened, this, [this] {
        candidates_->hide();
        effects_panel_->set_unavailable(
            tr("Effects apply to a still image. Open an image (Ctrl+O) to use them."));
        background_panel_->set_unavailable(
            tr("Background removal applies to a still image. Open an image (Ctrl+O) to use it; "
               "for a video: photosynth-cli remove-bg --video."));
    });
    connect(video_, &VideoModeController::video_closed, this, [this] {
        candidates_->show();
        effects_panel_->set_unavailable(QString());
        background_panel_->set_unavailable(QString());
    });
    build_menus();
    if (settings_) {
        canvas_->set_overlay_style(settings_->overlay_color(), settings_->overlay_opacity(), true);
        canvas_->set_hover_preview(settings_->hover_preview());
        if (!settings_->background_checkpoint().isEmpty()) {
            background_panel_->set_matting_checkpoint(settings_->background_checkpoint());
        }
    }
    set_sam_model(settings_ ? settings_->sam_checkpoint() : QString());
    list_matting_models();
    // After the annotation docks joined the tabs (hiding the project dock brought another
    // tab forward): background removal is the left area's first page.
    background_panel_->raise();
    restore_layout();
}

void MainWindow::update_comparison() {
    const auto result_of = [this](QDockWidget* panel) -> QImage {
        // A tabified dock behind another tab is not visible: its result leaves the canvas.
        if (!panel || !panel->isVisible()) return {};
        if (panel == background_panel_) {
            return background_panel_->shows_on_canvas() ? background_panel_->result_image()
                                                        : QImage();
        }
        return effects_panel_->shows_on_canvas() ? effects_panel_->preview() : QImage();
    };
    QDockWidget* other = last_preview_panel_ == effects_panel_
                             ? static_cast<QDockWidget*>(background_panel_)
                             : static_cast<QDockWidget*>(effects_panel_);
    QImage after = result_of(last_preview_panel_);
    if (after.isNull()) after = result_of(other);
    canvas_->show_comparison(after);
}

MainWindow::~MainWindow() {
    if (image_id_) engine_.close_image(image_id_);
    for (int id : preencoded_ids_) engine_.close_image(id);
}

void MainWindow::build_menus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open Image…"), QKeySequence::Open, this,
                    &MainWindow::choose_and_open_image);
    file->addAction(tr("Open &Folder…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this,
                    &MainWindow::choose_and_open_folder);
    annotation_->add_file_actions(file);
    video_->add_file_actions(file);
    file->addAction(tr("Next Image"), QKeySequence(Qt::Key_PageDown), this,
                    [this] { step_folder(1); });
    file->addAction(tr("Previous Image"), QKeySequence(Qt::Key_PageUp), this,
                    [this] { step_folder(-1); });
    recent_menu_ = file->addMenu(tr("Open &Recent"));
    rebuild_recent_menu();
    file->addSeparator();
    file->addAction(tr("Export &Mask…"), QKeySequence(Qt::CTRL | Qt::Key_E), this,
                    [this] { choose_and_export(0); });
    file->addAction(tr("Export All Object Masks…"), this, [this] { choose_and_export(1); });
    file->addAction(tr("Export &Cut-out…"), this, [this] { choose_and_export(2); });
    file->addAction(tr("Export &Overlay…"), this, [this] { choose_and_export(3); });
    file->addAction(tr("Export &Background Removal…"), this, [this] { choose_and_export(4); });
    file->addAction(tr("Export &Effect…"), this, [this] { choose_and_export(5); });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = undo_stack_.createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = undo_stack_.createRedoAction(this, tr("&Redo"));
    // Both customs, once each: QKeySequence::Redo is already Ctrl+Shift+Z on X11, and listing it
    // again made the shortcut ambiguous (so it did nothing).
    redo->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("&Accept Object"), QKeySequence(Qt::Key_Return), this,
                    &MainWindow::accept_object);
    edit->addAction(tr("&Clear Prompts"), QKeySequence(Qt::Key_Escape), this,
                    &MainWindow::clear_prompts);
    for (int i = 0; i < 3; ++i) {
        edit->addAction(tr("Candidate %1").arg(i + 1), QKeySequence(Qt::Key_1 + i), this,
                        [this, i] { choose_candidate(i); });
    }
    menuBar()->addMenu(annotation_->annotate_menu());
    menuBar()->addMenu(video_->video_menu());
    QMenu* models = menuBar()->addMenu(tr("&Models"));
    models
        ->addAction(tr("&Settings…"), QKeySequence::Preferences, this,
                    &MainWindow::open_settings_dialog)
        ->setEnabled(settings_ != nullptr);
    models->addAction(tr("&Download Official Weights…"), this, &MainWindow::open_download_dialog);
    models->addAction(tr("&Benchmark…"), this, [this] {
        benchmark_panel_->show();
        benchmark_panel_->raise();
    });
    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("&Fit to Window"), QKeySequence(Qt::CTRL | Qt::Key_0), canvas_,
                    &ImageCanvas::fit);
    view->addAction(tr("&Actual Size (100 %)"), QKeySequence(Qt::CTRL | Qt::Key_1), canvas_,
                    &ImageCanvas::zoom_actual_size);
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        view->addAction(dock->toggleViewAction());
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard Shortcuts"), QKeySequence(Qt::Key_F1), this,
                    &MainWindow::show_shortcut_sheet);
}

void MainWindow::show_shortcut_sheet() {
    auto* sheet = new ShortcutSheet(this, this);
    sheet->setAttribute(Qt::WA_DeleteOnClose);
    sheet->open();
}

void MainWindow::set_sam_model(const QString& checkpoint_path,
                               const sam2::Sam2LayoutOverrides& sam2_layout) {
    if (checkpoint_path.isEmpty()) {
        model_id_.clear();
        model_name_ = engine::Engine::kBuiltinSegmenterName;
        engine_label_->setText(tr("GrabCut (built-in) · no SAM weights loaded"));
        engine_label_->setToolTip(QString());
        return;
    }
    ++pending_;
    set_status(tr("Loading %1…").arg(QFileInfo(checkpoint_path).fileName()));
    engine::when_finished(
        this,
        engine_.load_model(checkpoint_path.toStdString(),
                           {engine_.settings().device, engine_.settings().precision}, sam2_layout),
        [this, checkpoint_path](Result<engine::ModelInfo> model) {
            --pending_;
            if (!model) {
                // The clicks still get an answer, from GrabCut, and the label says so.
                if (model_id_.empty()) {
                    model_name_ = engine::Engine::kBuiltinSegmenterName;
                    engine_label_->setText(tr("GrabCut (built-in) · %1 failed to load")
                                               .arg(QFileInfo(checkpoint_path).fileName()));
                    engine_label_->setToolTip(QString::fromStdString(model.message()));
                }
                show_error(tr("Model not loaded: %1").arg(QString::fromStdString(model.message())));
                return;
            }
            model_id_ = model->id;
            model_name_ = QFileInfo(checkpoint_path).fileName();
            QString label = tr("%1 · %2 %3")
                                .arg(segmenter_display_name(QString::fromStdString(model->family),
                                                            QString::fromStdString(model->arch)),
                                     QString::fromStdString(model->device),
                                     QString::fromStdString(model->precision));
            if (!model->fallback_reason.empty()) {
                label += " ⚠";
                engine_label_->setToolTip(QString::fromStdString(model->fallback_reason));
            }
            engine_label_->setText(label);
            set_status(tr("Model ready in %1 ms").arg(model->load_ms, 0, 'f', 0));
            if (image_id_) {
                ++pending_;
                engine::when_finished(
                    this, engine_.encode(image_id_, model_id_),
                    [this](Result<engine::EncodeInfo> r) {
                        --pending_;
                        if (!r) return show_error(QString::fromStdString(r.message()));
                        set_status(tr("Ready"));
                    });
            }
            emit model_ready(label);
        });
}

void MainWindow::open_image(const QString& path) {
    video_->close_video();  // an image leaves video mode
    annotation_->before_open(path);
    ++pending_;
    set_status(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    engine::when_finished(
        this, engine_.open_image(path.toStdString()),
        [this, path](Result<engine::ImageInfo> image) {
            --pending_;
            if (!image) {
                show_error(QString::fromStdString(image.message()));
                emit image_failed(QString::fromStdString(image.message()));
                return;
            }
            if (image_id_) engine_.close_image(image_id_);
            image_id_ = image->id;
            current_path_ = path;
            undo_stack_.clear();
            annotation_->image_closing();  // the old image's annotation must not see the clear
            document_.clear();
            canvas_->set_image(to_qimage(engine_.work_image(image_id_)));
            background_panel_->set_image(image_id_);
            effects_panel_->set_image(engine_.full_image(image_id_));
            setWindowTitle(QFileInfo(path).fileName() + " — Photosynth");
            set_status(tr("%1 × %2 px").arg(image->width).arg(image->height));
            annotation_->image_opened(path, *image);  // a project's saved objects (or its problem)
            if (!model_id_.empty()) {
                ++pending_;
                set_status(tr("Encoding %1…").arg(QFileInfo(path).fileName()));
                engine::when_finished(
                    this, engine_.encode(image_id_, model_id_),
                    [this](Result<engine::EncodeInfo> r) {
                        --pending_;
                        if (!r) return show_error(QString::fromStdString(r.message()));
                        set_status(
                            r->cache_hit
                                ? tr("Ready · %1").arg(QString::fromStdString(r->source))
                                : tr("Ready · encoded in %1 ms").arg(r->encode_ms, 0, 'f', 0));
                    });
            }
            if (settings_) {
                settings_->add_recent_file(path);
                rebuild_recent_menu();
            }
            emit image_opened(path);
        });
}

void MainWindow::rebuild_recent_menu() {
    if (!recent_menu_) return;
    recent_menu_->clear();
    const QStringList files = settings_ ? settings_->recent_files() : QStringList();
    for (const QString& path : files) {
        recent_menu_
            ->addAction(QFileInfo(path).fileName(), this, [this, path] { open_image(path); })
            ->setToolTip(path);
    }
    recent_menu_->setEnabled(!files.isEmpty());
}

void MainWindow::open_settings_dialog() {
    if (!settings_) return;
    const QString before = settings_->sam_checkpoint();
    const QString background_before = settings_->background_checkpoint();
    SettingsDialog dialog(*settings_, this, &engine_);
    if (dialog.exec() != QDialog::Accepted) return;
    canvas_->set_overlay_style(settings_->overlay_color(), settings_->overlay_opacity(), true);
    canvas_->set_hover_preview(settings_->hover_preview());
    if (settings_->sam_checkpoint() != before) set_sam_model(settings_->sam_checkpoint());
    // A new background model is loaded now and becomes the panel's matte source, as at start.
    if (const QString background = settings_->background_checkpoint();
        background != background_before && !background.isEmpty()) {
        background_panel_->set_matting_checkpoint(background);
    }
    const QStringList overridden = AppSettings::overriding_environment();
    set_status(overridden.isEmpty()
                   ? tr("Settings saved; worker and cache changes apply at the next start")
                   : tr("Settings saved; overridden by %1").arg(overridden.join(", ")));
}

void MainWindow::open_download_dialog() {
    const QString folder = engine::user_model_folder();
    QDir().mkpath(folder);
    DownloadDialog dialog(":/models/manifest.json", folder, this);
    connect(&dialog, &DownloadDialog::downloaded, this, [this](const QString& path) {
        // A checkpoint that answers clicks (SAM, MobileSAM, SAM 2.1) becomes the model when none
        // is configured yet; a background-removal model only joins the panel's list below.
        if (model_id_.empty() && settings_ &&
            engine::is_promptable_family(engine::inspect_checkpoint(path).family.toStdString()) &&
            settings_->set_sam_checkpoint(path)) {
            set_sam_model(path);
        }
        list_matting_models();  // a background-removal model joins the panel's list
    });
    dialog.exec();
}

void MainWindow::list_matting_models() {
    // Reading every checkpoint's tensor shapes takes a moment on big files: off the GUI thread,
    // behind any interactive work.
    using Found = std::vector<engine::DiscoveredCheckpoint>;
    engine::when_finished(this,
                          engine_.run_task<Found>(engine::Priority::Batch,
                                                  []() -> Result<Found> {
                                                      return engine::discover_checkpoints(
                                                          engine::default_model_folders());
                                                  }),
                          [this](Result<Found> found) {
                              if (found) background_panel_->add_matting_models(*found);
                          });
}

AnnotationContext MainWindow::annotation_context() {
    AnnotationContext context;
    context.window = this;
    context.tab_with = background_panel_;
    context.document = &document_;
    context.undo_stack = &undo_stack_;
    context.canvas = canvas_;
    context.selected_object_id = [this] { return objects_dock_->selected_object_id(); };
    context.current_image_id = [this] { return image_id_; };
    context.current_path = [this] { return current_path_; };
    context.show_status = [this](const QString& text) { show_status(text); };
    context.show_error = [this](const QString& text) { show_error(text); };
    context.set_folder_files = [this](const QStringList& files) { set_folder_files(files); };
    context.go_to_folder_image = [this](int index) { go_to_folder_image(index); };
    context.open_image = [this](const QString& path) { open_image(path); };
    context.model_id = [this] { return model_id_; };
    context.model_name = [this] { return model_name_; };
    return context;
}

VideoContext MainWindow::video_context() {
    VideoContext context;
    context.window = this;
    context.canvas = canvas_;
    context.timeline = timeline_;
    context.model_id = [this] { return model_id_; };
    context.model_name = [this] { return model_name_; };
    context.show_status = [this](const QString& text) { show_status(text); };
    context.show_error = [this](const QString& text) { show_error(text); };
    context.leave_image = [this] { leave_image(); };
    context.style_new_object = [this](VideoObject& object) {
        // With a project open its current label names the object (outside one: "Object N").
        const QString label = annotation_->label_dock()->current_label();
        if (!annotation_->session().active() || label.isEmpty()) return;
        object.name = label;
        object.colour = annotation_->session().label_colour(label);
    };
    return context;
}

void MainWindow::leave_image() {
    if (image_id_) engine_.close_image(image_id_);
    image_id_ = 0;
    current_path_.clear();
    undo_stack_.clear();
    annotation_->image_closing();
    document_.clear();
    candidates_->show_candidates(nullptr, -1, false);
    // The panels' results were of the image: never drawn over the video's frames.
    background_panel_->set_image(0);
    effects_panel_->set_image(cv::Mat());
}

bool MainWindow::busy() const {
    return pending_ > 0 || video_->busy();
}

void MainWindow::open_folder(const QString& folder) {
    QStringList files;
    for (const QFileInfo& info : QDir(folder).entryInfoList(QDir::Files, QDir::Name)) {
        if (kImageSuffixes.contains(info.suffix().toLower())) files << info.absoluteFilePath();
    }
    if (files.isEmpty())
        return show_warning(tr("%1: no images to open in this folder").arg(folder));
    set_folder_files(files);
    step_folder(1);
}

void MainWindow::set_folder_files(const QStringList& files) {
    folder_files_ = files;
    folder_index_ = -1;
}

void MainWindow::step_folder(int delta) {
    if (folder_files_.isEmpty()) return;
    const int next = std::clamp(folder_index_ + delta, 0, int(folder_files_.size()) - 1);
    if (next != folder_index_) go_to_folder_image(next);
}

void MainWindow::go_to_folder_image(int next) {
    if (next < 0 || next >= int(folder_files_.size())) return;
    folder_index_ = next;
    open_image(folder_files_[next]);
    // Pre-encode the neighbours at low priority: their embeddings land in the cache, keyed by
    // content, so stepping there costs only a decode.
    for (int id : preencoded_ids_) engine_.close_image(id);
    preencoded_ids_.clear();
    if (model_id_.empty()) return;
    for (int neighbour : {next + 1, next - 1}) {
        if (neighbour < 0 || neighbour >= int(folder_files_.size())) continue;
        engine::when_finished(this, engine_.open_image(folder_files_[neighbour].toStdString()),
                              [this](Result<engine::ImageInfo> image) {
                                  if (!image) return;
                                  preencoded_ids_.push_back(image->id);
                                  engine_.encode(image->id, model_id_, engine::Priority::Preencode);
                              });
    }
}

void MainWindow::push_prompts(editing::PromptState next, const QString& text) {
    if (!image_id_) return;
    undo_stack_.push(
        new editing::PromptCommand(document_, document_.prompts(), std::move(next), text));
}

void MainWindow::on_point_requested(const QPointF& point, int label) {
    if (video_->active()) return video_->add_point(point, label);
    editing::PromptState next = document_.prompts();
    next.points.push_back({point.x(), point.y(), label});
    next.chosen_candidate = -1;
    next.generation = document_.next_generation();
    push_prompts(next, label ? tr("Add object point") : tr("Add background point"));
}

void MainWindow::on_box_requested(const QRectF& box) {
    if (video_->active()) return video_->add_box(box);
    editing::PromptState next = document_.prompts();
    next.box = std::array<double, 4>{box.left(), box.top(), box.right(), box.bottom()};
    next.chosen_candidate = -1;
    next.generation = document_.next_generation();
    push_prompts(next, tr("Draw box"));
}

void MainWindow::on_point_moved(int index, const QPointF& point) {
    if (video_->active()) return video_->move_point(index, point);
    editing::PromptState next = document_.prompts();
    if (index < 0 || index >= int(next.points.size())) return;
    next.points[index].x = point.x();
    next.points[index].y = point.y();
    next.generation = document_.next_generation();
    push_prompts(next, tr("Move point"));
}

void MainWindow::on_point_removed(int index) {
    if (video_->active()) return video_->remove_point(index);
    editing::PromptState next = document_.prompts();
    if (index < 0 || index >= int(next.points.size())) return;
    next.points.erase(next.points.begin() + index);
    next.chosen_candidate = -1;
    next.generation = document_.next_generation();
    push_prompts(next, tr("Remove point"));
}

void MainWindow::choose_candidate(int index) {
    const sam::SamMaskSet* set = document_.current_candidates();
    if (!set || index >= int(set->masks.size()) || index == document_.current_candidate_index())
        return;
    editing::PromptState next = document_.prompts();  // same generation: same decoder answer
    next.chosen_candidate = index;
    push_prompts(next, tr("Choose candidate %1").arg(index + 1));
}

void MainWindow::clear_prompts() {
    if (video_->active()) return video_->escape();  // Esc also cancels a propagation
    // Esc with nothing to clear drops the object selection (label keys, brush target).
    if (document_.prompts().empty()) return objects_dock_->select_object(-1);
    editing::PromptState next;
    next.generation = document_.next_generation();
    push_prompts(next, tr("Clear prompts"));
}

void MainWindow::accept_object() {
    if (video_->active())
        return set_status(tr("Video: every click is kept and saved; T propagates the objects"));
    const cv::Mat mask = document_.current_mask();
    if (mask.empty()) return set_status(tr("Nothing to accept: click on the image first"));
    editing::SegmentObject object;
    object.id = document_.next_object_id();
    object.name = tr("Object %1").arg(object.id);
    object.colour = kPalette[next_colour_++ % std::size(kPalette)];
    object.mask = mask;
    object.prompts = document_.prompts();
    const sam::SamMaskSet* set = document_.current_candidates();
    object.iou = set->iou[document_.current_candidate_index()];
    object.segmenter = document_.current_segmenter();
    annotation_->style_new_object(object);
    // The next label key then means the next object, not the one just accepted.
    objects_dock_->select_object(-1);
    undo_stack_.push(new editing::AcceptObjectCommand(document_, object, document_.prompts()));
}

void MainWindow::request_masks() {
    const editing::PromptState state = document_.prompts();
    if (state.empty() || !image_id_) return;
    sam::SamPrompt prompt = annotating::to_sam_prompt(state.points, state.box);
    ++pending_;
    const bool builtin = model_id_.empty();
    set_status(builtin ? tr("Segmenting (GrabCut)…") : tr("Decoding…"));
    auto future = builtin ? engine_.segment_builtin(image_id_, prompt)
                          : engine_.decode(image_id_, model_id_, prompt);
    const uint64_t generation = state.generation;
    const QString segmenter = model_name_;
    engine::when_finished(
        this, future, [this, generation, segmenter](Result<sam::SamMaskSet> masks) {
            --pending_;
            if (!masks) {
                // A superseded answer is simply replaced by the newer one; other errors are shown.
                if (masks.error().kind != ErrorKind::Superseded)
                    show_error(QString::fromStdString(masks.message()));
                return;
            }
            set_status(tr("%1 · decoded in %2 ms").arg(segmenter).arg(masks->decode_ms, 0, 'f', 1));
            document_.store_candidates(generation, std::move(masks.value()), segmenter);
        });
}

void MainWindow::preview_hover(const QPointF& point) {
    // Hover preview: the mask the prompts would give with one more object point under the
    // cursor. Channel 1 is latest-wins, so a fast mouse costs one decode at a time.
    if (!image_id_ || model_id_.empty() || video_->active()) return;
    editing::PromptState state = document_.prompts();
    state.points.push_back({point.x(), point.y(), 1});
    const uint64_t generation = document_.prompts().generation;
    engine::when_finished(
        this,
        engine_.decode(image_id_, model_id_, annotating::to_sam_prompt(state.points, state.box),
                       /*channel=*/1),
        [this, generation](Result<sam::SamMaskSet> masks) {
            // Stale if the prompts changed meanwhile; errors only mean "no preview".
            if (!masks || document_.prompts().generation != generation) return;
            canvas_->show_mask(masks->masks[masks->best_index]);
        });
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile()) return;
    open_path(urls.first().toLocalFile());
    event->acceptProposedAction();
}

void MainWindow::open_path(const QString& path) {
    if (QFileInfo(path).isDir()) {
        open_folder(path);
    } else if (kVideoSuffixes.contains(QFileInfo(path).suffix().toLower())) {
        video_->open_video(path);
    } else {
        open_image(path);
    }
}

cv::Mat MainWindow::subject_matte() const {
    cv::Mat mask = document_.current_mask();
    if (!mask.empty()) return mask;
    const editing::SegmentObject* selected = document_.object(objects_dock_->selected_object_id());
    if (selected && !selected->mask.empty()) return selected->mask;
    for (const editing::SegmentObject& object : document_.objects()) {
        if (!object.visible || object.mask.empty()) continue;
        mask = mask.empty() ? object.mask.clone() : (mask | object.mask);
    }
    return mask;
}

void MainWindow::refresh_masks() {
    canvas_->show_mask(document_.current_mask());
    const cv::Mat subject = subject_matte();
    background_panel_->set_sam_mask(subject);
    effects_panel_->set_matte(subject);
    candidates_->show_candidates(
        document_.current_candidates(), document_.current_candidate_index(),
        document_.current_segmenter() != engine::Engine::kBuiltinSegmenterName);
    if (document_.current_candidates()) emit masks_shown();
}

void MainWindow::refresh_objects() {
    canvas_->show_objects(document_.objects());
    const cv::Mat subject = subject_matte();
    background_panel_->set_sam_mask(subject);
    effects_panel_->set_matte(subject);
    objects_dock_->show_objects(document_.objects());
}

void MainWindow::set_status(const QString& text) {
    status_->setText(text);
}

void MainWindow::on_panel_export(const QString& error) {
    if (!error.isEmpty()) return show_error(tr("Export failed: %1").arg(error));
    set_status(tr("Exported"));
}
QString MainWindow::status_text() const {
    return status_->text();
}

void MainWindow::choose_and_open_image() {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open Image"), QString(),
                                     tr("Images (*.png *.jpg *.jpeg *.bmp *.gif *.ppm *.pgm *.tif "
                                        "*.tiff *.webp);;All files (*)"));
    if (!path.isEmpty()) open_image(path);
}

void MainWindow::choose_and_open_folder() {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Open Folder"));
    if (!folder.isEmpty()) open_folder(folder);
}

}  // namespace ps::ui
