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
    return {std::max(0, static_cast<int>(std::floor(low)) - 1),
            std::min(height - 1, static_cast<int>(std::ceil(high)) + 1)};
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
        // A repeated vertex (a closed polygon's last point, say) is a segment of length 0:
        // pycocotools divides 0 by 0 there and casts NaN; its one point lies between two points
        // of the same column, which the crossings below skip, so any value gives the same mask.
        const long length = std::max(dx, dy);
        const double slope = length == 0 ? 0.0
                             : dx >= dy  ? double(ye - ys) / double(dx)
                                         : double(xe - xs) / double(dy);
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
        crossings.emplace_back(static_cast<long>(xd),
                               static_cast<long>(std::ceil(std::clamp(yd, 0.0, double(h)))));
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
        for (long row = first; row < std::min(last, h); ++row)
            mask.at<uint8_t>(static_cast<int>(row), static_cast<int>(column)) = 255;
    }
}

// PIL's coordinate rounding (ROUND_UP in libImaging: half away from zero).
long pil_round(double value) {
    return value >= 0 ? static_cast<long>(std::floor(value + 0.5))
                      : -static_cast<long>(std::floor(-value + 0.5));
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
            fill_row(mask, y, static_cast<long>(std::ceil(xs[i])),
                     static_cast<long>(std::floor(xs[i + 1])));
    }
    for (size_t i = 0; i < vertices.size(); ++i)
        draw_line(mask, vertices[i], vertices[(i + 1) % vertices.size()]);
}

// Pillow 9.4's filled polygon (libImaging/Draw.c: ImagingDrawPolygon, add_edge, polygon_generic
// for 8-bit images), which labelme 5.1's shape_to_mask calls: ImageDraw.polygon(fill=1,
// outline=1) draws no outline when both inks are equal, so only this fill decides. Reproduced
// with its quirks: coordinates truncated to int, horizontal edges drawn as lines, an edge's
// crossing doubled on the row where it ends, crossings rounded to the nearest pixel (half away
// from zero), and the "connect discontiguous corners" step that writes xx[k] with k an edge index.
struct PillowEdge {
    int xmin, ymin, xmax, ymax, x0, y0;
    float dx;
};

PillowEdge pillow_edge(int x0, int y0, int x1, int y1) {
    PillowEdge e{};
    e.xmin = std::min(x0, x1), e.xmax = std::max(x0, x1);
    e.ymin = std::min(y0, y1), e.ymax = std::max(y0, y1);
    e.dx = y0 == y1 ? 0.0f : static_cast<float>(x1 - x0) / static_cast<float>(y1 - y0);
    e.x0 = x0, e.y0 = y0;
    return e;
}

int pillow_round_up(float f) {
    return static_cast<int>(f >= 0.0 ? std::floor(f + 0.5F) : -std::floor(std::fabs(f) + 0.5F));
}
int pillow_round_down(float f) {
    return static_cast<int>(f >= 0.0 ? std::ceil(f - 0.5F) : -std::ceil(std::fabs(f) - 0.5F));
}

void pillow_hline(cv::Mat& mask, int x0, int y, int x1) {
    if (y < 0 || y >= mask.rows) return;
    if (x0 > x1) std::swap(x0, x1);
    if (x0 >= mask.cols || x1 < 0) return;
    x0 = std::max(x0, 0);
    x1 = std::min(x1, mask.cols - 1);
    uint8_t* row = mask.ptr<uint8_t>(y);
    std::fill(row + x0, row + x1 + 1, uint8_t{255});
}

