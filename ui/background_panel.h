// Background removal: a matte from any installed background-removal model (U²-Net, ISNet, and
// the families after them, through Engine::matte), the current SAM mask or the built-in GrabCut,
// refinement controls, a background choice and a before/after split preview; the pipeline after the
// matte is core's (image/background.h), shared with `remove-bg`. Image work runs on the engine's
// pool, latest-wins; export recomputes at full resolution.
#pragma once

#include <QDockWidget>

#include <opencv2/core/mat.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "image/matte_refine.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSlider;
class QSpinBox;

namespace ps::engine {
class Engine;
struct DiscoveredCheckpoint;
}  // namespace ps::engine

namespace ps::ui {

struct Background;

class BackgroundPanel : public QDockWidget {
    Q_OBJECT
  public:
    explicit BackgroundPanel(engine::Engine& engine, QWidget* parent = nullptr);
    ~BackgroundPanel() override;

    // An image the engine has open (the window's): the panel reads its pixels and runs mattes on
    // it, never opening a second copy; 0 clears. The window keeps it open while it is shown.
    void set_image(int engine_image_id);
    void set_sam_mask(const cv::Mat& mask_u8);  // the current mask (any size), or empty
    // While the window shows no still image (a video): the controls disabled, `reason` where the
    // preview was and nothing of the image before kept; "" enables them again.
    void set_unavailable(const QString& reason);
    bool available() const { return unavailable_reason_.isEmpty(); }
    // Background-removal checkpoints found in the model folders (engine::discover_checkpoints):
    // each usable one becomes an entry of "Matte from", "ISNet · isnet-general-use.pth · 176 MB ·
    // 1024²"; listed files stay listed. A model loads when its entry is first chosen and stays
    // loaded, so switching back to it is instant.
    void add_matting_models(const std::vector<engine::DiscoveredCheckpoint>& found);
    // Lists this checkpoint (if it is not yet) and chooses it, which loads it through the engine.
    void set_matting_checkpoint(const QString& path);

    // "model" (the chosen checkpoint), "sam", "grabcut"; set_source("model") chooses the last
    // chosen checkpoint, else the first listed.
    void set_source(const QString& source);
    QString source() const;
    QString model_path() const;  // the chosen entry's checkpoint; "" for SAM and GrabCut
    void set_background(const QString& kind);  // "transparent", "colour", "blurred", "image"
    image::RefineOptions refine_options() const;
    int split_percent() const;

    cv::Mat display_matte() const { return matte_display_; }  // CV_8UC1, display size
    QImage preview() const { return preview_image_; }         // the dock's before | after thumbnail
    // The result alone at display size (RGBA results over a checkerboard); null while none.
    QImage result_image() const { return result_image_; }
    // Whether the result is to be shown on the main canvas (the user's choice; turned on when
    // the user changes any control of the panel).
    bool shows_on_canvas() const;
    void set_shows_on_canvas(bool on);
    void set_split_percent(int percent);  // the before / after line, also dragged on the canvas
    QString status_text() const;

    // Full-resolution export: the composite as chosen (RGBA for "transparent") and optionally
    // the 8-bit matte; export_finished follows with an error or "".
    void export_result(const QString& path, const QString& matte_path = QString());

  signals:
    void model_ready(const QString& description);
    void matte_ready();
    void preview_ready();
    void export_finished(const QString& error);
    void canvas_preview_changed();  // the result or the "on canvas" choice changed
    void split_changed(int percent);

  private:
    // The matte of the current source at display size (longest_side_px > 0) or full resolution
    // (0), delivered to `done` on the GUI thread.
    void matte_then(int longest_side_px, int channel, std::function<void(Result<cv::Mat>)> done);
    void request_matte();
    void request_preview();
    void show_preview();
    void show_problem(const QString& message);
    void user_changed_something();
    Background chosen_background() const;

    void source_changed();
    void load_chosen_model();
    int add_model_entry(const QString& path, const QString& label, const QString& tooltip);

    engine::Engine& engine_;
    std::map<QString, std::string> loaded_;  // checkpoint path -> the engine's model id
    QString last_model_path_;
    int image_id_ = 0;  // the engine's image (owned by the window)
    QString unavailable_reason_;
    QWidget* controls_ = nullptr;  // everything the user sets; the preview and status are apart
    QComboBox* source_ = nullptr;
    QComboBox* background_ = nullptr;
    QLineEdit* colour_ = nullptr;
    QLineEdit* background_image_ = nullptr;
    QCheckBox* hard_alpha_ = nullptr;
    QSlider* threshold_ = nullptr;
    QSpinBox* grow_ = nullptr;
    QSpinBox* feather_ = nullptr;
    QCheckBox* fill_holes_ = nullptr;
    QSpinBox* specks_ = nullptr;
    QCheckBox* edge_refine_ = nullptr;
    QCheckBox* decontaminate_ = nullptr;
    QSlider* split_ = nullptr;
    QLabel* preview_label_ = nullptr;
    QLabel* status_ = nullptr;
    QCheckBox* on_canvas_ = nullptr;
    QImage result_image_;
    cv::Mat full_, display_, sam_mask_, matte_display_, composite_display_;
    QImage preview_image_;
    int matte_generation_ = 0, preview_generation_ = 0;
};

}  // namespace ps::ui
