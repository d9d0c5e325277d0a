// Stylised effects: a thumbnail strip rendered in the background, the chosen effect's
// parameters, the target (all / object / background) and a live preview; export recomputes at
// full resolution. All image work runs on the engine's pool, latest-wins while sliders move.
#pragma once

#include <QDockWidget>

#include <opencv2/core/mat.hpp>

#include <map>
#include <string>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QListWidget;

namespace ps::engine {
class Engine;
}

namespace ps::ui {

class EffectsPanel : public QDockWidget {
    Q_OBJECT
  public:
    explicit EffectsPanel(engine::Engine& engine, QWidget* parent = nullptr);

    // The image to restyle (full resolution) and the subject matte at that size (may be empty:
    // then only target "all" is offered).
    void set_image(const cv::Mat& full_rgb);
    void set_matte(const cv::Mat& matte_u8);
    // Non-empty: effects have nothing to work on (a video is open); the controls are disabled
    // and `reason` shows in place of the preview. Empty: usable again.
    void set_unavailable(const QString& reason);
    bool available() const { return unavailable_reason_.isEmpty(); }

    void choose_effect(const QString& name);
    void set_parameter(const QString& name, const QString& value);  // as the form would
    void set_target(const QString& target);                         // all / object / background
    QString effect() const { return effect_; }
    std::vector<std::string> assignments() const;      // "k=v" of the form's current values
    QImage preview() const { return preview_image_; }  // null while there is none
    QString target() const;
    // Whether the preview is to be shown on the main canvas (the user's choice; turned on when
    // the user picks an effect or a target).
    bool shows_on_canvas() const;
    void set_shows_on_canvas(bool on);
    int thumbnails_ready() const { return thumbnails_ready_; }

    // Recomputes at full resolution on the engine's pool and writes a PNG atomically;
    // export_finished follows with an error message or "".
    void export_result(const QString& path);

  signals:
    void preview_ready();
    void thumbnails_done();
    void export_finished(const QString& error);
    void canvas_preview_changed();  // the preview or the "on canvas" choice changed

  private:
    void rebuild_form();
    void show_problem(const QString& message);
    void request_preview();
    void render_thumbnails();
    void clear_preview(const QString& text);
    cv::Mat display_copy(const cv::Mat& image) const;

    engine::Engine& engine_;
    QListWidget* strip_ = nullptr;
    QFormLayout* form_ = nullptr;
    QWidget* form_host_ = nullptr;
    QComboBox* target_ = nullptr;
    QLabel* preview_label_ = nullptr;
    QLabel* status_ = nullptr;
    QCheckBox* on_canvas_ = nullptr;
    std::map<std::string, QWidget*> editors_;
    QString effect_ = "bw";
    cv::Mat full_, display_, matte_;  // matte_: as given (work size)
    QImage preview_image_;
    QString unavailable_reason_;
    int thumbnails_ready_ = 0;
    int generation_ = 0;
    int thumbnail_generation_ = 0;  // thumbnails still coming of an earlier image are dropped
};

}  // namespace ps::ui
