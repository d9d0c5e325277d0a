// LabelMe JSON (version 5.1.1, what Debian's labelme reads): export of each object as polygon
// shapes without holes that share its label and group_id, checked against labelme's own
// rasterisation; optionally `mask` shapes (labelme >= 5.2); import of polygon, rectangle and mask
// shapes, `_background_` shapes cutting holes.
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "annotation/annotation_json.h"
#include "annotation/format_common.h"
#include "io/atomic_file.h"
#include "io/input_limits.h"

namespace ps::annotation {
namespace {

constexpr const char* kLabelMeVersion = "5.1.1";
// labelme_json_to_dataset paints a shape of this label as background (value 0).
constexpr const char* kBackgroundLabel = "_background_";

// One 8-connected part of an object without holes, as a 0/255 crop at `offset` in the image.
struct Piece {
    cv::Mat mask;
    cv::Point offset;
};

void add_components(const cv::Mat& mask, cv::Point offset, std::vector<Piece>& pieces) {
    cv::Mat labels, stats, centroids;
    const int count = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
    for (int label = 1; label < count; ++label) {
        const cv::Rect box(
            stats.at<int>(label, cv::CC_STAT_LEFT), stats.at<int>(label, cv::CC_STAT_TOP),
            stats.at<int>(label, cv::CC_STAT_WIDTH), stats.at<int>(label, cv::CC_STAT_HEIGHT));
        pieces.push_back({labels(box) == label, offset + box.tl()});
    }
}

// The holes of one component: background pixels not 4-connected to the outside (as
// 8-connected foreground wants), 255 in a mask of the component's size.
cv::Mat holes_of(const cv::Mat& component) {
    cv::Mat background;
    cv::copyMakeBorder(component == 0, background, 1, 1, 1, 1, cv::BORDER_CONSTANT, 255);
    cv::floodFill(background, cv::Point(0, 0), 0, nullptr, 0, 0, 4);
    return background(cv::Rect(1, 1, component.cols, component.rows));
}

// The column to cut a component at: one through the hole in the middle (by leftmost column), so
// that each side keeps about half of the others and cutting goes log(holes) deep, and of the
// columns through that hole the one that crosses the most holes (a hole is 4-connected, so every
// column between its leftmost and rightmost pixel crosses it).
int cut_column(const cv::Mat& holes) {
    cv::Mat labels, stats, centroids;
    const int count = cv::connectedComponentsWithStats(holes, labels, stats, centroids, 4, CV_32S);
    std::vector<std::pair<int, int>> spans;  // leftmost, one past the rightmost column
    std::vector<int> crossed(static_cast<size_t>(holes.cols) + 1, 0);
    for (int label = 1; label < count; ++label) {
        const int left = stats.at<int>(label, cv::CC_STAT_LEFT);
        spans.emplace_back(left, left + stats.at<int>(label, cv::CC_STAT_WIDTH));
        ++crossed[spans.back().first];
        --crossed[spans.back().second];
    }
    std::nth_element(spans.begin(), spans.begin() + static_cast<long>(spans.size() / 2),
                     spans.end());
    const auto [from, to] = spans[spans.size() / 2];
    int best = from, most = 0;
    for (int x = 0, running = 0; x < to; ++x) {
        running += crossed[x];
        if (x >= from && running > most) most = running, best = x;
    }
    return best;
}

// LabelMe has no holes: an object is the union of its shapes with one label and group_id
// (labelme's shapes_to_label and labelme2coco gather instances so). A component with holes is
// cut at a pixel column through one or more of them: both sides lose every hole the column
// crosses (it is background for them, and open to the outside) and gain none, so cutting again
// until no hole is left ends, after at most one cut per hole.
std::vector<Piece> hole_free_pieces(const cv::Mat& mask) {
    std::vector<Piece> pending, pieces;
    add_components(mask, {0, 0}, pending);
    while (!pending.empty()) {
        Piece piece = std::move(pending.back());
        pending.pop_back();
        const cv::Mat holes = holes_of(piece.mask);
        if (cv::countNonZero(holes) == 0) {
            pieces.push_back(std::move(piece));
            continue;
        }
        const int column = cut_column(holes);
        cv::Mat left = piece.mask.clone(), right = piece.mask.clone();
        left.colRange(column, left.cols).setTo(0);
        right.colRange(0, column).setTo(0);
        add_components(left, piece.offset, pending);
        add_components(right, piece.offset, pending);
    }
    std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
        return cv::countNonZero(a.mask) > cv::countNonZero(b.mask);
    });
    return pieces;
}

