// Parts of one object chained into one polygon by zero-width bridges (see polygon_merge.h).
#include "annotation/polygon_merge.h"

#include <algorithm>
#include <limits>

namespace ps::annotation {
namespace {

struct Box {
    double left, top, right, bottom;
};

Box bounds(const Polygon& polygon) {
    Box box{polygon[0].x, polygon[0].y, polygon[0].x, polygon[0].y};
    for (const cv::Point2d& p : polygon) {
        box.left = std::min(box.left, p.x), box.right = std::max(box.right, p.x);
        box.top = std::min(box.top, p.y), box.bottom = std::max(box.bottom, p.y);
    }
    return box;
}

// No two vertices of polygons in these boxes are closer than this (squared).
double lower_bound_squared(const Box& a, const Box& b) {
    const double dx = std::max({0.0, b.left - a.right, a.left - b.right});
    const double dy = std::max({0.0, b.top - a.bottom, a.top - b.bottom});
    return dx * dx + dy * dy;
}

struct Link {
    size_t from_vertex = 0, to_vertex = 0;
    double distance_squared = std::numeric_limits<double>::infinity();
};

// The closest pair of vertices, as Ultralytics' min_index (first pair on ties).
Link closest_vertices(const Polygon& from, const Polygon& to) {
    Link best;
    for (size_t i = 0; i < from.size(); ++i)
        for (size_t j = 0; j < to.size(); ++j) {
            const cv::Point2d d = from[i] - to[j];
            const double distance_squared = d.dot(d);
            if (distance_squared < best.distance_squared) best = {i, j, distance_squared};
        }
    return best;
}

// Appends `steps` + 1 vertices of `polygon`, from vertex `first` onwards (wrapping round).
void walk(const Polygon& polygon, size_t first, size_t steps, Polygon& out) {
    for (size_t step = 0; step <= steps; ++step)
        out.push_back(polygon[(first + step) % polygon.size()]);
}

}  // namespace

Polygon merge_polygons(const std::vector<Polygon>& parts) {
    std::vector<const Polygon*> remaining;
    for (const Polygon& part : parts)
        if (!part.empty()) remaining.push_back(&part);
    if (remaining.empty()) return {};
    if (remaining.size() == 1) return *remaining[0];

    // The chain: each part with the vertex where the bridge from the previous one arrives
    // (`entry`) and the vertex where the bridge to the next one leaves (`exit`).
    struct Step {
        const Polygon* part;
        size_t entry = 0, exit = 0;
    };
    std::vector<Step> chain{{remaining[0]}};
    remaining.erase(remaining.begin());
    std::vector<Box> boxes;
    for (const Polygon* part : remaining) boxes.push_back(bounds(*part));
    while (!remaining.empty()) {
        const Box last_box = bounds(*chain.back().part);
        Link best;
        size_t best_index = 0;
        for (size_t k = 0; k < remaining.size(); ++k) {
            if (lower_bound_squared(last_box, boxes[k]) >= best.distance_squared) continue;
            const Link link = closest_vertices(*chain.back().part, *remaining[k]);
            if (link.distance_squared < best.distance_squared) best = link, best_index = k;
        }
        chain.back().exit = best.from_vertex;
        chain.push_back({remaining[best_index], best.to_vertex});
        remaining.erase(remaining.begin() + static_cast<std::ptrdiff_t>(best_index));
        boxes.erase(boxes.begin() + static_cast<std::ptrdiff_t>(best_index));
    }

    // Forward: the first part all round (from its exit back to it), each middle part from its
    // entry to its exit, the last part all round. Back: each middle part from its exit on round
    // to its entry, last to second; the outline then closes along the first bridge.
    Polygon merged;
    walk(*chain.front().part, chain.front().exit, chain.front().part->size(), merged);
    auto forward_steps = [](const Step& step) {
        const size_t n = step.part->size();
        return (step.exit + n - step.entry) % n;
    };
    for (size_t i = 1; i + 1 < chain.size(); ++i)
        walk(*chain[i].part, chain[i].entry, forward_steps(chain[i]), merged);
    walk(*chain.back().part, chain.back().entry, chain.back().part->size(), merged);
    for (size_t i = chain.size() - 2; i >= 1; --i)
        walk(*chain[i].part, chain[i].exit, chain[i].part->size() - forward_steps(chain[i]),
             merged);

    Polygon polygon;
    polygon.reserve(merged.size());
    for (const cv::Point2d& point : merged)
        if (polygon.empty() || polygon.back() != point) polygon.push_back(point);
    while (polygon.size() > 1 && polygon.back() == polygon.front()) polygon.pop_back();
    return polygon;
}

}  // namespace ps::annotation
