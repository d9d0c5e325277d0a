// Video mode: frames read on the engine's pool, prompts and propagation through the engine's
// tracking session, every answer saved through the VideoStore before it is shown.
#include "video_mode_controller.h"

#include "engine/engine.h"
#include "engine/future_watch.h"
#include "engine/tracking_session.h"
#include "video/frame_source.h"
#include "video/frame_tracking.h"

#include <algorithm>

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLayout>
#include <QMainWindow>
#include <QMenu>
#include <QPushButton>
#include <QTimer>

#include <opencv2/core.hpp>

#include <mutex>

#include "image_canvas.h"
#include "video_export_dialog.h"
#include "video_objects_dock.h"
#include "video_store.h"
#include "video_timeline.h"

namespace ps::ui {
namespace {

const QColor kObjectColours[] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                 {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}};

QImage to_qimage(const cv::Mat& rgb) {
    return QImage(rgb.data, rgb.cols, rgb.rows, int(rgb.step[0]), QImage::Format_RGB888).copy();
}

QAction* make_action(QObject* parent, const QString& text, const QKeySequence& key,
                     const QString& name) {
    auto* action = new QAction(text, parent);
    action->setShortcut(key);
    action->setObjectName(name);
    return action;
}

// Masks of a tracked frame as RLE, made where the answer arrives (the device thread for
// propagation): the GUI thread then only stores them.
FrameMasks encode_masks(const sam2::Sam2VideoMasks& masks) {
    FrameMasks out;
    for (const sam2::Sam2ObjectMask& object : masks.objects) {
        const cv::Mat inside = object.mask();
        ObjectMask& mask = out[object.object_id];
        mask.rle = annotation::rle_encode(inside);
        if (cv::countNonZero(inside) == 0) continue;
        // The mean probability inside: sigmoid(logit) = 1 / (1 + exp(-logit)).
        cv::Mat probability;
        cv::exp(-object.logits, probability);
        probability = 1.0 / (1.0 + probability);
        mask.score = float(cv::mean(probability, inside)[0]);
    }
    return out;
}

}  // namespace

// The display's own reader (the session reads frames on the device thread from another one): one
// pool task at a time uses it.
struct VideoModeController::DisplayFrames {
    std::mutex mutex;
    std::unique_ptr<video::FrameSource> source;
    Result<cv::Mat> frame(int64_t index) {
        const std::lock_guard lock(mutex);
        return source->frame(index);
    }
};

// Where the device thread posts tracked frames: cleared by the destructor, so a propagation that
// outlives the controller posts nowhere.
struct VideoModeController::Relay {
    std::mutex mutex;
    VideoModeController* target = nullptr;
};

