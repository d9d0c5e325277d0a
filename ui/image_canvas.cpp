// Canvas: image pixels are scene units, so scene coordinates are image coordinates.
#include "image_canvas.h"

#include <QGraphicsEllipseItem>
#include <QGraphicsLineItem>
#include <QGraphicsPathItem>
#include <QGraphicsPixmapItem>
#include <QGraphicsRectItem>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QScrollBar>
#include <QWheelEvent>

#include <opencv2/imgproc.hpp>

namespace ps::ui {
namespace {

constexpr int kClickSlopPx = 4;        // a press that moves less than this is a click, not a drag
constexpr double kMarkerRadiusPx = 6;  // on screen, whatever the zoom
constexpr double kSplitGrabPx = 6;     // how near the before / after line a press grabs it

QColor label_colour(int label) {
    return label == 1 ? QColor(40, 200, 90) : QColor(230, 60, 60);
}

}  // namespace

ImageCanvas::ImageCanvas(QWidget* parent) : QGraphicsView(parent) {
    setObjectName("canvas");
    setScene(new QGraphicsScene(this));
    setBackgroundBrush(QColor(40, 40, 40));
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setRenderHint(QPainter::SmoothPixmapTransform);
    setMouseTracking(true);
    setDragMode(QGraphicsView::NoDrag);
    setFocusPolicy(Qt::StrongFocus);
}

void ImageCanvas::set_image(const QImage& image) {
    scene()->clear();
    object_items_.clear();
    prompt_items_.clear();
    rubber_band_ = nullptr;
    stroke_item_ = nullptr;
    brush_cursor_ = nullptr;
    after_item_ = nullptr;
    split_line_ = nullptr;
    after_image_ = QImage();
    mask_image_ = QImage();
    image_item_ = scene()->addPixmap(QPixmap::fromImage(image));
    image_item_->setTransformationMode(Qt::SmoothTransformation);
    mask_item_ = scene()->addPixmap(QPixmap());
    mask_item_->setZValue(2);
    scene()->setSceneRect(image_item_->boundingRect());
    fit();
}

void ImageCanvas::set_frame(const QImage& image) {
    if (!image_item_ || image_item_->pixmap().size() != image.size()) return set_image(image);
    image_item_->setPixmap(QPixmap::fromImage(image));
}

QImage ImageCanvas::colourise(const cv::Mat& mask, const QColor& colour) const {
    // Whole-image OpenCV ops, not a per-pixel loop: this runs on the GUI thread for every answer,
    // on work images up to 4096 px. ARGB32_Premultiplied is B, G, R, A in memory (little-endian).
    QImage out(mask.cols, mask.rows, QImage::Format_ARGB32_Premultiplied);
    cv::Mat pixels(mask.rows, mask.cols, CV_8UC4, out.bits(), size_t(out.bytesPerLine()));
    pixels.setTo(cv::Scalar::all(0));
    const double a = overlay_opacity_;
    pixels.setTo(cv::Scalar(colour.blue() * a, colour.green() * a, colour.red() * a, 255 * a),
                 mask);
    if (outline_) {
        cv::Mat edge;
        cv::morphologyEx(mask, edge, cv::MORPH_GRADIENT, cv::Mat::ones(3, 3, CV_8U));
        pixels.setTo(cv::Scalar(colour.blue(), colour.green(), colour.red(), 255), edge);
    }
    return out;
}

void ImageCanvas::show_mask(const cv::Mat& mask) {
    if (!mask_item_) return;
    if (mask.empty()) {
        mask_image_ = QImage();
        mask_item_->setPixmap(QPixmap());
        return;
    }
    mask_image_ =
        QImage(mask.data, mask.cols, mask.rows, int(mask.step[0]), QImage::Format_Grayscale8)
            .copy();
    mask_item_->setPixmap(QPixmap::fromImage(colourise(mask, overlay_colour_)));
}

void ImageCanvas::show_objects(const std::vector<editing::SegmentObject>& objects) {
    for (QGraphicsPixmapItem* item : object_items_) {
        scene()->removeItem(item);
        delete item;
    }
    object_items_.clear();
    if (!image_item_) return;
    for (const editing::SegmentObject& object : objects) {
        if (!object.visible || object.mask.empty()) continue;
        auto* item = scene()->addPixmap(QPixmap::fromImage(colourise(object.mask, object.colour)));
        item->setZValue(1);
        object_items_.push_back(item);
    }
}

void ImageCanvas::show_prompts(const editing::PromptState& prompts) {
    prompts_ = prompts;
    for (QGraphicsItem* item : prompt_items_) {
        scene()->removeItem(item);
        delete item;
    }
    prompt_items_.clear();
    if (!image_item_) return;
    if (prompts.box) {
        const auto& b = *prompts.box;
        auto* rect = scene()->addRect(QRectF(QPointF(b[0], b[1]), QPointF(b[2], b[3])),
                                      QPen(QColor(255, 200, 0), 0, Qt::DashLine));
        rect->setZValue(3);
        prompt_items_.push_back(rect);
    }
    for (const sam::SamPoint& p : prompts.points) {
        // Markers keep their size on screen: ItemIgnoresTransformations.
        auto* dot = scene()->addEllipse(-kMarkerRadiusPx, -kMarkerRadiusPx, 2 * kMarkerRadiusPx,
                                        2 * kMarkerRadiusPx, QPen(Qt::white, 1.5),
                                        QBrush(label_colour(p.label)));
        dot->setPos(p.x, p.y);
        dot->setFlag(QGraphicsItem::ItemIgnoresTransformations);
        dot->setZValue(4);
        prompt_items_.push_back(dot);
    }
}

void ImageCanvas::set_overlay_style(const QColor& colour, double opacity, bool outline) {
    overlay_colour_ = colour;
    overlay_opacity_ = std::clamp(opacity, 0.0, 1.0);
    outline_ = outline;
}

void ImageCanvas::show_comparison(const QImage& after) {
    if (after.isNull() || !image_item_) {
        delete after_item_;
        delete split_line_;
        after_item_ = nullptr;
        split_line_ = nullptr;
        after_image_ = QImage();
        return;
    }
    after_image_ = after;
    if (!after_item_) {
        // Above the image, below objects, masks and prompts: the clicks stay visible.
        after_item_ = scene()->addPixmap(QPixmap());
        after_item_->setTransformationMode(Qt::SmoothTransformation);
        after_item_->setZValue(0.5);
        QPen pen(QColor(255, 200, 0), 2);
        pen.setCosmetic(true);
        split_line_ = scene()->addLine(QLineF(), pen);
        split_line_->setZValue(6);
        split_line_->setToolTip(tr("Drag: before | after"));
    }
    place_comparison();
}

void ImageCanvas::set_split(double split) {
    split_ = std::clamp(split, 0.0, 1.0);
    if (after_item_) place_comparison();
}

void ImageCanvas::place_comparison() {
    const QRectF bounds = image_item_->boundingRect();
    const int cut = int(std::lround(split_ * after_image_.width()));
    const double scale = bounds.width() / std::max(1, after_image_.width());
    // Only the part right of the line is drawn, so the original shows through on the left.
    after_item_->setPixmap(QPixmap::fromImage(
        after_image_.copy(cut, 0, after_image_.width() - cut, after_image_.height())));
    after_item_->setScale(scale);
    after_item_->setPos(bounds.left() + cut * scale, bounds.top());
    const double x = bounds.left() + split_ * bounds.width();
    split_line_->setLine(QLineF(x, bounds.top(), x, bounds.bottom()));
}

bool ImageCanvas::near_split_line(const QPoint& viewport_pos) const {
    if (!split_line_) return false;
    const QPointF top = mapFromScene(split_line_->line().p1());
    return std::abs(top.x() - viewport_pos.x()) <= kSplitGrabPx;
}

void ImageCanvas::set_tool(Tool tool) {
    tool_ = tool;
    if (tool == Tool::Points) {
        unsetCursor();
        if (brush_cursor_) brush_cursor_->hide();
    } else {
        setCursor(Qt::CrossCursor);
    }
}

void ImageCanvas::set_brush_radius(double radius_px) {
    brush_radius_px_ = std::clamp(radius_px, 1.0, 512.0);
    if (brush_cursor_) update_brush_cursor(brush_cursor_->rect().center());
}

void ImageCanvas::update_brush_cursor(const QPointF& image_point) {
    if (!image_item_ || tool_ == Tool::Points) return;
    if (!brush_cursor_) {
        // The ring shows the brush's footprint in image pixels, so it scales with the zoom.
        brush_cursor_ = scene()->addEllipse(QRectF(), QPen(Qt::white, 0), Qt::NoBrush);
        brush_cursor_->setZValue(6);
    }
    const double r = brush_radius_px_;
    brush_cursor_->setRect(QRectF(image_point - QPointF(r, r), QSizeF(2 * r, 2 * r)));
    brush_cursor_->setPen(QPen(tool_ == Tool::Eraser ? QColor(255, 90, 90) : QColor(Qt::white), 0));
    brush_cursor_->show();
}

void ImageCanvas::begin_stroke(const QPointF& image_point, bool erase) {
    gesture_ = Gesture::Stroke;
    stroke_erases_ = erase;
    stroke_ = {image_point};
    const QColor colour = erase ? QColor(255, 90, 90, 140) : QColor(255, 255, 255, 140);
    QPen pen(colour, 2 * brush_radius_px_, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    QPainterPath path(image_point);
    path.lineTo(image_point);  // a click alone shows its disc
    stroke_item_ = scene()->addPath(path, pen);
    stroke_item_->setZValue(5);
}

void ImageCanvas::fit() {
    fitted_ = true;
    if (image_item_) fitInView(image_item_, Qt::KeepAspectRatio);
}

void ImageCanvas::zoom_actual_size() {
    fitted_ = false;
    setTransform(QTransform());
}

void ImageCanvas::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    // A dock or strip appearing or leaving resizes the view: a fitted picture fits the new size
    // (the old scale left it cut off or small in a corner).
    if (fitted_) fit();
}

QPointF ImageCanvas::image_to_viewport(const QPointF& image_point) const {
    return mapFromScene(image_point);
}

int ImageCanvas::point_at(const QPoint& viewport_pos) const {
    for (size_t i = 0; i < prompts_.points.size(); ++i) {
        const QPointF marker = mapFromScene(QPointF(prompts_.points[i].x, prompts_.points[i].y));
        if (QLineF(marker, viewport_pos).length() <= kMarkerRadiusPx + 2) return int(i);
    }
    return -1;
}

void ImageCanvas::pan_by(const QPoint& delta) {
    horizontalScrollBar()->setValue(horizontalScrollBar()->value() - delta.x());
    verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y());
}

