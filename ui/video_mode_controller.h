// Video mode of the main window (SAM 2.1 click-to-track): a video or a folder of frames on the
// canvas with a timeline under it, objects prompted by clicks on any frame, propagation forward
// and backward with live preview and a cancel that keeps what is done, every prompt and tracked
// frame saved as it comes, and the exports. It sees the window only through a VideoContext.
#pragma once

#include <QObject>
#include <QPointF>
#include <QRectF>
#include <QSet>
#include <QString>
#include <QVector>

#include <opencv2/core/mat.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "video_annotations.h"

class QAction;
class QMainWindow;
class QMenu;
class QTimer;
class QPushButton;

namespace ps::engine {
class Engine;
class TrackingSession;
}  // namespace ps::engine

namespace ps::sam2 {
struct Sam2VideoMasks;
}

namespace ps::ui {

class ImageCanvas;
class VideoExportDialog;
class VideoObjectsDock;
class VideoStore;
class VideoTimeline;

// What the video mode needs from the window, and nothing more.
struct VideoContext {
    QMainWindow* window = nullptr;  // parent of the dock, the dialogs and the Video menu
    ImageCanvas* canvas = nullptr;
    VideoTimeline* timeline = nullptr;      // under the canvas; shown in video mode only
    std::function<std::string()> model_id;  // the loaded SAM model; empty for GrabCut
    std::function<QString()> model_name;
    std::function<void(const QString&)> show_status;  // progress: the status bar
    std::function<void(const QString&)> show_error;   // needs attention: the banner
    std::function<void()> leave_image;  // the window closes its image before a video shows
    // In a project, a new object takes the current label's name and colour (may be empty).
    std::function<void(VideoObject&)> style_new_object;
};

class VideoModeController : public QObject {
    Q_OBJECT
  public:
    enum class Direction { Forward, Backward, Both };

    VideoModeController(VideoContext context, engine::Engine& engine, QObject* parent = nullptr);
    ~VideoModeController() override;

    void add_file_actions(QMenu* file);
    QMenu* video_menu() const { return menu_; }
    VideoObjectsDock* objects_dock() const { return dock_; }

    // A video file or a folder of frames; video_opened or video_failed follows.
    void open_video(const QString& path);
    void close_video();  // back to image mode
    bool active() const { return frames_ != nullptr; }
    bool busy() const { return pending_ > 0 || propagating_ || !saves_.empty(); }
    bool propagating() const { return propagating_; }
    QString video_path() const { return path_; }
    int frame_count() const { return frame_count_; }
    int current_frame() const { return current_; }
    const VideoAnnotations& annotations() const { return annotations_; }
    // The current frame's mask of an object as shown (CV_8UC1), empty when it has none.
    cv::Mat mask_of(int object_id, int frame) const;

    // Canvas gestures while a video is shown: prompts of the selected object on this frame.
    void add_point(const QPointF& point, int label);
    void add_box(const QRectF& box);
    void move_point(int index, const QPointF& point);
    void remove_point(int index);
    void escape();  // cancels a propagation, else clears this frame's prompts of the object

    void go_to_frame(int frame);
    void step(int delta);
    void toggle_play();
    void propagate(Direction direction);
    void cancel_propagation();
    int add_object();  // a new object, selected; its id

    // Export Video Annotations…: window-modal, non-blocking (QDialog::open), deleted when
    // closed; nullptr without a video or a store.
    VideoExportDialog* open_export_dialog();

  signals:
    void video_opened(const QString& path);
    void video_closed();  // back to image mode (an image opened, Close Video, another video)
    void video_failed(const QString& message);
    void frame_shown(int frame);
    void masks_shown(int frame);  // a prompt's answer is on screen
    void propagation_finished(const QString& summary);

  private:
    struct DisplayFrames;
    struct Relay;
    struct Save {
        std::shared_ptr<VideoStore> store;
        std::function<Status(VideoStore&)> write;
        std::function<void()> then;
    };
    struct Pass {
        std::optional<int64_t> start;
        bool reverse = false;
    };
    void build_actions();
    void set_actions_enabled();
    void on_opened(const QString& path, std::shared_ptr<DisplayFrames> frames, cv::Mat first,
                   std::shared_ptr<VideoStore> store, VideoAnnotations saved,
                   const QString& store_problem);
    void read_frame(int frame);
    void show_frame_image(int frame, const cv::Mat& rgb);
    void make_thumbnails(const QVector<int>& frames);
    void refresh_overlay();
    void refresh_marks();
    void refresh_objects();
    void update_prompt(int64_t frame, int object_id, FramePrompt prompt);
    void send_prompt(int64_t frame, int object_id);
    // Runs `then(true)` once a tracking session with the window's model is open (opening it
    // first, and replaying the saved prompts into it), or `then(false)` after saying why not.
    void with_session(std::function<void(bool)> then);
    // Saves a frame's masks, then shows them and calls `shown`.
    void apply_masks(int64_t frame, const FrameMasks& masks, std::function<void()> shown = {});
    // Queues a write to the store (none: `then` at once); `then` runs once it is written.
    void save(std::function<Status(VideoStore&)> write, std::function<void()> then = {});
    void run_next_save();
    void run_next_pass();
    void on_tracked(int generation, int64_t frame, FrameMasks masks);
    int selected_object() const;

    VideoContext context_;
    engine::Engine& engine_;
    VideoObjectsDock* dock_ = nullptr;
    QMenu* menu_ = nullptr;
    QAction* open_video_ = nullptr;
    QAction* open_folder_ = nullptr;
    QAction* export_ = nullptr;
    QAction* close_ = nullptr;
    std::vector<QAction*> video_actions_;  // enabled in video mode only
    QTimer* play_timer_ = nullptr;
    QPushButton* cancel_button_ = nullptr;

    QString path_;
    std::shared_ptr<DisplayFrames> frames_;  // display and thumbnails (the session has its own)
    std::shared_ptr<VideoStore> store_;
    bool store_warned_ = false;
    std::deque<Save> saves_;  // the front one is running
    VideoAnnotations annotations_;
    int frame_count_ = 0;
    double fps_ = 0;
    int current_ = 0;
    int generation_ = 0;  // bumped per opened video: late answers for an older one are dropped
    int reading_ = -1;    // the frame being read for display, -1 when none
    int wanted_ = -1;     // the frame to read next
    QSet<int> thumbs_requested_;

    std::shared_ptr<engine::TrackingSession> session_;
    std::string session_model_;
    bool session_opening_ = false;
    std::vector<std::function<void(bool)>> waiting_for_session_;
    std::shared_ptr<Relay> relay_;

    bool propagating_ = false;
    std::vector<Pass> passes_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    int pass_total_ = 0, pass_done_ = 0, run_done_ = 0;
    bool cancelled_ = false;
    int pending_ = 0;
};

}  // namespace ps::ui
