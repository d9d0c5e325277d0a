// Mask to polygons (see polygons.h): each 8-connected component's boundary is traced along the
// pixel edges ("crack" loops: exact, 1-px parts included), holes are bridged to the loop on
// their left along a row of foreground pixel centres, and the loops are simplified with
// Douglas-Peucker, checked by rasterising them back.
#include "annotation/polygons.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace ps::annotation {
namespace {

// Unit edges between pixel corners. Foreground lies on the right of each edge in image
// coordinates (y down), so outer loops run clockwise on screen and holes counter-clockwise.
enum Direction : uint8_t { kRight = 0, kDown = 1, kLeft = 2, kUp = 3 };
const cv::Point kStep[4] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
// The foreground side of an edge of direction d: (dx, dy) turned to (-dy, dx).
const cv::Point2d kForegroundSide[4] = {{0, 1}, {-1, 0}, {0, -1}, {1, 0}};

struct Loop {
    std::vector<cv::Point> start;      // corner where edge i starts
    std::vector<Direction> direction;  // of edge i
    long long twice_area = 0;          // > 0 for outer loops, < 0 for holes
};

// All boundary loops of a 0/1 mask that has a background border of one pixel.
std::vector<Loop> trace_loops(const cv::Mat& padded) {
    const int corner_columns = padded.cols + 1;
    const size_t corners =
        static_cast<size_t>(corner_columns) * static_cast<size_t>(padded.rows + 1);
    // Per corner: bit d = an edge of direction d starts here, bit 4 + d = already traced.
    std::vector<uint8_t> edges(corners, 0);
    auto id = [&](cv::Point corner) {
        return static_cast<size_t>(corner.y) * corner_columns + corner.x;
    };
    for (int y = 1; y < padded.rows - 1; ++y) {
        const uint8_t* row = padded.ptr<uint8_t>(y);
        const uint8_t* above = padded.ptr<uint8_t>(y - 1);
        const uint8_t* below = padded.ptr<uint8_t>(y + 1);
        for (int x = 1; x < padded.cols - 1; ++x) {
            if (!row[x]) continue;
            if (!above[x]) edges[id({x, y})] |= 1 << kRight;
            if (!row[x + 1]) edges[id({x + 1, y})] |= 1 << kDown;
            if (!below[x]) edges[id({x + 1, y + 1})] |= 1 << kLeft;
            if (!row[x - 1]) edges[id({x, y + 1})] |= 1 << kUp;
        }
    }
    std::vector<Loop> loops;
    for (size_t first = 0; first < corners; ++first) {
        for (int first_direction = 0; first_direction < 4; ++first_direction) {
            if (!(edges[first] & (1 << first_direction)) ||
                (edges[first] & (16 << first_direction)))
                continue;
            Loop loop;
            cv::Point corner(static_cast<int>(first % corner_columns),
                             static_cast<int>(first / corner_columns));
            auto direction = static_cast<Direction>(first_direction);
            while (true) {
                edges[id(corner)] |= 16 << direction;
                loop.start.push_back(corner);
                loop.direction.push_back(direction);
                const cv::Point next = corner + kStep[direction];
                loop.twice_area += static_cast<long long>(corner.x) * next.y -
                                   static_cast<long long>(next.x) * corner.y;
                corner = next;
                const uint8_t out = edges[id(corner)] & 15;
                // Two edges leave a corner only where two pixels touch diagonally: turning
                // towards the background keeps them in one loop, as 8-connectivity wants.
                const auto background_turn = static_cast<Direction>((direction + 3) % 4);
                if (out & (1 << background_turn)) {
                    direction = background_turn;
                } else {
                    for (int d = 0; d < 4; ++d)
                        if (out & (1 << d)) direction = static_cast<Direction>(d);
                }
                if (edges[id(corner)] & (16 << direction)) break;  // back at the first edge
            }
            loops.push_back(std::move(loop));
        }
    }
    return loops;
}

struct PathPoint {
    cv::Point2d position;
    int anchor = -1;  // bridge end: 2h = hole h's own end, 2h + 1 = where it joins
};
using Path = std::vector<PathPoint>;

double distance_to_segment(const cv::Point2d& p, const cv::Point2d& a, const cv::Point2d& b) {
    const cv::Point2d ab = b - a;
    const double length_squared = ab.dot(ab);
    if (length_squared == 0) return std::hypot(p.x - a.x, p.y - a.y);
    const double t = std::clamp((p - a).dot(ab) / length_squared, 0.0, 1.0);
    const cv::Point2d nearest = a + t * ab;
    return std::hypot(p.x - nearest.x, p.y - nearest.y);
}

// Douglas-Peucker on a closed path; bridge ends are kept.
Path simplify(const Path& path, double tolerance) {
    const size_t n = path.size();
    if (tolerance <= 0 || n < 4) return path;
    std::vector<char> keep(n, 0);
    std::vector<size_t> fixed;
    for (size_t i = 0; i < n; ++i)
        if (path[i].anchor >= 0) fixed.push_back(i);
    if (fixed.empty()) fixed.push_back(0);
    if (fixed.size() == 1) {  // a second fixed point splits the loop into two chains
        size_t farthest = fixed[0];
        double best = -1;
        for (size_t i = 0; i < n; ++i) {
            const cv::Point2d d = path[i].position - path[fixed[0]].position;
            if (d.dot(d) > best) best = d.dot(d), farthest = i;
        }
        if (farthest != fixed[0]) fixed.push_back(farthest);
        std::sort(fixed.begin(), fixed.end());
    }
    for (size_t index : fixed) keep[index] = 1;
    std::vector<std::pair<size_t, size_t>> stack;  // chains [from, to], indices mod n
    for (size_t k = 0; k < fixed.size(); ++k) {
        const size_t from = fixed[k], to = fixed[(k + 1) % fixed.size()];
        stack.emplace_back(from, to > from ? to : to + n);
    }
    while (!stack.empty()) {
        const auto [from, to] = stack.back();
        stack.pop_back();
        double worst = -1;
        size_t worst_index = from;
        for (size_t i = from + 1; i < to; ++i) {
            const double d = distance_to_segment(path[i % n].position, path[from % n].position,
                                                 path[to % n].position);
            if (d > worst) worst = d, worst_index = i;
        }
        if (worst > tolerance) {
            keep[worst_index % n] = 1;
            stack.emplace_back(from, worst_index);
            stack.emplace_back(worst_index, to);
        }
    }
    Path kept;
    for (size_t i = 0; i < n; ++i)
        if (keep[i]) kept.push_back(path[i]);
    return kept;
}

// One component (a 0/1 mask with a background border of one pixel) as loops with the bridge
// ends inserted, in the given convention, in the padded mask's coordinates.
struct ComponentLoops {
    Path outer;
    std::vector<Path> holes;  // in bridging order: a hole only joins loops bridged before it
};

ComponentLoops component_loops(const cv::Mat& padded, PixelConvention convention) {
    std::vector<Loop> loops = trace_loops(padded);
    ComponentLoops result;
    if (loops.empty()) return result;
    const auto outer_it =
        std::max_element(loops.begin(), loops.end(),
                         [](const Loop& a, const Loop& b) { return a.twice_area < b.twice_area; });
    const size_t outer_index = static_cast<size_t>(outer_it - loops.begin());

    // Each hole is bridged from its leftmost edge (the right edge of a foreground pixel, going
    // down), leftwards along that pixel row through foreground, to the first edge met: the
    // left edge of a foreground pixel (going up) on the outer loop or on a hole further left.
    struct Bridge {
        size_t hole_loop, hole_edge;
        long long target_key;
        int leftmost_x;
    };
    std::vector<Bridge> bridges;
    auto key_of = [&](cv::Point corner, Direction direction) {
        return (static_cast<long long>(corner.y) * (padded.cols + 1) + corner.x) * 4 + direction;
    };
    for (size_t l = 0; l < loops.size(); ++l) {
        if (l == outer_index) continue;
        const Loop& hole = loops[l];
        size_t best = hole.start.size();
        for (size_t i = 0; i < hole.start.size(); ++i) {
            if (hole.direction[i] != kDown) continue;
            if (best == hole.start.size() || hole.start[i].x < hole.start[best].x ||
                (hole.start[i].x == hole.start[best].x && hole.start[i].y < hole.start[best].y))
                best = i;
        }
        if (best == hole.start.size()) continue;  // cannot happen for a traced hole
        const int row = hole.start[best].y;
        int x = hole.start[best].x - 1;  // the foreground pixel left of the hole
        const uint8_t* pixels = padded.ptr<uint8_t>(row);
        while (pixels[x - 1]) --x;
        bridges.push_back({l, best, key_of({x, row + 1}, kUp), hole.start[best].x});
    }
    std::sort(bridges.begin(), bridges.end(),
              [](const Bridge& a, const Bridge& b) { return a.leftmost_x < b.leftmost_x; });

    // Mark the edges that carry a bridge end: anchor[loop][edge].
    std::vector<std::unordered_map<size_t, int>> anchors(loops.size());
    std::unordered_map<long long, int> wanted;  // target edge key -> bridge index
    for (size_t b = 0; b < bridges.size(); ++b) {
        anchors[bridges[b].hole_loop][bridges[b].hole_edge] = static_cast<int>(2 * b);
        wanted[bridges[b].target_key] = static_cast<int>(2 * b + 1);
    }
    for (size_t l = 0; l < loops.size(); ++l)
        for (size_t i = 0; i < loops[l].start.size(); ++i) {
            const auto it = wanted.find(key_of(loops[l].start[i], loops[l].direction[i]));
            if (it != wanted.end()) anchors[l][i] = it->second;
        }

    // Loop corners (and bridge ends at mid-edge) in the convention: Centres moves each point
    // half a pixel into the foreground, onto the centres of the border pixels, then by -0.5 so
    // that pixel (x, y) is the point (x, y).
    const cv::Point2d half(0.5, 0.5);
    auto to_path = [&](size_t l) {
        const Loop& loop = loops[l];
        const size_t n = loop.start.size();
        Path path;
        for (size_t i = 0; i < n; ++i) {
            const Direction in = loop.direction[(i + n - 1) % n], out = loop.direction[i];
            const auto anchor = anchors[l].find(i);
            const bool turns = in != out;
            if (turns || path.empty()) {  // straight runs need only their ends
                const cv::Point2d corner(loop.start[i]);
                if (convention == PixelConvention::Corners) {
                    // The corner cut at the middles of its two edges: the triangle cut off (or
                    // added) holds no pixel centre, so the mask is the same, but staircases
                    // become straight lines that Douglas-Peucker can simplify.
                    if (!turns) {
                        path.push_back({corner, -1});
                    } else {
                        path.push_back({corner - 0.5 * cv::Point2d(kStep[in]), -1});
                        path.push_back({corner + 0.5 * cv::Point2d(kStep[out]), -1});
                    }
                } else if (!turns) {
                    path.push_back({corner + 0.5 * kForegroundSide[out] - half, -1});
                } else {
                    // A corner moves onto the centre of the pixel diagonally inside it. Where
                    // that pixel is background (two pixels touching at this corner only), the
                    // path goes from one pixel's centre to the other's instead.
                    const cv::Point2d inside =
                        corner + 0.5 * (kForegroundSide[in] + kForegroundSide[out]) - half;
                    if (padded.at<uint8_t>(cv::Point(inside)) != 0) {
                        path.push_back({inside, -1});
                    } else {
                        path.push_back({corner + 0.5 * kForegroundSide[in] -
                                            0.5 * cv::Point2d(kStep[in]) - half,
                                        -1});
                        path.push_back({corner + 0.5 * kForegroundSide[out] +
                                            0.5 * cv::Point2d(kStep[out]) - half,
                                        -1});
                    }
                }
            }
            if (anchor != anchors[l].end()) {
                cv::Point2d middle = cv::Point2d(loop.start[i]) + 0.5 * cv::Point2d(kStep[out]);
                if (convention == PixelConvention::Centres)
                    middle += 0.5 * kForegroundSide[out] - half;
                path.push_back({middle, anchor->second});
            }
        }
        return path;
    };
    result.outer = to_path(outer_index);
    for (const Bridge& bridge : bridges) result.holes.push_back(to_path(bridge.hole_loop));
    return result;
}

// Joins the holes into the outer loop: at the place where a bridge ends, the polygon walks to
// the hole, around it and back.
Polygon splice(const Path& outer, const std::vector<Path>& holes, cv::Point2d offset) {
    Path joined = outer;
    for (size_t h = 0; h < holes.size(); ++h) {
        const Path& hole = holes[h];
        const int own = static_cast<int>(2 * h), target = own + 1;
        const auto at = std::find_if(joined.begin(), joined.end(),
                                     [&](const PathPoint& p) { return p.anchor == target; });
        const auto start = std::find_if(hole.begin(), hole.end(),
                                        [&](const PathPoint& p) { return p.anchor == own; });
        if (at == joined.end() || start == hole.end()) continue;  // cannot happen: anchors are kept
        Path detour(start, hole.end());
        detour.insert(detour.end(), hole.begin(), start);
        detour.push_back(*start);
        detour.push_back(*at);
        detour.back().anchor = -1;
        joined.insert(at + 1, detour.begin(), detour.end());
    }
    Polygon polygon;
    polygon.reserve(joined.size());
    for (const PathPoint& point : joined) {
        const cv::Point2d position = point.position + offset;
        if (polygon.empty() || polygon.back() != position) polygon.push_back(position);
    }
    while (polygon.size() > 1 && polygon.back() == polygon.front()) polygon.pop_back();
    return polygon;
}

double mask_iou(const cv::Mat& a, const cv::Mat& b) {
    const int intersection = cv::countNonZero(a & b), union_area = cv::countNonZero(a | b);
    return union_area == 0 ? 1.0 : static_cast<double>(intersection) / union_area;
}

}  // namespace