double overlap(const cv::Mat& a, const cv::Mat& b) {
    const int union_area = cv::countNonZero(a | b);
    return union_area == 0 ? 1.0 : static_cast<double>(cv::countNonZero(a & b)) / union_area;
}

// A 1-px wide run is walked there and back through the same pixel centres, so two edges start
// at every vertex of it, and Pillow 9.4's corner step misdraws a pixel at such a vertex unless
// the earlier edge comes late in the edge list. Started at its lowest vertex, the polygon keeps
// the vertices of the way there and simplifies the way back (vertices visited a second time)
// with Douglas-Peucker at `tolerance_px`: a straight run comes back in one edge.
Polygon walked_back_once(Polygon polygon, double tolerance_px, bool rightmost) {
    const auto lowest = std::max_element(
        polygon.begin(), polygon.end(), [&](const cv::Point2d& a, const cv::Point2d& b) {
            return a.y < b.y || (a.y == b.y && (rightmost ? a.x < b.x : a.x > b.x));
        });
    std::rotate(polygon.begin(), lowest, polygon.end());
    std::set<std::pair<double, double>> seen;
    std::vector<char> again(polygon.size());
    for (size_t i = 0; i < polygon.size(); ++i)
        again[i] = !seen.insert({polygon[i].x, polygon[i].y}).second;
    Polygon kept;
    for (size_t i = 0; i < polygon.size();) {
        if (!again[i] || kept.empty()) {
            kept.push_back(polygon[i++]);
            continue;
        }
        std::vector<cv::Point> run{cv::Point(kept.back())};
        for (; i < polygon.size() && again[i]; ++i) run.emplace_back(polygon[i]);
        run.emplace_back(polygon[i % polygon.size()]);
        std::vector<cv::Point> simplified;
        cv::approxPolyDP(run, simplified, tolerance_px, false);
        for (size_t k = 1; k + 1 < simplified.size(); ++k) kept.emplace_back(simplified[k]);
    }
    return kept;
}

// Where a stretch of the outline [from, to] (indices mod its size) turns back in y or, flat, in
// x; `to` when it runs one way.
size_t turning_point(const Polygon& path, size_t from, size_t to) {
    const size_t n = path.size();
    int y_direction = 0, x_direction = 0;
    for (size_t k = from; k < to; ++k) {
        const cv::Point2d step = path[(k + 1) % n] - path[k % n];
        const int dy = (step.y > 0) - (step.y < 0), dx = (step.x > 0) - (step.x < 0);
        if (dy != 0 && y_direction != 0 && dy != y_direction) return k;
        if (dy != 0) y_direction = dy;
        if (y_direction == 0 && dx != 0 && x_direction != 0 && dx != x_direction) return k;
        if (dx != 0) x_direction = dx;
    }
    return to;
}

