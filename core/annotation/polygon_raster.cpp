// Polygons to a mask in either pixel convention (see polygons.h): the readers of COCO, YOLO and
// LabelMe files rasterise as the tools that write those formats do.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "annotation/polygons.h"

namespace ps::annotation {
namespace {

// x of the crossings of the polygon's edges with the horizontal line at `y`, half-open in y so
// that a vertex on the line counts once, sorted.
void crossings_at(const Polygon& polygon, double y, std::vector<double>& xs) {
    xs.clear();
    const size_t n = polygon.size();
    for (size_t i = 0; i < n; ++i) {
        const cv::Point2d& a = polygon[i];
        const cv::Point2d& b = polygon[(i + 1) % n];
        if ((a.y <= y) == (b.y <= y)) continue;
        xs.push_back(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
    }
    std::sort(xs.begin(), xs.end());
}

void fill_row(cv::Mat& mask, int y, long first, long last) {
    first = std::max(first, 0L);
    last = std::min(last, static_cast<long>(mask.cols) - 1);
    if (first > last) return;
    uint8_t* row = mask.ptr<uint8_t>(y);
    std::fill(row + first, row + last + 1, uint8_t{255});
}

std::pair<int, int> row_range(const Polygon& polygon, int height) {
    double low = polygon[0].y, high = polygon[0].y;
    for (const auto& p : polygon) low = std::min(low, p.y), high = std::max(high, p.y);
    return {std::max(0, static_cast<int>(std::floor(low)) - 1), std::min(height - 1, static_cast<int>(std::ceil(high)) + 1)};
}

// Pixel centres (x + 0.5, y + 0.5) inside, even-odd, as pycocotools' rleFrPoly decides it
// (cocoapi common/maskApi.c): the outline is walked at 5x resolution, every crossing of a
// column's centre line toggles the column from there down. Reproducing its rounding, not just
// its rule, keeps our reading of a polygon and the COCO API's equal where an edge passes a
// pixel centre exactly.
void fill_corners(const Polygon& polygon, cv::Mat& mask) {
    const double scale = 5;
    const long h = mask.rows, w = mask.cols;
    const size_t k = polygon.size();
    std::vector<long> x(k + 1), y(k + 1), u, v;
    for (size_t j = 0; j < k; ++j) {
        x[j] = static_cast<long>(scale * polygon[j].x + .5);  // C's truncating cast, as the API
        y[j] = static_cast<long>(scale * polygon[j].y + .5);
    }
    x[k] = x[0];
    y[k] = y[0];
    for (size_t j = 0; j < k; ++j) {
        long xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
        const long dx = std::labs(xe - xs), dy = std::labs(ys - ye);
        const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if (flip) std::swap(xs, xe), std::swap(ys, ye);
        const double slope = dx >= dy ? double(ye - ys) / double(dx) : double(xe - xs) / double(dy);
        for (long d = 0; d <= std::max(dx, dy); ++d) {
            const long t = flip ? std::max(dx, dy) - d : d;
            if (dx >= dy) {
                u.push_back(t + xs);
                v.push_back(static_cast<long>(ys + slope * t + .5));
            } else {
                v.push_back(t + ys);
                u.push_back(static_cast<long>(xs + slope * t + .5));
            }
        }
    }
    // Crossings of column centre lines: (column, first row below the outline).
    std::vector<std::pair<long, long>> crossings;
    for (size_t j = 1; j < u.size(); ++j) {
        if (u[j] == u[j - 1]) continue;
        const double xd = (double(u[j] < u[j - 1] ? u[j] : u[j] - 1) + .5) / scale - .5;
        if (std::floor(xd) != xd || xd < 0 || xd > w - 1) continue;
        const double yd = (double(v[j] < v[j - 1] ? v[j] : v[j - 1]) + .5) / scale - .5;
        crossings.emplace_back(static_cast<long>(xd), static_cast<long>(std::ceil(std::clamp(yd, 0.0, double(h)))));
    }
    std::sort(crossings.begin(), crossings.end());
    // Pairs of crossings in a column bound a foreground run (crossings at one place cancel).
    for (size_t j = 0; j + 1 < crossings.size(); j += 2) {
        const auto [column, first] = crossings[j];
        const auto [column_end, last] = crossings[j + 1];
        if (column_end != column) {  // a column with an odd count cannot come from a closed outline
            --j;
            continue;
        }
        for (long row = first; row < std::min(last, h); ++row) mask.at<uint8_t>(static_cast<int>(row), static_cast<int>(column)) = 255;
    }
}

// PIL's coordinate rounding (ROUND_UP in libImaging: half away from zero).
long pil_round(double value) {
    return value >= 0 ? static_cast<long>(std::floor(value + 0.5)) : -static_cast<long>(std::floor(-value + 0.5));
}

void draw_line(cv::Mat& mask, cv::Point a, cv::Point b) {
    // Bresenham, as PIL's 1-px outline.
    const int dx = std::abs(b.x - a.x), dy = -std::abs(b.y - a.y);
    const int sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1;
    int error = dx + dy;
    while (true) {
        if (a.x >= 0 && a.y >= 0 && a.x < mask.cols && a.y < mask.rows) mask.at<uint8_t>(a) = 255;
        if (a == b) break;
        const int twice = 2 * error;
        if (twice >= dy) error += dy, a.x += sx;
        if (twice <= dx) error += dx, a.y += sy;
    }
}

// Integer points inside (even-odd) or on the outline: labelme's shape_to_mask, which is PIL's
// ImageDraw.polygon(fill=1, outline=1) on vertices rounded to whole pixels.
void fill_centres(const Polygon& polygon, cv::Mat& mask) {
    Polygon rounded;
    std::vector<cv::Point> vertices;
    for (const auto& p : polygon) {
        vertices.emplace_back(static_cast<int>(pil_round(p.x)), static_cast<int>(pil_round(p.y)));
        rounded.emplace_back(vertices.back());
    }
    std::vector<double> xs;
    const auto [top, bottom] = row_range(rounded, mask.rows);
    for (int y = top; y <= bottom; ++y) {
        crossings_at(rounded, y, xs);
        for (size_t i = 0; i + 1 < xs.size(); i += 2)
            fill_row(mask, y, static_cast<long>(std::ceil(xs[i])), static_cast<long>(std::floor(xs[i + 1])));
    }
    for (size_t i = 0; i < vertices.size(); ++i) draw_line(mask, vertices[i], vertices[(i + 1) % vertices.size()]);
}

}  // namespace

cv::Mat polygons_to_mask(const std::vector<Polygon>& polygons, int height, int width, PixelConvention convention) {
    cv::Mat mask(std::max(height, 0), std::max(width, 0), CV_8UC1, cv::Scalar(0));
    for (const Polygon& polygon : polygons) {
        if (polygon.empty() || mask.empty()) continue;
        if (convention == PixelConvention::Corners)
            fill_corners(polygon, mask);
        else
            fill_centres(polygon, mask);
    }
    return mask;
}

}  // namespace ps::annotation