std::vector<Polygon> mask_to_polygons(const cv::Mat& mask, const PolygonOptions& options) {
    CV_Assert(mask.type() == CV_8UC1);
    cv::Mat labels, stats, centroids;
    const int count =
        cv::connectedComponentsWithStats(mask != 0, labels, stats, centroids, 8, CV_32S);
    std::vector<std::pair<int, Polygon>> polygons;  // area, polygon
    for (int label = 1; label < count; ++label) {
        const int area = stats.at<int>(label, cv::CC_STAT_AREA);
        if (area < options.min_area_px) continue;
        const cv::Rect box(
            stats.at<int>(label, cv::CC_STAT_LEFT), stats.at<int>(label, cv::CC_STAT_TOP),
            stats.at<int>(label, cv::CC_STAT_WIDTH), stats.at<int>(label, cv::CC_STAT_HEIGHT));
        cv::Mat component = labels(box) == label;  // 0/255
        cv::Mat padded;
        cv::copyMakeBorder(component, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
        const ComponentLoops loops = component_loops(padded / 255, options.convention);
        // Simplify, and if the result strays from the mask (thin parts cut by a long edge),
        // try again with half the tolerance; at 0 the polygon is exact.
        double tolerance = options.tolerance_px;
        Polygon polygon;
        while (true) {
            std::vector<Path> holes;
            for (const Path& hole : loops.holes) holes.push_back(simplify(hole, tolerance));
            polygon = splice(simplify(loops.outer, tolerance), holes, {0, 0});
            if (tolerance <= 0) break;
            const cv::Mat back =
                polygons_to_mask({polygon}, padded.rows, padded.cols, options.convention);
            if (mask_iou(back, padded) >= options.min_component_iou) break;
            tolerance = tolerance > 0.1 ? tolerance / 2 : 0;
        }
        const cv::Point2d offset(box.x - 1, box.y - 1);
        for (cv::Point2d& point : polygon) point += offset;
        polygons.emplace_back(area, std::move(polygon));
    }
    std::stable_sort(polygons.begin(), polygons.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<Polygon> result;
    for (auto& entry : polygons) result.push_back(std::move(entry.second));
    return result;
}

}  // namespace ps::annotation
