// The zoomable image canvas: shows the image, masks and prompts, and turns mouse gestures into
// prompt requests. It edits nothing itself; the main window turns requests into commands.
#pragma once

#include <QGraphicsView>
#include <QImage>

#include <opencv2/core/mat.hpp>

#include "editing/edit_document.h"

class QGraphicsEllipseItem;
class QGraphicsLineItem;
class QGraphicsPathItem;
class QGraphicsPixmapItem;
class QGraphicsRectItem;

namespace ps::ui {

class ImageCanvas : public QGraphicsView {
    Q_OBJECT
  public:
    // Points: clicks and drags make prompts. Brush / Eraser: a left drag paints a stroke that
    // adds to / cuts from an object's mask (with the brush, a right drag erases).
    enum class Tool { Points, Brush, Eraser };

    explicit ImageCanvas(QWidget* parent = nullptr);

    void set_image(const QImage& image);  // resets zoom to fit
    // A video's next frame: the picture changes, the zoom, masks and prompts stay (a frame of
    // another size is set_image).
    void set_frame(const QImage& image);
    void show_prompts(const editing::PromptState& prompts);
    void show_mask(const cv::Mat& mask);  // the candidate under edit; empty hides it
    void show_objects(const std::vector<editing::SegmentObject>& objects);
    void set_overlay_style(const QColor& colour, double opacity, bool outline);
    // Before / after on the canvas: `after` (any size; scaled over the image) is drawn right of
    // a vertical split line the user drags; left of it the original shows. An empty image ends
    // the comparison. `split` is the line's position as a fraction of the width, in [0, 1].
    void show_comparison(const QImage& after);
    bool comparing() const { return after_item_ != nullptr; }
    void set_split(double split);
    double split() const { return split_; }
    QImage comparison() const { return after_image_; }  // for tests and screenshots
    void set_hover_preview(bool enabled) { hover_preview_ = enabled; }

    void set_tool(Tool tool);
    Tool tool() const { return tool_; }
    // Radius of the brush and the eraser in image pixels.
    void set_brush_radius(double radius_px);
    double brush_radius() const { return brush_radius_px_; }

    void fit();
    void zoom_actual_size();
    QPointF image_to_viewport(const QPointF& image_point) const;
    bool has_image() const { return image_item_ != nullptr; }
    QImage displayed_mask() const { return mask_image_; }  // for tests and screenshots

  signals:
    void point_requested(const QPointF& image_point, int label);  // 1 object, 0 background
    void box_requested(const QRectF& image_rect);
    void point_moved(int index, const QPointF& image_point);
    void point_removed(int index);
    void hover_moved(const QPointF& image_point);
    // A finished brush or eraser stroke: its polyline in image pixels and the brush radius.
    void stroke_finished(const QVector<QPointF>& image_points, double radius_px, bool erase);
    void split_moved(double split);  // the user dragged the before / after line

  protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;

  private:
    // The picture fills the view (fit()) until the user zooms: a resize keeps it fitted.
    bool fitted_ = true;
    enum class Gesture { None, Pending, Box, MovePoint, Pan, Stroke, Split };
    bool near_split_line(const QPoint& viewport_pos) const;
    void place_comparison();
    int point_at(const QPoint& viewport_pos) const;  // marker under the cursor, or -1
    QImage colourise(const cv::Mat& mask, const QColor& colour) const;
    void pan_by(const QPoint& delta);
    void begin_stroke(const QPointF& image_point, bool erase);
    void update_brush_cursor(const QPointF& image_point);

    QGraphicsPixmapItem* image_item_ = nullptr;
    QGraphicsPixmapItem* mask_item_ = nullptr;
    std::vector<QGraphicsPixmapItem*> object_items_;
    std::vector<QGraphicsItem*> prompt_items_;
    QGraphicsRectItem* rubber_band_ = nullptr;
    editing::PromptState prompts_;
    QImage mask_image_;
    QColor overlay_colour_{30, 144, 255};
    double overlay_opacity_ = 0.5;
    bool outline_ = true;
    bool hover_preview_ = false;
    bool space_held_ = false;
    Gesture gesture_ = Gesture::None;
    QPoint press_pos_, last_pos_;
    QPointF press_image_pos_;
    int moving_point_ = -1;
    Tool tool_ = Tool::Points;
    double brush_radius_px_ = 8;
    QVector<QPointF> stroke_;
    bool stroke_erases_ = false;
    QGraphicsPathItem* stroke_item_ = nullptr;
    QGraphicsEllipseItem* brush_cursor_ = nullptr;
    QImage after_image_;
    QGraphicsPixmapItem* after_item_ = nullptr;
    QGraphicsLineItem* split_line_ = nullptr;
    double split_ = 0.5;
};

}  // namespace ps::ui