// The point of the stretch [from, to] that the chord from its first to its last point misses by
// more than tolerance_px on its row, the worst one; `to` if none. Pillow fills a row from the
// nearest pixel of one crossing to the nearest of the next, so what counts is the chord's
// crossing of each pixel row against the outermost border pixel centre of the stretch there:
// the leftmost where the outline goes up, the rightmost where it goes down (the foreground lies
// on its right).
size_t worst_row_point(const Polygon& path, size_t from, size_t to, double tolerance_px) {
    const size_t n = path.size();
    const cv::Point2d a = path[from % n], b = path[to % n];
    if (a.y == b.y) return to;  // a flat stretch that runs one way: Pillow draws it as a line
    const bool up = b.y < a.y;
    auto chord_miss = [&](double row, double x) {
        return std::abs(a.x + (row - a.y) * (b.x - a.x) / (b.y - a.y) - x);
    };
    // Per row: the outermost crossing of the stretch's edges, and the edge it is on.
    std::map<int, std::pair<double, size_t>> outermost;
    auto offer = [&](int row, double x, size_t edge) {
        const auto [it, is_new] = outermost.emplace(row, std::make_pair(x, edge));
        if (!is_new && (up ? x < it->second.first : x > it->second.first)) it->second = {x, edge};
    };
    for (size_t k = from; k < to; ++k) {
        const cv::Point2d p = path[k % n], q = path[(k + 1) % n];
        if (p.y == q.y) {
            offer(static_cast<int>(p.y), p.x, k);
            offer(static_cast<int>(p.y), q.x, k);
            continue;
        }
        const int first = static_cast<int>(std::ceil(std::min(p.y, q.y))),
                  last = static_cast<int>(std::floor(std::max(p.y, q.y)));
        for (int row = first; row <= last; ++row)
            offer(row, p.x + (row - p.y) * (q.x - p.x) / (q.y - p.y), k);
    }
    double worst = tolerance_px;
    size_t worst_index = to;
    for (const auto& [row, crossing] : outermost) {
        if (chord_miss(row, crossing.first) <= worst) continue;
        worst = chord_miss(row, crossing.first);
        // Split at the end of that edge that the chord misses more (one inside the stretch).
        const size_t k = crossing.second;
        const cv::Point2d p = path[k % n], q = path[(k + 1) % n];
        if (k == from)
            worst_index = k + 1;
        else if (k + 1 == to)
            worst_index = k;
        else
            worst_index = chord_miss(p.y, p.x) >= chord_miss(q.y, q.x) ? k : k + 1;
    }
    return worst_index;
}

// Douglas-Peucker on the exact pixel-centre outline of a piece, with the distance measured as
// Pillow fills: along pixel rows, to the outermost border pixel centre (worst_row_point), on
// stretches that run one way in y. The top and bottom points are kept.
Polygon simplify_for_rows(const Polygon& path, double tolerance_px) {
    const size_t n = path.size();
    if (n < 4 || tolerance_px <= 0) return path;
    size_t top = 0, bottom = 0;
    for (size_t i = 0; i < n; ++i) {
        if (path[i].y < path[top].y || (path[i].y == path[top].y && path[i].x < path[top].x))
            top = i;
        if (path[i].y > path[bottom].y ||
            (path[i].y == path[bottom].y && path[i].x > path[bottom].x))
            bottom = i;
    }
    std::vector<char> keep(n, 0);
    keep[top] = keep[bottom] = 1;
    std::vector<std::pair<size_t, size_t>> stack;  // stretches [from, to], indices mod n
    if (top == bottom) {
        stack.emplace_back(top, top + n);
    } else {
        stack.emplace_back(top, bottom > top ? bottom : bottom + n);
        stack.emplace_back(bottom, top > bottom ? top : top + n);
    }
    while (!stack.empty()) {
        const auto [from, to] = stack.back();
        stack.pop_back();
        if (to - from < 2) continue;
        size_t split = turning_point(path, from, to);
        if (split == from) split = from + 1;
        if (split == to) split = worst_row_point(path, from, to, tolerance_px);
        if (split == to) continue;
        keep[split % n] = 1;
        stack.emplace_back(from, split);
        stack.emplace_back(split, to);
    }
    Polygon kept;
    for (size_t i = 0; i < n; ++i)
        if (keep[i]) kept.push_back(path[i]);
    return kept;
}