VideoModeController::VideoModeController(VideoContext context, engine::Engine& engine,
                                         QObject* parent)
    : QObject(parent), context_(std::move(context)), engine_(engine) {
    relay_ = std::make_shared<Relay>();
    relay_->target = this;
    dock_ = new VideoObjectsDock(context_.window);
    context_.window->addDockWidget(Qt::RightDockWidgetArea, dock_);
    dock_->hide();
    play_timer_ = new QTimer(this);
    connect(play_timer_, &QTimer::timeout, this, [this] {
        if (current_ + 1 >= frame_count_) return toggle_play();
        step(1);
    });
    cancel_button_ = new QPushButton(tr("Cancel Propagation"), context_.timeline);
    cancel_button_->setObjectName("video_cancel");
    cancel_button_->setToolTip(tr("Stop; every frame tracked so far is kept (Esc)"));
    cancel_button_->hide();
    if (auto* row = context_.timeline->layout()->itemAt(1)->layout())
        row->addWidget(cancel_button_);
    connect(cancel_button_, &QPushButton::clicked, this, &VideoModeController::cancel_propagation);
    context_.timeline->hide();
    build_actions();
    connect(context_.timeline, &VideoTimeline::frame_requested, this,
            &VideoModeController::go_to_frame);
    connect(context_.timeline, &VideoTimeline::play_toggled, this,
            &VideoModeController::toggle_play);
    connect(context_.timeline->strip(), &FilmStrip::thumbnails_needed, this,
            &VideoModeController::make_thumbnails);
    connect(dock_, &VideoObjectsDock::add_requested, this, [this] { add_object(); });
    connect(dock_, &VideoObjectsDock::selection_changed, this, [this] { refresh_overlay(); });
    connect(dock_, &VideoObjectsDock::rename_requested, this, [this](int id, const QString& typed) {
        VideoObject* object = annotations_.object(id);
        const QString name = typed.trimmed();
        if (!object || object->name == name) return;
        if (name.isEmpty()) {
            context_.show_error(tr("An object needs a name: \"%1\" is kept").arg(object->name));
            return refresh_objects();
        }
        object->name = name;
        save([object = *object](VideoStore& store) { return store.save_object(object); });
        refresh_objects();
    });
    connect(dock_, &VideoObjectsDock::delete_requested, this, [this](int id) {
        if (propagating_) return context_.show_status(tr("Wait for the propagation to finish"));
        annotations_.remove_object(id);
        save([id](VideoStore& store) { return store.delete_object(id); });
        // The session forgets the object's prompts: a new one replays the rest.
        session_.reset();
        refresh_objects();
        refresh_marks();
        refresh_overlay();
    });
}

VideoModeController::~VideoModeController() {
    {
        const std::lock_guard lock(relay_->mutex);
        relay_->target = nullptr;
    }
    if (cancel_) cancel_->store(true);
    // Saves still queued are written now (the first may be running on the pool: the store
    // locks itself); what was shown must be on disk when the window goes.
    if (!saves_.empty()) saves_.pop_front();
    for (Save& queued : saves_) (void)queued.write(*queued.store);
}

void VideoModeController::build_actions() {
    open_video_ = make_action(this, tr("Open &Video…"),
                              QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_V), "open_video");
    connect(open_video_, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            context_.window, tr("Open Video"), QString(),
            tr("Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"));
        if (!path.isEmpty()) open_video(path);
    });
    open_folder_ =
        make_action(this, tr("Open Video Frames Fol&der…"), QKeySequence(), "open_video_frames");
    connect(open_folder_, &QAction::triggered, this, [this] {
        const QString folder =
            QFileDialog::getExistingDirectory(context_.window, tr("Open Video Frames Folder"));
        if (!folder.isEmpty()) open_video(folder);
    });
    export_ = make_action(this, tr("Export Video Annotations…"), QKeySequence(),
                          "export_video_annotations");
    connect(export_, &QAction::triggered, this, &VideoModeController::open_export_dialog);

    menu_ = new QMenu(tr("&Video"), context_.window);
    auto add = [this](const QString& text, const QKeySequence& key, const QString& name,
                      auto slot) {
        QAction* action = make_action(this, text, key, name);
        connect(action, &QAction::triggered, this, slot);
        menu_->addAction(action);
        video_actions_.push_back(action);
        return action;
    };
    add(tr("&Previous Frame"), QKeySequence(Qt::Key_Left), "video_previous", [this] { step(-1); });
    add(tr("&Next Frame"), QKeySequence(Qt::Key_Right), "video_next", [this] { step(1); });
    add(tr("Play / &Pause"), QKeySequence(Qt::Key_Space), "video_play_pause",
        [this] { toggle_play(); });
    menu_->addSeparator();
    add(tr("New &Object"), QKeySequence(Qt::CTRL | Qt::Key_N), "video_new_object",
        [this] { add_object(); });
    add(tr("Propagate &Forward"), QKeySequence(Qt::Key_T), "video_propagate_forward",
        [this] { propagate(Direction::Forward); });
    add(tr("Propagate &Backward"), QKeySequence(Qt::SHIFT | Qt::Key_T), "video_propagate_backward",
        [this] { propagate(Direction::Backward); });
    add(tr("Propagate Both &Ways"), QKeySequence(Qt::CTRL | Qt::Key_T), "video_propagate_both",
        [this] { propagate(Direction::Both); });
    add(tr("&Cancel Propagation"), QKeySequence(), "video_cancel_propagation",
        [this] { cancel_propagation(); });
    menu_->addSeparator();
    close_ = add(tr("C&lose Video"), QKeySequence(), "close_video", [this] { close_video(); });
    video_actions_.push_back(export_);
    set_actions_enabled();
}

