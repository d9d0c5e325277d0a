// Masks as polygons for formats that have no RLE (COCO's polygon option, YOLO, LabelMe). A
// polygon cannot hold a hole, so each hole is joined to its outer contour by a zero-width
// bridge: the polygon walks in along the bridge, around the hole the other way and back out,
// and even-odd or non-zero filling both give the mask with its hole.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <vector>

namespace ps::annotation {

// Where polygon coordinates put a pixel: the two conventions other tools read polygons in.
enum class PixelConvention {
    // Pixel (x, y) is the square [x, x+1] x [y, y+1] and belongs to a polygon when its centre
    // (x + 0.5, y + 0.5) is inside (even-odd). COCO (pycocotools frPyObjects samples each column
    // at its centre) and YOLO read polygons so. mask_to_polygons traces the pixel edges, so the
    // polygon of an unsimplified mask reproduces it exactly, 1-px parts included.
    Corners,
    // Pixel (x, y) is the point (x, y) and belongs to a polygon when inside or on its outline.
    // LabelMe reads polygons so (labelme.utils.shape_to_mask: PIL ImageDraw.polygon with fill
    // and a 1-px outline). mask_to_polygons then runs through the centres of the border pixels
    // (integer coordinates); a 1-px part becomes a line that the outline draws.
    Centres,
};

using Polygon = std::vector<cv::Point2d>;  // closed implicitly, in a PixelConvention

struct PolygonOptions {
    double tolerance_px = 0.5;  // Douglas-Peucker epsilon; 0 keeps every contour vertex
    double min_area_px = 1.0;   // drops specks smaller than this
    PixelConvention convention = PixelConvention::Corners;
    // A component whose simplified polygon rasterises back to less than this IoU with the mask is
    // simplified again with half the tolerance (down to none): thin parts survive simplification.
    double min_component_iou = 0.99;
};

// One polygon per 8-connected component (holes bridged in), largest first.
std::vector<Polygon> mask_to_polygons(const cv::Mat& mask, const PolygonOptions& options = {});
// Rasterises polygons (union; each polygon even-odd) into a CV_8UC1 0/255 mask of height x width.
cv::Mat polygons_to_mask(const std::vector<Polygon>& polygons, int height, int width,
                         PixelConvention convention = PixelConvention::Corners);
// One polygon in pixel centres as labelme 5.1's shape_to_mask rasterises it: Pillow 9.4's
// ImageDraw.polygon fill (Debian bookworm's), quirks included, into a CV_8UC1 0/255 mask.
cv::Mat labelme_polygon_mask(const Polygon& polygon, int height, int width);

}  // namespace ps::annotation
