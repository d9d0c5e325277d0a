// Timeline: thumbnails and marks painted from what the video mode hands it; gestures become
// frame requests.
#include "video_timeline.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QSlider>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace ps::ui {

FilmStrip::FilmStrip(QWidget* parent) : QWidget(parent) {
    setObjectName("video_film_strip");
    setMinimumHeight(kThumbHeightPx + kMarkBarPx);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setToolTip(tr("Click or drag to go to a frame · yellow: prompts · green: tracked"));
}

QSize FilmStrip::sizeHint() const {
    return {8 * kThumbWidthPx, kThumbHeightPx + kMarkBarPx};
}

void FilmStrip::set_frame_count(int frames) {
    frames_ = std::max(0, frames);
    current_ = 0;
    thumbs_.clear();
    prompted_.clear();
    tracked_.clear();
    ask_for_missing();
    update();
}

void FilmStrip::set_current(int frame) {
    current_ = frame;
    update();
}

void FilmStrip::set_thumbnail(int frame, const QImage& thumb) {
    // A bounded cache: the strip shows at most width / 64 frames, so dropping the rest when it
    // overflows (a long session of resizes) costs only their remaking.
    if (thumbs_.size() >= kMaxCachedThumbs) {
        const QVector<int> keep = visible_frames();
        for (auto it = thumbs_.begin(); it != thumbs_.end();)
            it = keep.contains(it.key()) ? std::next(it) : thumbs_.erase(it);
    }
    thumbs_.insert(frame, thumb);
    update();
}

void FilmStrip::set_marks(const QSet<int>& prompted, const QSet<int>& tracked) {
    prompted_ = prompted;
    tracked_ = tracked;
    update();
}

QVector<int> FilmStrip::visible_frames() const {
    QVector<int> out;
    if (frames_ <= 0) return out;
    const int slot_count = std::clamp(width() / kThumbWidthPx, 1, frames_);
    for (int i = 0; i < slot_count; ++i)
        out.push_back(
            slot_count == 1 ? 0 : int(std::lround(double(i) * (frames_ - 1) / (slot_count - 1))));
    return out;
}

int FilmStrip::frame_at(int x) const {
    if (frames_ <= 1) return 0;
    return std::clamp(int(std::lround(double(x) / std::max(1, width() - 1) * (frames_ - 1))), 0,
                      frames_ - 1);
}

int FilmStrip::x_of(int frame) const {
    if (frames_ <= 1) return 0;
    return int(std::lround(double(frame) / (frames_ - 1) * (width() - 1)));
}

void FilmStrip::ask_for_missing() {
    QVector<int> missing;
    for (int frame : visible_frames())
        if (!thumbs_.contains(frame)) missing.push_back(frame);
    if (!missing.isEmpty()) emit thumbnails_needed(missing);
}

void FilmStrip::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    ask_for_missing();
}

void FilmStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), QColor(30, 30, 30));
    if (frames_ <= 0) return;
    const QVector<int> shown = visible_frames();
    const double slot = double(width()) / shown.size();
    for (int i = 0; i < shown.size(); ++i) {
        const QRect cell(int(i * slot), 0, int(slot) - 1, kThumbHeightPx);
        const auto thumb = thumbs_.constFind(shown[i]);
        if (thumb != thumbs_.constEnd()) {
            painter.drawImage(cell, *thumb);
        } else {
            painter.fillRect(cell, QColor(60, 60, 60));
        }
    }
    const int bar = kThumbHeightPx;
    for (int frame : tracked_)
        painter.fillRect(QRect(x_of(frame), bar + 2, std::max(1, int(slot / 8)), kMarkBarPx - 4),
                         QColor(60, 200, 90));
    painter.setBrush(QColor(255, 210, 0));
    painter.setPen(Qt::NoPen);
    for (int frame : prompted_) {
        const int x = x_of(frame);
        const QPoint triangle[] = {{x - 4, bar + kMarkBarPx}, {x + 4, bar + kMarkBarPx}, {x, bar}};
        painter.drawPolygon(triangle, 3);
    }
    painter.setPen(QPen(Qt::white, 2));
    const int x = x_of(current_);
    painter.drawLine(x, 0, x, height());
}

void FilmStrip::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && frames_ > 0)
        emit frame_requested(frame_at(int(event->position().x())));
}

void FilmStrip::mouseMoveEvent(QMouseEvent* event) {
    if ((event->buttons() & Qt::LeftButton) && frames_ > 0)
        emit frame_requested(frame_at(int(event->position().x())));
}

VideoTimeline::VideoTimeline(QWidget* parent) : QWidget(parent) {
    setObjectName("video_timeline");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->setSpacing(2);
    strip_ = new FilmStrip(this);
    layout->addWidget(strip_);
    auto* row = new QHBoxLayout;
    play_ = new QToolButton(this);
    play_->setObjectName("video_play");
    play_->setFocusPolicy(Qt::NoFocus);  // Space on a focused button would press it twice
    slider_ = new QSlider(Qt::Horizontal, this);
    slider_->setObjectName("video_slider");
    slider_->setFocusPolicy(Qt::StrongFocus);
    slider_->setPageStep(10);
    field_ = new QSpinBox(this);
    field_->setObjectName("video_frame_field");
    field_->setKeyboardTracking(false);  // typing "12" asks for frame 12, not 1 then 12
    field_->setToolTip(tr("Frame number (from 0); Enter goes there"));
    count_ = new QLabel(this);
    row->addWidget(play_);
    row->addWidget(slider_, 1);
    row->addWidget(field_);
    row->addWidget(count_);
    layout->addLayout(row);
    set_playing(false);
    set_frame_count(0);
    connect(play_, &QToolButton::clicked, this, &VideoTimeline::play_toggled);
    connect(slider_, &QSlider::valueChanged, this, &VideoTimeline::request);
    connect(field_, qOverload<int>(&QSpinBox::valueChanged), this, &VideoTimeline::request);
    connect(strip_, &FilmStrip::frame_requested, this, &VideoTimeline::request);
}

void VideoTimeline::set_frame_count(int frames) {
    frames_ = std::max(0, frames);
    updating_ = true;
    slider_->setRange(0, std::max(0, frames_ - 1));
    field_->setRange(0, std::max(0, frames_ - 1));
    slider_->setValue(0);
    field_->setValue(0);
    updating_ = false;
    current_ = 0;
    count_->setText(tr("/ %1").arg(std::max(0, frames_ - 1)));
    strip_->set_frame_count(frames_);
    setEnabled(frames_ > 0);
}

void VideoTimeline::set_current(int frame) {
    current_ = std::clamp(frame, 0, std::max(0, frames_ - 1));
    updating_ = true;
    slider_->setValue(current_);
    field_->setValue(current_);
    updating_ = false;
    strip_->set_current(current_);
}

void VideoTimeline::set_playing(bool playing) {
    // The style's icons, not the characters ▶ / ⏸: many systems' fonts lack U+23F8, which
    // then shows as an empty box.
    play_->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    play_->setToolTip(playing ? tr("Pause (Space)") : tr("Play (Space)"));
}

void VideoTimeline::set_marks(const QSet<int>& prompted, const QSet<int>& tracked) {
    strip_->set_marks(prompted, tracked);
}

void VideoTimeline::request(int frame) {
    if (updating_ || frames_ <= 0) return;
    emit frame_requested(std::clamp(frame, 0, frames_ - 1));
}

}  // namespace ps::ui