void VideoModeController::add_file_actions(QMenu* file) {
    file->addAction(open_video_);
    file->addAction(open_folder_);
    file->addAction(export_);
}

void VideoModeController::set_actions_enabled() {
    // Off outside video mode: Left, Right and Space then stay the canvas's and the lists'.
    for (QAction* action : video_actions_) action->setEnabled(active());
}

void VideoModeController::open_video(const QString& path) {
    ++pending_;
    context_.show_status(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    struct Opened {
        std::shared_ptr<DisplayFrames> frames;
        cv::Mat first;
        std::shared_ptr<VideoStore> store;
        VideoAnnotations saved;
        QString store_problem;
    };
    engine::when_finished(
        this,
        engine_.run_task<Opened>(
            engine::Priority::Interactive,
            [path]() -> Result<Opened> {
                auto source = video::FrameSource::open(path.toStdString());
                if (!source) return source.error();
                Opened opened;
                opened.frames = std::make_shared<DisplayFrames>();
                opened.frames->source = std::move(*source);
                const video::FrameSourceInfo info = opened.frames->source->info();
                if (info.frames <= 0)
                    return Error{ErrorKind::Format, info.label + ": no frames to show"};
                auto first = opened.frames->frame(0);
                if (!first) return first.error();
                opened.first = std::move(*first);
                // A video whose annotation cannot be saved still opens: the banner says so.
                auto store = open_video_store(path, int(info.frames), info.width, info.height);
                if (store) {
                    auto saved = (*store)->load();
                    if (saved) {
                        opened.saved = std::move(*saved);
                        opened.store = std::move(*store);
                    } else {
                        opened.store_problem = QString::fromStdString(saved.message());
                    }
                } else {
                    opened.store_problem = QString::fromStdString(store.message());
                }
                return opened;
            }),
        [this, path](Result<Opened> opened) {
            --pending_;
            if (!opened) {
                const QString message = QString::fromStdString(opened.message());
                context_.show_error(tr("Cannot open the video: %1").arg(message));
                emit video_failed(message);
                return;
            }
            on_opened(path, opened->frames, opened->first, opened->store, opened->saved,
                      opened->store_problem);
        });
}

void VideoModeController::on_opened(const QString& path, std::shared_ptr<DisplayFrames> frames,
                                    cv::Mat first, std::shared_ptr<VideoStore> store,
                                    VideoAnnotations saved, const QString& store_problem) {
    close_video();
    context_.leave_image();
    ++generation_;
    path_ = path;
    frames_ = std::move(frames);
    store_ = std::move(store);
    store_warned_ = false;
    annotations_ = std::move(saved);
    const video::FrameSourceInfo& info = frames_->source->info();
    frame_count_ = int(info.frames);
    fps_ = info.fps > 0 ? info.fps : 10;
    current_ = 0;
    context_.timeline->set_frame_count(frame_count_);
    context_.timeline->show();
    dock_->show();
    dock_->raise();
    refresh_objects();
    if (!annotations_.objects.empty()) dock_->select_object(annotations_.objects.front().id);
    refresh_marks();
    show_frame_image(0, first);
    set_actions_enabled();
    context_.window->setWindowTitle(QFileInfo(path).fileName() + " — Photosynth");
    if (!store_problem.isEmpty()) {
        context_.show_error(tr("Video annotations will not be saved: %1").arg(store_problem));
    } else {
        context_.show_status(tr("%1 · %2 frames · %3 × %4 px")
                                 .arg(QString::fromStdString(info.label))
                                 .arg(frame_count_)
                                 .arg(info.width)
                                 .arg(info.height));
    }
    emit video_opened(path);
}

void VideoModeController::close_video() {
    if (!active()) return;
    if (cancel_) cancel_->store(true);
    play_timer_->stop();
    context_.timeline->set_playing(false);
    ++generation_;
    session_.reset();
    session_model_.clear();
    waiting_for_session_.clear();
    session_opening_ = false;
    propagating_ = false;
    passes_.clear();
    cancel_button_->hide();
    frames_.reset();
    store_.reset();
    annotations_ = {};
    path_.clear();
    frame_count_ = 0;
    reading_ = wanted_ = -1;
    thumbs_requested_.clear();
    context_.timeline->set_frame_count(0);
    context_.timeline->hide();
    dock_->show_objects({});
    dock_->hide();
    set_actions_enabled();
    emit video_closed();
}

cv::Mat VideoModeController::mask_of(int object_id, int frame) const {
    const auto by_frame = annotations_.masks.find(frame);
    if (by_frame == annotations_.masks.end()) return {};
    const auto mask = by_frame->second.find(object_id);
    return mask == by_frame->second.end() ? cv::Mat() : annotation::rle_decode(mask->second.rle);
}

// ---- frames on screen -------------------------------------------------------------------

void VideoModeController::go_to_frame(int frame) {
    if (!active()) return;
    current_ = std::clamp(frame, 0, frame_count_ - 1);
    context_.timeline->set_current(current_);
    refresh_overlay();  // the masks of the new frame show at once, over the old picture
    read_frame(current_);
}

void VideoModeController::step(int delta) {
    if (active()) go_to_frame(current_ + delta);
}

void VideoModeController::read_frame(int frame) {
    // One read at a time: scrubbing asks for many frames, only the newest is worth decoding.
    wanted_ = frame;
    if (reading_ >= 0) return;
    reading_ = frame;
    ++pending_;
    const int generation = generation_;
    engine::when_finished(
        this,
        engine_.run_task<cv::Mat>(engine::Priority::Interactive,
                                  [frames = frames_, frame] { return frames->frame(frame); }),
        [this, frame, generation](Result<cv::Mat> rgb) {
            --pending_;
            if (generation != generation_) return;
            reading_ = -1;
            if (!rgb) {
                context_.show_error(QString::fromStdString(rgb.message()));
                // The picture of the frame before must not stand for this one (a click would
                // prompt this frame over it): the unreadable frame shows black.
                if (frame == wanted_) {
                    const video::FrameSourceInfo& info = frames_->source->info();
                    show_frame_image(frame,
                                     cv::Mat(info.height, info.width, CV_8UC3, cv::Scalar::all(0)));
                }
            } else if (frame == wanted_) {
                show_frame_image(frame, *rgb);
            }
            if (wanted_ != frame) read_frame(wanted_);
        });
}

void VideoModeController::show_frame_image(int frame, const cv::Mat& rgb) {
    context_.canvas->set_frame(to_qimage(rgb));
    refresh_overlay();
    emit frame_shown(frame);
}

void VideoModeController::make_thumbnails(const QVector<int>& wanted) {
    if (!active()) return;
    QVector<int> frames;
    for (int frame : wanted)
        if (!thumbs_requested_.contains(frame)) frames.push_back(frame);
    if (frames.isEmpty()) return;
    for (int frame : frames) thumbs_requested_.insert(frame);
    using Thumbs = std::vector<std::pair<int, QImage>>;
    const int generation = generation_;
    // Batch priority: thumbnails wait behind the frame on screen and every model call.
    engine::when_finished(
        this,
        engine_.run_task<Thumbs>(
            engine::Priority::Batch,
            [source = frames_, frames]() -> Result<Thumbs> {
                Thumbs out;
                for (int frame : frames) {
                    auto rgb = source->frame(frame);
                    if (!rgb) continue;  // a gap in the strip, not an error
                    out.emplace_back(frame, to_qimage(*rgb).scaled(
                                                FilmStrip::kThumbWidthPx, FilmStrip::kThumbHeightPx,
                                                Qt::KeepAspectRatio, Qt::SmoothTransformation));
                }
                return out;
            }),
        [this, generation](Result<Thumbs> thumbs) {
            if (!thumbs || generation != generation_) return;
            for (const auto& [frame, image] : *thumbs)
                context_.timeline->strip()->set_thumbnail(frame, image);
        });
}

void VideoModeController::toggle_play() {
    if (!active()) return;
    if (play_timer_->isActive()) {
        play_timer_->stop();
    } else {
        if (current_ + 1 >= frame_count_) go_to_frame(0);
        play_timer_->start(int(1000 / fps_));
    }
    context_.timeline->set_playing(play_timer_->isActive());
}

void VideoModeController::refresh_overlay() {
    if (!active()) return;
    std::vector<editing::SegmentObject> shown;
    const auto by_frame = annotations_.masks.find(current_);
    for (const VideoObject& object : annotations_.objects) {
        if (by_frame == annotations_.masks.end()) break;
        const auto mask = by_frame->second.find(object.id);
        if (mask == by_frame->second.end() || annotation::rle_area(mask->second.rle) == 0) continue;
        editing::SegmentObject overlay;
        overlay.id = object.id;
        overlay.name = object.name;
        overlay.colour = object.colour;
        overlay.mask = annotation::rle_decode(mask->second.rle);
        shown.push_back(std::move(overlay));
    }
    context_.canvas->show_objects(shown);
    editing::PromptState prompts;
    const auto prompt = annotations_.prompts.find({current_, selected_object()});
    if (prompt != annotations_.prompts.end()) {
        prompts.points = prompt->second.points;
        prompts.box = prompt->second.box;
    }
    context_.canvas->show_prompts(prompts);
}

void VideoModeController::refresh_marks() {
    context_.timeline->set_marks(annotations_.prompted_frames(), annotations_.tracked_frames());
}

void VideoModeController::refresh_objects() {
    dock_->show_objects(annotations_.objects);
}

// ---- objects and prompts ----------------------------------------------------------------

int VideoModeController::selected_object() const {
    return dock_->selected_object_id();
}

int VideoModeController::add_object() {
    if (!active()) return -1;
    VideoObject object;
    object.id = annotations_.next_object_id();
    object.name = tr("Object %1").arg(object.id);
    object.colour = kObjectColours[(object.id - 1) % std::size(kObjectColours)];
    if (context_.style_new_object) context_.style_new_object(object);
    annotations_.objects.push_back(object);
    save([object](VideoStore& store) { return store.save_object(object); });
    refresh_objects();
    dock_->select_object(object.id);
    return object.id;
}

void VideoModeController::update_prompt(int64_t frame, int object_id, FramePrompt prompt) {
    annotations_.prompts[{frame, object_id}] = prompt;
    save([frame, object_id, prompt](VideoStore& store) {
        return store.save_prompt(frame, object_id, prompt);
    });
    refresh_marks();
    refresh_overlay();
    send_prompt(frame, object_id);
}

void VideoModeController::add_point(const QPointF& point, int label) {
    if (!active()) return;
    if (propagating_) return context_.show_status(tr("Wait for the propagation, or cancel it"));
    int object_id = selected_object();
    if (object_id < 0) object_id = add_object();
    FramePrompt prompt = annotations_.prompts[{current_, object_id}];
    prompt.points.push_back({point.x(), point.y(), label});
    update_prompt(current_, object_id, prompt);
}

void VideoModeController::add_box(const QRectF& box) {
    if (!active() || propagating_) return;
    int object_id = selected_object();
    if (object_id < 0) object_id = add_object();
    FramePrompt prompt = annotations_.prompts[{current_, object_id}];
    prompt.box = std::array<double, 4>{box.left(), box.top(), box.right(), box.bottom()};
    update_prompt(current_, object_id, prompt);
}

void VideoModeController::move_point(int index, const QPointF& point) {
    const auto found = annotations_.prompts.find({current_, selected_object()});
    if (!active() || propagating_ || found == annotations_.prompts.end()) return;
    FramePrompt prompt = found->second;
    if (index < 0 || index >= int(prompt.points.size())) return;
    prompt.points[size_t(index)].x = point.x();
    prompt.points[size_t(index)].y = point.y();
    update_prompt(current_, selected_object(), prompt);
}

void VideoModeController::remove_point(int index) {
    const auto found = annotations_.prompts.find({current_, selected_object()});
    if (!active() || propagating_ || found == annotations_.prompts.end()) return;
    FramePrompt prompt = found->second;
    if (index < 0 || index >= int(prompt.points.size())) return;
    prompt.points.erase(prompt.points.begin() + index);
    update_prompt(current_, selected_object(), prompt);
}

void VideoModeController::escape() {
    if (propagating_) return cancel_propagation();
    const auto found = annotations_.prompts.find({current_, selected_object()});
    if (found == annotations_.prompts.end() || found->second.empty()) {
        return dock_->select_object(-1);
    }
    update_prompt(current_, selected_object(), {});
}

void VideoModeController::send_prompt(int64_t frame, int object_id) {
    ++pending_;
    with_session([this, frame, object_id](bool ready) {
        if (!ready) {
            --pending_;
            return;
        }
        const FramePrompt prompt = annotations_.prompts[{frame, object_id}];
        QFuture<Result<sam2::Sam2VideoMasks>> answer =
            prompt.box              ? session_->add_box(frame, object_id,
                                                        {(*prompt.box)[0], (*prompt.box)[1], (*prompt.box)[2],
                                                         (*prompt.box)[3]},
                                                        prompt.points)
            : prompt.points.empty() ? session_->clear_prompts(frame, object_id)
                                    : session_->add_points(frame, object_id, prompt.points);
        const int generation = generation_;
        engine::when_finished(
            this, answer, [this, frame, generation](Result<sam2::Sam2VideoMasks> masks) {
                --pending_;
                if (generation != generation_) return;
                if (!masks) {
                    return context_.show_error(
                        tr("Tracking: %1").arg(QString::fromStdString(masks.message())));
                }
                apply_masks(frame, encode_masks(*masks),
                            [this, frame] { emit masks_shown(int(frame)); });
            });
    });
}

void VideoModeController::apply_masks(int64_t frame, const FrameMasks& masks,
                                      std::function<void()> shown) {
    // Saved first, then shown: what the user sees is on disk (a SIGKILL loses none of it).
    const int generation = generation_;
    save([frame, masks](VideoStore& store) { return store.save_masks(frame, masks); },
         [this, frame, masks, generation, shown = std::move(shown)] {
             if (generation != generation_) return;
             for (const auto& [id, mask] : masks) {
                 // An object deleted while this frame was saved stays deleted.
                 if (annotations_.object(id)) annotations_.masks[frame][id] = mask;
             }
             refresh_marks();
             if (frame == current_) refresh_overlay();
             if (shown) shown();
         });
}

void VideoModeController::save(std::function<Status(VideoStore&)> write,
                               std::function<void()> then) {
    if (!store_) {
        if (then) then();
        return;
    }
    // One write at a time on the engine's pool, in the order made (an atomic rewrite of
    // track.json or a synced append can take milliseconds: not on the GUI thread).
    saves_.push_back({store_, std::move(write), std::move(then)});
    if (saves_.size() == 1) run_next_save();
}

void VideoModeController::run_next_save() {
    if (saves_.empty()) return;
    Save& next = saves_.front();
    engine::when_finished(
        this,
        engine_.run_task<Ok>(engine::Priority::Interactive,
                             [store = next.store, write = next.write] { return write(*store); }),
        [this](Status written) {
            Save done = std::move(saves_.front());
            saves_.pop_front();
            if (!written && !store_warned_) {
                store_warned_ = true;  // once: later saves would say the same
                context_.show_error(tr("Video annotation not saved: %1")
                                        .arg(QString::fromStdString(written.message())));
            }
            if (done.then) done.then();
            run_next_save();
        });
}

// ---- the tracking session ---------------------------------------------------------------

void VideoModeController::with_session(std::function<void(bool)> then) {
    const std::string model = context_.model_id();
    if (session_ && session_model_ == model) return then(true);
    if (model.empty()) {
        context_.show_error(
            tr("Video tracking needs a SAM 2.1 model: choose one in Models ▸ "
               "Settings… (GrabCut cannot track)"));
        return then(false);
    }
    for (const engine::ModelInfo& info : engine_.models()) {
        if (info.id == model && info.family != "sam2") {
            context_.show_error(
                tr("Video tracking needs a SAM 2.1 model; %1 is a %2 model")
                    .arg(context_.model_name(), QString::fromStdString(info.family)));
            return then(false);
        }
    }
    waiting_for_session_.push_back(std::move(then));
    if (session_opening_) return;
    session_opening_ = true;
    session_.reset();
    context_.show_status(tr("Starting the tracker…"));
    const int generation = generation_;
    const QString path = path_;
    auto fail = [this](const QString& message) {
        session_opening_ = false;
        context_.show_error(tr("Tracking not started: %1").arg(message));
        auto waiting = std::move(waiting_for_session_);
        waiting_for_session_.clear();
        for (auto& callback : waiting) callback(false);
    };
    using Source = std::shared_ptr<video::FrameSource>;
    engine::when_finished(
        this,
        engine_.run_task<Source>(engine::Priority::Interactive,
                                 [path]() -> Result<Source> {
                                     auto source = video::FrameSource::open(path.toStdString());
                                     if (!source) return source.error();
                                     return Source(std::move(*source));
                                 }),
        [this, generation, model, fail](Result<Source> source) {
            if (generation != generation_) return;
            if (!source) return fail(QString::fromStdString(source.message()));
            engine::when_finished(
                this, video::open_tracking(engine_, model, *source),
                [this, generation, model,
                 fail](Result<std::shared_ptr<engine::TrackingSession>> session) {
                    if (generation != generation_) return;
                    if (!session) return fail(QString::fromStdString(session.message()));
                    session_opening_ = false;
                    session_ = *session;
                    session_model_ = model;
                    // The saved prompts first (calls run in the order made), so that tracking
                    // continues from what the user did before, this run or an earlier one.
                    for (const auto& [key, prompt] : annotations_.prompts) {
                        if (prompt.empty()) continue;
                        if (prompt.box) {
                            const auto& b = *prompt.box;
                            session_->add_box(key.first, key.second, {b[0], b[1], b[2], b[3]},
                                              prompt.points);
                        } else {
                            session_->add_points(key.first, key.second, prompt.points);
                        }
                    }
                    context_.show_status(tr("Tracker ready"));
                    auto waiting = std::move(waiting_for_session_);
                    waiting_for_session_.clear();
                    for (auto& callback : waiting) callback(true);
                });
        });
}

// ---- propagation ------------------------------------------------------------------------

void VideoModeController::propagate(Direction direction) {
    if (!active() || propagating_) return;
    if (annotations_.prompted_frames().isEmpty())
        return context_.show_status(tr("Click on an object first: nothing to propagate"));
    // From the frame on screen where it holds prompts or a tracked mask (a correction made
    // here re-tracks from here); else from the first prompted frame, as SAM 2 does.
    std::optional<int64_t> start;
    if (annotations_.prompted_frames().contains(current_) ||
        annotations_.tracked_frames().contains(current_))
        start = current_;
    // SAM 2 tracks nothing backward from frame 0: say so rather than "done: 0 frame(s)".
    const QSet<int> prompted = annotations_.prompted_frames();
    if (direction == Direction::Backward &&
        start.value_or(*std::min_element(prompted.begin(), prompted.end())) == 0)
        return context_.show_status(tr("Frame 0 is the first: nothing before it to track"));
    passes_.clear();
    if (direction != Direction::Backward) passes_.push_back({start, false});
    if (direction != Direction::Forward) passes_.push_back({start, true});
    propagating_ = true;
    cancelled_ = false;
    run_done_ = 0;
    play_timer_->stop();
    context_.timeline->set_playing(false);
    cancel_button_->show();
    with_session([this](bool ready) {
        if (!ready) {
            propagating_ = false;
            cancel_button_->hide();
            passes_.clear();
            return;
        }
        run_next_pass();
    });
}

void VideoModeController::run_next_pass() {
    if (passes_.empty() || cancelled_) {
        propagating_ = false;
        cancel_button_->hide();
        const QString summary =
            cancelled_
                ? tr("Propagation cancelled: %n frame(s) tracked are kept", nullptr, run_done_)
                : tr("Propagation done: %n frame(s) tracked", nullptr, run_done_);
        context_.show_status(summary);
        emit propagation_finished(summary);
        return;
    }
    const Pass pass = passes_.front();
    passes_.erase(passes_.begin());
    const int64_t from = pass.start.value_or(*std::min_element(
        annotations_.prompted_frames().begin(), annotations_.prompted_frames().end()));
    pass_total_ = pass.reverse ? int(from) + 1 : frame_count_ - int(from);
    pass_done_ = 0;
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    const int generation = generation_;
    sam2::Sam2PropagateOptions options;
    options.start_frame = pass.start;
    options.reverse = pass.reverse;
    options.cancel = cancel_.get();
    // The callback holds the cancel flag too: it lives as long as the device thread may read
    // the flag, even when this controller is gone first (the window closed mid-propagation).
    auto on_frame = [relay = relay_, generation,
                     cancel = cancel_](const sam2::Sam2VideoMasks& masks) {
        auto encoded = encode_masks(masks);
        const std::lock_guard lock(relay->mutex);
        if (!relay->target) return;
        QMetaObject::invokeMethod(
            relay->target,
            [target = relay->target, generation, frame = masks.frame,
             encoded = std::move(encoded)]() mutable {
                target->on_tracked(generation, frame, std::move(encoded));
            },
            Qt::QueuedConnection);
    };
    context_.show_status(tr("Propagating %1…").arg(pass.reverse ? tr("backward") : tr("forward")));
    engine::when_finished(
        this, session_->propagate(options, on_frame),
        [this, generation, cancel = cancel_](Status status) {
            if (generation != generation_) return;
            if (!status && status.error().kind == ErrorKind::Cancelled) {
                cancelled_ = true;
            } else if (!status) {
                context_.show_error(
                    tr("Propagation stopped: %1").arg(QString::fromStdString(status.message())));
                cancelled_ = true;
            }
            // Frames posted before the future resolved are delivered first:
            // queued in order on this thread.
            QTimer::singleShot(0, this, [this, generation] {
                if (generation == generation_) run_next_pass();
            });
        });
}

void VideoModeController::on_tracked(int generation, int64_t frame, FrameMasks masks) {
    if (generation != generation_) return;
    apply_masks(frame, masks);
    ++pass_done_;
    ++run_done_;
    context_.show_status(tr("Propagating: frame %1 of %2").arg(pass_done_).arg(pass_total_));
    // Live preview: the frame on screen follows the propagation.
    go_to_frame(int(frame));
}

void VideoModeController::cancel_propagation() {
    if (!propagating_) return;
    cancelled_ = true;
    if (cancel_) cancel_->store(true);
    context_.show_status(tr("Cancelling…"));
}

VideoExportDialog* VideoModeController::open_export_dialog() {
    if (!active()) return nullptr;
    if (!store_) {
        context_.show_error(tr("Nothing to export: this video's annotations are not saved"));
        return nullptr;
    }
    auto* dialog = new VideoExportDialog(engine_, store_, path_, context_.window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &VideoExportDialog::export_finished, this,
            [this](bool, const QString& message) { context_.show_status(message); });
    dialog->open();
    return dialog;
}

}  // namespace ps::ui