// The polygon of a hole-free piece that labelme draws back best: its exact outline through the
// border pixels' centres, simplified for rows (simplify_for_rows), each try rasterised as
// labelme 5.1 does (labelme_polygon_mask) and simplified again with half the tolerance (down to
// none) below `min_component_iou`. Pillow 9.4 misdraws a pixel where two edges that lean the
// same way leave one vertex (the tip of a 1-px diagonal line) unless that vertex comes late in
// the edge list, so a few starting vertices, and a 1-px run walked back once, are tried and the
// first that draws the piece best kept.
Polygon piece_polygon(const Piece& piece, PolygonOptions options) {
    const double min_iou = options.min_component_iou;
    options.convention = PixelConvention::Centres;
    options.min_component_iou = 0;  // checked here, against labelme's reading
    options.min_area_px = 0;
    constexpr int kStarts = 8;
    const double tolerance_px = options.tolerance_px;
    options.tolerance_px = 0;
    const std::vector<Polygon> exact = mask_to_polygons(piece.mask, options);
    options.tolerance_px = tolerance_px;
    while (true) {
        Polygon best;
        double best_iou = -1;
        if (!exact.empty()) {
            const Polygon polygon =
                simplify_for_rows(exact.front(), options.tolerance_px);  // one component
            auto consider = [&](Polygon candidate) {
                const double iou = overlap(
                    labelme_polygon_mask(candidate, piece.mask.rows, piece.mask.cols), piece.mask);
                if (iou > best_iou) best_iou = iou, best = std::move(candidate);
            };
            for (int start = 0; start < kStarts && best_iou < 1.0; ++start) {
                Polygon rotated = polygon;
                std::rotate(rotated.begin(),
                            rotated.begin() + static_cast<long>(polygon.size() * start / kStarts),
                            rotated.end());
                consider(std::move(rotated));
            }
            for (const double way_back_px : {0.0, 0.5, 1.0})
                for (const bool rightmost : {false, true})
                    if (best_iou < 1.0) consider(walked_back_once(polygon, way_back_px, rightmost));
        }
        if (options.tolerance_px <= 0 || best_iou >= min_iou) {
            for (cv::Point2d& point : best) point += cv::Point2d(piece.offset);
            return best;
        }
        options.tolerance_px = options.tolerance_px > 0.1 ? options.tolerance_px / 2 : 0;
    }
}

QJsonObject shape(const std::string& label, int group_id, const char* type, QJsonArray points) {
    return QJsonObject{{"label", QString::fromStdString(label)},
                       {"points", points},
                       {"group_id", group_id},
                       {"shape_type", type},
                       {"flags", QJsonObject{}}};
}

// labelme >= 5.2 `mask` shape: points are the inclusive pixel box, "mask" the box's 0/1 PNG.
QJsonObject mask_shape(const AnnotatedObject& object) {
    const cv::Mat mask = rle_decode(object.mask);
    const cv::Rect box = cv::boundingRect(mask);
    QJsonObject json = shape(object.label, object.id, "mask",
                             QJsonArray{QJsonArray{box.x, box.y},
                                        QJsonArray{box.x + box.width - 1, box.y + box.height - 1}});
    const cv::Mat crop = mask(box) / 255;
    json["mask"] = QString::fromLatin1(QByteArray::fromStdString(encode_png(crop)).toBase64());
    return json;
}

std::string compact(const QJsonValue& value) {
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return wrapped.mid(1, wrapped.size() - 2).toStdString();  // without the array's brackets
}

// labelme's key order, one shape a line: labelme writes a number a line (json.dump, indent 2),
// which made our files five times larger than their content.
std::string labelme_bytes(const std::vector<std::pair<const char*, QJsonValue>>& root) {
    std::string out = "{";
    for (size_t k = 0; k < root.size(); ++k) {
        out += std::string(k ? "," : "") + "\n  \"" + root[k].first + "\": ";
        if (!root[k].second.isArray()) {
            out += compact(root[k].second);
            continue;
        }
        const QJsonArray items = root[k].second.toArray();
        out += "[";
        for (int i = 0; i < items.size(); ++i)
            out += std::string(i ? "," : "") + "\n    " + compact(items[i]);
        out += items.isEmpty() ? "]" : "\n  ]";
    }
    return out + "\n}\n";
}

