// The timeline under the canvas in video mode: a strip of thumbnails with the frames that hold
// prompts and the frames already tracked marked under it, a play / pause button, a slider to
// scrub and the frame number. It shows frames and asks for them; it reads no video itself.
#pragma once

#include <QHash>
#include <QImage>
#include <QSet>
#include <QVector>
#include <QWidget>

class QLabel;
class QSlider;
class QSpinBox;
class QToolButton;

namespace ps::ui {

// The thumbnails and the marks, painted: one slot per thumbnail width across the whole video,
// each showing the frame at its position. A press or a drag asks for the frame under the mouse.
class FilmStrip : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kThumbWidthPx = 64, kThumbHeightPx = 40, kMarkBarPx = 10;
    static constexpr int kMaxCachedThumbs = 512;  // about 10 MB of 64x40 RGB images

    explicit FilmStrip(QWidget* parent = nullptr);
    void set_frame_count(int frames);
    void set_current(int frame);
    void set_thumbnail(int frame, const QImage& thumb);
    void set_marks(const QSet<int>& prompted, const QSet<int>& tracked);
    // The frames the visible slots show; their thumbnails are the only ones worth making.
    QVector<int> visible_frames() const;
    bool has_thumbnail(int frame) const { return thumbs_.contains(frame); }
    int frame_at(int x) const;
    int x_of(int frame) const;
    QSize sizeHint() const override;

  signals:
    void frame_requested(int frame);
    void thumbnails_needed(const QVector<int>& frames);

  protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

  private:
    void ask_for_missing();

    int frames_ = 0;
    int current_ = 0;
    QHash<int, QImage> thumbs_;
    QSet<int> prompted_, tracked_;
};

class VideoTimeline : public QWidget {
    Q_OBJECT
  public:
    explicit VideoTimeline(QWidget* parent = nullptr);

    void set_frame_count(int frames);  // 0: no video (the timeline is disabled)
    int frame_count() const { return frames_; }
    void set_current(int frame);  // moves the slider and the field without asking again
    int current() const { return current_; }
    void set_playing(bool playing);
    void set_marks(const QSet<int>& prompted, const QSet<int>& tracked);
    FilmStrip* strip() const { return strip_; }
    QSlider* slider() const { return slider_; }
    QSpinBox* frame_field() const { return field_; }
    QToolButton* play_button() const { return play_; }

  signals:
    void frame_requested(int frame);
    void play_toggled();

  private:
    void request(int frame);

    FilmStrip* strip_ = nullptr;
    QToolButton* play_ = nullptr;
    QSlider* slider_ = nullptr;
    QSpinBox* field_ = nullptr;
    QLabel* count_ = nullptr;
    int frames_ = 0;
    int current_ = 0;
    bool updating_ = false;
};

}  // namespace ps::ui