void ImageCanvas::mousePressEvent(QMouseEvent* event) {
    if (!image_item_) return QGraphicsView::mousePressEvent(event);
    press_pos_ = last_pos_ = event->position().toPoint();
    press_image_pos_ = mapToScene(press_pos_);
    const int marker = point_at(press_pos_);
    if (event->button() == Qt::LeftButton && marker < 0 && near_split_line(press_pos_)) {
        gesture_ = Gesture::Split;
        setCursor(Qt::SplitHCursor);
    } else if (event->button() == Qt::MiddleButton ||
               (event->button() == Qt::LeftButton && space_held_)) {
        gesture_ = Gesture::Pan;
        setCursor(Qt::ClosedHandCursor);
    } else if (tool_ != Tool::Points &&
               (event->button() == Qt::LeftButton || event->button() == Qt::RightButton)) {
        begin_stroke(press_image_pos_, tool_ == Tool::Eraser || event->button() == Qt::RightButton);
    } else if (event->button() == Qt::RightButton) {
        // Right click on a marker deletes it; elsewhere it adds a background point.
        if (marker >= 0) {
            emit point_removed(marker);
        } else if (scene()->sceneRect().contains(press_image_pos_)) {
            emit point_requested(press_image_pos_, 0);
        }
        gesture_ = Gesture::None;
    } else if (event->button() == Qt::LeftButton) {
        moving_point_ = marker;
        gesture_ = marker >= 0 ? Gesture::MovePoint : Gesture::Pending;
    }
    event->accept();
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* event) {
    const QPoint pos = event->position().toPoint();
    switch (gesture_) {
        case Gesture::Pan:
            pan_by(pos - last_pos_);
            break;
        case Gesture::Split: {
            const QRectF bounds = image_item_->boundingRect();
            set_split((mapToScene(pos).x() - bounds.left()) / std::max(1.0, bounds.width()));
            emit split_moved(split_);
            break;
        }
        case Gesture::Stroke: {
            const QPointF image_point = mapToScene(pos);
            stroke_.push_back(image_point);
            QPainterPath path = stroke_item_->path();
            path.lineTo(image_point);
            stroke_item_->setPath(path);
            break;
        }
        case Gesture::Pending:
            if ((pos - press_pos_).manhattanLength() < kClickSlopPx) break;
            gesture_ = Gesture::Box;
            rubber_band_ = scene()->addRect(QRectF(), QPen(QColor(255, 200, 0), 0, Qt::DashLine));
            rubber_band_->setZValue(5);
            [[fallthrough]];
        case Gesture::Box:
            rubber_band_->setRect(QRectF(press_image_pos_, mapToScene(pos)).normalized());
            break;
        case Gesture::MovePoint:
            if (moving_point_ >= 0 && moving_point_ < int(prompt_items_.size())) {
                // Markers follow the box item, if any, in prompt_items_.
                const int offset = prompts_.box ? 1 : 0;
                prompt_items_[offset + moving_point_]->setPos(mapToScene(pos));
            }
            break;
        case Gesture::None:
            if (tool_ == Tool::Points && near_split_line(pos)) {
                setCursor(Qt::SplitHCursor);
            } else if (tool_ == Tool::Points && cursor().shape() == Qt::SplitHCursor) {
                unsetCursor();
            }
            if (tool_ == Tool::Points && hover_preview_ && image_item_ &&
                scene()->sceneRect().contains(mapToScene(pos))) {
                emit hover_moved(mapToScene(pos));
            }
            break;
    }
    update_brush_cursor(mapToScene(pos));
    last_pos_ = pos;
    QGraphicsView::mouseMoveEvent(event);
}