Result<cv::Mat> shape_mask(const QJsonObject& shape, int height, int width,
                           const std::string& where) {
    const std::string type = shape.value("shape_type").toString("polygon").toStdString();
    Polygon points;
    for (const QJsonValue& value : shape.value("points").toArray()) {
        const QJsonArray point = value.toArray();
        if (point.size() != 2 || !point[0].isDouble() || !point[1].isDouble())
            return make_error(ErrorKind::Format, where + ": a point is not [x, y]");
        points.emplace_back(point[0].toDouble(), point[1].toDouble());
    }
    if (auto valid = check_polygon(points, height, width, where); !valid) return valid.error();
    if (type == "polygon") {
        if (points.size() < 3)
            return make_error(ErrorKind::Format, where + ": a polygon needs 3 points or more");
        return labelme_polygon_mask(points, height, width);
    }
    if (type == "rectangle") {
        if (points.size() != 2)
            return make_error(ErrorKind::Format, where + ": a rectangle needs 2 points");
        const Polygon corners{
            points[0], {points[1].x, points[0].y}, points[1], {points[0].x, points[1].y}};
        return polygons_to_mask({corners}, height, width, PixelConvention::Centres);
    }
    if (type == "mask") {
        if (points.size() != 2)
            return make_error(ErrorKind::Format, where + ": a mask shape needs 2 points");
        const cv::Mat crop = decode_png_grey(
            QByteArray::fromBase64(shape.value("mask").toString().toLatin1()).toStdString());
        // check_polygon has bounded the points: the casts and sums fit.
        const int x0 = static_cast<int>(points[0].x), y0 = static_cast<int>(points[0].y);
        if (crop.empty() || x0 < 0 || y0 < 0 || int64_t{x0} + crop.cols > width ||
            int64_t{y0} + crop.rows > height)
            return make_error(ErrorKind::Format,
                              where + ": the mask is not a PNG inside the image");
        cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
        mask(cv::Rect(x0, y0, crop.cols, crop.rows)).setTo(255, crop != 0);
        return mask;
    }
    return make_error(ErrorKind::Unsupported,
                      where + ": shape type \"" + type + "\" is not a region (skipped)");
}

void import_file(ImportSession& session, const std::string& path, ImportSummary& summary) {
    auto bytes = io::read_whole_file(path);
    if (!bytes) {
        summary.skipped.push_back(bytes.message());
        return;
    }
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(*bytes));
    const QJsonObject root = document.object();
    const auto width = json_integer(root.value("imageWidth")),
               height = json_integer(root.value("imageHeight"));
    if (!document.isObject() || !root.value("shapes").isArray() || !width || !height ||
        *width < 1 || *height < 1) {
        summary.skipped.push_back(
            path + ": not a LabelMe file (needs \"shapes\", \"imageWidth\", \"imageHeight\")");
        return;
    }
    if (auto sized = check_image_size(*height, *width, path); !sized) {
        summary.skipped.push_back(sized.message());
        return;
    }
    // imagePath is relative to the JSON file; find that file among the project's images.
    const QString image_path = root.value("imagePath").toString();
    const QString absolute =
        QDir::cleanPath(QFileInfo(QString::fromStdString(path)).dir().filePath(image_path));
    const QString in_root =
        QDir(QString::fromStdString(session.project().image_root())).relativeFilePath(absolute);
    auto image = session.match_image(in_root.startsWith("..") ? image_path.toStdString()
                                                              : in_root.toStdString());
    if (!image) {
        summary.skipped.push_back(path + ": image \"" + image_path.toStdString() +
                                  "\" is not in the project");
        return;
    }
    // Shapes with one group_id and label are one object (labelme's instances); others alone.
    // Objects keep the order of their first shape. A `_background_` shape is a hole: it cuts its
    // pixels out of the objects before it with its group_id, or of all of them without one.
    std::vector<std::pair<std::string, cv::Mat>> masks;
    std::vector<std::optional<int>> mask_groups;
    std::map<std::pair<std::string, int>, size_t> groups;  // label, group_id -> index in masks
    const QJsonArray shapes = root.value("shapes").toArray();
    for (int i = 0; i < shapes.size(); ++i) {
        const QJsonObject json = shapes[i].toObject();
        const std::string where = path + ": shape " + std::to_string(i + 1);
        const std::string raw_label = json.value("label").toString().toStdString();
        if (raw_label.empty()) {
            summary.skipped.push_back(where + ": no label");
            continue;
        }
        // Trimmed and checked as COCO category names are: a label with a line break or a
        // control character is this shape's problem, named here, not the whole label set's.
        auto checked_label = io::check_label(raw_label);
        if (!checked_label) {
            summary.skipped.push_back(where + ": " + checked_label.message());
            continue;
        }
        const std::string label = *checked_label;
        auto mask = shape_mask(json, *height, *width, where);
        if (!mask) {
            summary.skipped.push_back(mask.message());
            continue;
        }
        const auto group = json_integer(json.value("group_id"));
        if (label == kBackgroundLabel) {
            for (size_t m = 0; m < masks.size(); ++m)
                if (!group || mask_groups[m] == group) masks[m].second.setTo(0, *mask);
            continue;
        }
        if (group) {
            const auto [it, is_new] = groups.emplace(std::make_pair(label, *group), masks.size());
            if (!is_new) {
                masks[it->second].second |= *mask;
                continue;
            }
        }
        masks.emplace_back(label, std::move(*mask));
        mask_groups.push_back(group);
    }
    std::vector<std::pair<std::string, Rle>> objects;
    for (const auto& [label, mask] : masks)
        if (cv::countNonZero(mask) > 0) objects.emplace_back(label, rle_encode(mask));
    session.add(*image, *width, *height, objects, path);
}

}  // namespace