void fill_pillow(const Polygon& polygon, cv::Mat& mask) {
    const size_t count = polygon.size();
    std::vector<int> xy(2 * count);
    for (size_t i = 0; i < count; ++i) {
        xy[2 * i] = static_cast<int>(polygon[i].x);  // _imaging.c: (int) of the double
        xy[2 * i + 1] = static_cast<int>(polygon[i].y);
    }
    std::vector<PillowEdge> edges;
    size_t i = 0;
    for (; i + 1 < count; ++i) {
        const int x0 = xy[2 * i], y0 = xy[2 * i + 1], x1 = xy[2 * i + 2], y1 = xy[2 * i + 3];
        if (y0 == y1 && i != 0 && y0 == xy[2 * i - 1]) {  // a horizontal edge after another
            PillowEdge& last = edges.back();
            if (x1 > x0 && x0 > xy[2 * i - 2]) {
                last.xmax = x1;
                continue;
            }
            if (x1 < x0 && x0 < xy[2 * i - 2]) {
                last.xmin = x1;
                continue;
            }
        }
        edges.push_back(pillow_edge(x0, y0, x1, y1));
    }
    if (xy[2 * i] != xy[0] || xy[2 * i + 1] != xy[1])
        edges.push_back(pillow_edge(xy[2 * i], xy[2 * i + 1], xy[0], xy[1]));

    int ymin = mask.rows - 1, ymax = 0;
    std::vector<const PillowEdge*> table;
    for (const PillowEdge& e : edges) {
        ymin = std::min(ymin, e.ymin);
        ymax = std::max(ymax, e.ymax);
        if (e.ymin == e.ymax) {
            pillow_hline(mask, e.xmin, e.ymin, e.xmax);
            continue;
        }
        table.push_back(&e);
    }
    ymin = std::max(ymin, 0);
    ymax = std::min(ymax, mask.rows);
    std::vector<float> xx(table.size() * 2);
    for (int y = ymin; y <= ymax; ++y) {
        size_t j = 0;
        for (size_t e = 0; e < table.size(); ++e) {
            const PillowEdge& current = *table[e];
            if (y < current.ymin || y > current.ymax) continue;
            xx[j++] =
                static_cast<float>(y - current.y0) * current.dx + static_cast<float>(current.x0);
            if (y == current.ymax && y < ymax) {
                xx[j] = xx[j - 1];
                ++j;
            } else if (current.dx != 0 && std::roundf(xx[j - 1]) == xx[j - 1]) {
                for (size_t k = 0; k < e; ++k) {
                    const PillowEdge& other = *table[k];
                    if ((current.dx > 0 && other.dx <= 0) || (current.dx < 0 && other.dx >= 0))
                        continue;
                    if (((y == current.ymin && y == other.ymin) ||
                         (y == current.ymax && y == other.ymax)) &&
                        xx[j - 1] == static_cast<float>(y - other.y0) * other.dx +
                                         static_cast<float>(other.x0)) {
                        const int offset = y == ymax ? -1 : 1;
                        const float here =
                            static_cast<float>(y + offset - current.y0) * current.dx +
                            static_cast<float>(current.x0);
                        const float there = static_cast<float>(y + offset - other.y0) * other.dx +
                                            static_cast<float>(other.x0);
                        if (y == current.ymax)
                            xx[k] = current.dx > 0 ? std::fmax(here, there) + 1
                                                   : std::fmin(here, there) - 1;
                        else
                            xx[k] = current.dx > 0 ? std::fmin(here, there)
                                                   : std::fmax(here, there) + 1;
                        break;
                    }
                }
            }
        }
        std::sort(xx.begin(), xx.begin() + static_cast<long>(j));
        for (size_t k = 1; k < j; k += 2)
            pillow_hline(mask, pillow_round_up(xx[k - 1]), y, pillow_round_down(xx[k]));
    }
}

}  // namespace

cv::Mat labelme_polygon_mask(const Polygon& polygon, int height, int width) {
    cv::Mat mask(std::max(height, 0), std::max(width, 0), CV_8UC1, cv::Scalar(0));
    if (!polygon.empty() && !mask.empty()) fill_pillow(polygon, mask);
    return mask;
}

cv::Mat polygons_to_mask(const std::vector<Polygon>& polygons, int height, int width,
                         PixelConvention convention) {
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