void ImageCanvas::mouseReleaseEvent(QMouseEvent* event) {
    const QPointF image_pos = mapToScene(event->position().toPoint());
    const QRectF bounds = scene()->sceneRect();
    switch (gesture_) {
        case Gesture::Pending:
            if (bounds.contains(press_image_pos_)) {
                const bool background = event->modifiers() & Qt::AltModifier;
                emit point_requested(press_image_pos_, background ? 0 : 1);
            }
            break;
        case Gesture::Box: {
            const QRectF box = QRectF(press_image_pos_, image_pos).normalized().intersected(bounds);
            scene()->removeItem(rubber_band_);
            delete rubber_band_;
            rubber_band_ = nullptr;
            if (box.width() >= 2 && box.height() >= 2) emit box_requested(box);
            break;
        }
        case Gesture::MovePoint:
            if ((event->position().toPoint() - press_pos_).manhattanLength() >= kClickSlopPx) {
                const QPointF clamped(std::clamp(image_pos.x(), bounds.left(), bounds.right() - 1),
                                      std::clamp(image_pos.y(), bounds.top(), bounds.bottom() - 1));
                emit point_moved(moving_point_, clamped);
            }
            break;
        case Gesture::Split:
        case Gesture::Pan:
            if (tool_ == Tool::Points) {
                unsetCursor();
            } else {
                setCursor(Qt::CrossCursor);
            }
            break;
        case Gesture::Stroke:
            scene()->removeItem(stroke_item_);
            delete stroke_item_;
            stroke_item_ = nullptr;
            emit stroke_finished(stroke_, brush_radius_px_, stroke_erases_);
            stroke_.clear();
            break;
        case Gesture::None:
            break;
    }
    gesture_ = Gesture::None;
    moving_point_ = -1;
    event->accept();
}

void ImageCanvas::wheelEvent(QWheelEvent* event) {
    const double factor = std::pow(1.0015, event->angleDelta().y());
    const double current = transform().m11();
    // Between 1/50 and 40x: beyond that nothing useful is visible.
    if ((current < 0.02 && factor < 1) || (current > 40 && factor > 1)) return;
    fitted_ = false;
    scale(factor, factor);
    event->accept();
}

void ImageCanvas::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        space_held_ = true;
        setCursor(Qt::OpenHandCursor);
        return;
    }
    QGraphicsView::keyPressEvent(event);
}

void ImageCanvas::keyReleaseEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        space_held_ = false;
        set_tool(tool_);  // the tool's own cursor back
        return;
    }
    QGraphicsView::keyReleaseEvent(event);
}

}  // namespace ps::ui