Status write_labelme(const Project& project, const ExportSet& set, const std::string& out,
                     const ExportOptions& options, ExportSummary& summary) {
    for (const ExportImage& image : set.images) {
        QJsonArray shapes;
        for (const AnnotatedObject* object : image.objects) {
            for (const Piece& piece : hole_free_pieces(rle_decode(object->mask))) {
                if (cv::countNonZero(piece.mask) < options.polygon.min_area_px) continue;
                const Polygon polygon = piece_polygon(piece, options.polygon);
                if (polygon.empty()) continue;
                QJsonArray points;
                // labelme asserts more than two points; a 1- or 2-pixel part repeats its last.
                for (size_t k = 0; k < std::max<size_t>(polygon.size(), 3); ++k) {
                    const cv::Point2d& p = polygon[std::min(k, polygon.size() - 1)];
                    points.append(QJsonArray{p.x, p.y});
                }
                shapes.append(shape(object->label, object->id, "polygon", points));
            }
            if (options.labelme_masks) shapes.append(mask_shape(*object));
        }
        const std::string json_path = out + "/" + image.stem + ".json";
        const QString image_path = QFileInfo(QString::fromStdString(set.final_path(json_path)))
                                       .dir()
                                       .relativeFilePath(QString::fromStdString(
                                           project.image_path(image.annotation.image_file)));
        const std::vector<std::pair<const char*, QJsonValue>> root{
            {"version", kLabelMeVersion},
            {"flags", QJsonObject{}},
            {"shapes", shapes},
            {"imagePath", image_path},
            {"imageData", QJsonValue::Null},
            {"imageHeight", image.annotation.height},
            {"imageWidth", image.annotation.width}};
        if (auto written = write_output(json_path, labelme_bytes(root), summary); !written)
            return written;
    }
    return Ok{};
}

Result<ImportSummary> import_labelme(Project& project, const std::string& path, ImportMode mode) {
    const QFileInfo info(QString::fromStdString(path));
    if (!info.exists()) return make_error(ErrorKind::Io, path + ": no such file or folder");
    std::vector<std::string> files;
    if (info.isDir()) {
        QDirIterator it(info.absoluteFilePath(), {"*.json"}, QDir::Files,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) files.push_back(it.next().toStdString());
        std::sort(files.begin(), files.end());
    } else {
        files.push_back(info.absoluteFilePath().toStdString());
    }
    ImportSummary summary;
    ImportSession session(project, "import:labelme", mode, summary);
    for (const std::string& file : files) import_file(session, file, summary);
    if (auto finished = session.finish(); !finished) return finished.error();
    return summary;
}

}  // namespace ps::annotation
