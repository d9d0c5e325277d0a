// LabelMe JSON (version 5.1.1, what Debian's labelme reads): export as polygon shapes in
// labelme's pixel-centre convention, optionally `mask` shapes (labelme >= 5.2); import of
// polygon, rectangle and mask shapes.
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/imgproc.hpp>

#include <map>

#include "annotation/annotation_json.h"
#include "annotation/atomic_file.h"
#include "annotation/format_common.h"

namespace ps::annotation {
namespace {

constexpr const char* kLabelMeVersion = "5.1.1";

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
                             QJsonArray{QJsonArray{box.x, box.y}, QJsonArray{box.x + box.width - 1, box.y + box.height - 1}});
    const cv::Mat crop = mask(box) / 255;
    json["mask"] = QString::fromLatin1(QByteArray::fromStdString(encode_png(crop)).toBase64());
    return json;
}

Result<cv::Mat> shape_mask(const QJsonObject& shape, int height, int width, const std::string& where) {
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
        if (points.size() < 3) return make_error(ErrorKind::Format, where + ": a polygon needs 3 points or more");
        return polygons_to_mask({points}, height, width, PixelConvention::Centres);
    }
    if (type == "rectangle") {
        if (points.size() != 2) return make_error(ErrorKind::Format, where + ": a rectangle needs 2 points");
        const Polygon corners{points[0], {points[1].x, points[0].y}, points[1], {points[0].x, points[1].y}};
        return polygons_to_mask({corners}, height, width, PixelConvention::Centres);
    }
    if (type == "mask") {
        if (points.size() != 2) return make_error(ErrorKind::Format, where + ": a mask shape needs 2 points");
        const cv::Mat crop = decode_png_grey(QByteArray::fromBase64(shape.value("mask").toString().toLatin1()).toStdString());
        // check_polygon has bounded the points: the casts and sums fit.
        const int x0 = static_cast<int>(points[0].x), y0 = static_cast<int>(points[0].y);
        if (crop.empty() || x0 < 0 || y0 < 0 || int64_t{x0} + crop.cols > width || int64_t{y0} + crop.rows > height)
            return make_error(ErrorKind::Format, where + ": the mask is not a PNG inside the image");
        cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
        mask(cv::Rect(x0, y0, crop.cols, crop.rows)).setTo(255, crop != 0);
        return mask;
    }
    return make_error(ErrorKind::Unsupported, where + ": shape type \"" + type + "\" is not a region (skipped)");
}

void import_file(ImportSession& session, const std::string& path, ImportSummary& summary) {
    auto bytes = read_whole_file(path);
    if (!bytes) {
        summary.skipped.push_back(bytes.message());
        return;
    }
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(*bytes));
    const QJsonObject root = document.object();
    const auto width = json_integer(root.value("imageWidth")), height = json_integer(root.value("imageHeight"));
    if (!document.isObject() || !root.value("shapes").isArray() || !width || !height || *width < 1 || *height < 1) {
        summary.skipped.push_back(path + ": not a LabelMe file (needs \"shapes\", \"imageWidth\", \"imageHeight\")");
        return;
    }
    if (auto sized = check_image_size(*height, *width, path); !sized) {
        summary.skipped.push_back(sized.message());
        return;
    }
    // imagePath is relative to the JSON file; find that file among the project's images.
    const QString image_path = root.value("imagePath").toString();
    const QString absolute = QDir::cleanPath(QFileInfo(QString::fromStdString(path)).dir().filePath(image_path));
    const QString in_root = QDir(QString::fromStdString(session.project().image_root())).relativeFilePath(absolute);
    auto image = session.match_image(in_root.startsWith("..") ? image_path.toStdString() : in_root.toStdString());
    if (!image) {
        summary.skipped.push_back(path + ": image \"" + image_path.toStdString() + "\" is not in the project");
        return;
    }
    // Shapes with one group_id and label are one object (labelme's instances); others alone.
    // Objects keep the order of their first shape.
    std::vector<std::pair<std::string, cv::Mat>> masks;
    std::map<std::pair<std::string, int>, size_t> groups;  // label, group_id -> index in masks
    const QJsonArray shapes = root.value("shapes").toArray();
    for (int i = 0; i < shapes.size(); ++i) {
        const QJsonObject json = shapes[i].toObject();
        const std::string label = json.value("label").toString().toStdString();
        const std::string where = path + ": shape " + std::to_string(i + 1);
        if (label.empty()) {
            summary.skipped.push_back(where + ": no label");
            continue;
        }
        auto mask = shape_mask(json, *height, *width, where);
        if (!mask) {
            summary.skipped.push_back(mask.message());
            continue;
        }
        const auto group = json_integer(json.value("group_id"));
        if (group) {
            const auto [it, is_new] = groups.emplace(std::make_pair(label, *group), masks.size());
            if (!is_new) {
                masks[it->second].second |= *mask;
                continue;
            }
        }
        masks.emplace_back(label, std::move(*mask));
    }
    std::vector<std::pair<std::string, Rle>> objects;
    for (const auto& [label, mask] : masks) objects.emplace_back(label, rle_encode(mask));
    session.add(*image, *width, *height, objects, path);
}

}  // namespace

Status write_labelme(const Project& project, const ExportSet& set, const std::string& out, const ExportOptions& options,
                     ExportSummary& summary) {
    PolygonOptions polygon_options = options.polygon;
    polygon_options.convention = PixelConvention::Centres;
    for (const ExportImage& image : set.images) {
        QJsonArray shapes;
        for (const AnnotatedObject* object : image.objects) {
            for (const Polygon& polygon : mask_to_polygons(rle_decode(object->mask), polygon_options)) {
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
        const QString image_path = QFileInfo(QString::fromStdString(json_path))
                                       .dir()
                                       .relativeFilePath(QString::fromStdString(project.image_path(image.annotation.image_file)));
        const QJsonObject root{{"version", kLabelMeVersion},
                               {"flags", QJsonObject{}},
                               {"shapes", shapes},
                               {"imagePath", image_path},
                               {"imageData", QJsonValue::Null},
                               {"imageHeight", image.annotation.height},
                               {"imageWidth", image.annotation.width}};
        if (auto written = write_output(json_path, json_bytes(root), summary); !written) return written;
    }
    return Ok{};
}

Result<ImportSummary> import_labelme(Project& project, const std::string& path) {
    const QFileInfo info(QString::fromStdString(path));
    if (!info.exists()) return make_error(ErrorKind::Io, path + ": no such file or folder");
    std::vector<std::string> files;
    if (info.isDir()) {
        QDirIterator it(info.absoluteFilePath(), {"*.json"}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) files.push_back(it.next().toStdString());
        std::sort(files.begin(), files.end());
    } else {
        files.push_back(info.absoluteFilePath().toStdString());
    }
    ImportSummary summary;
    ImportSession session(project, "import:labelme", summary);
    for (const std::string& file : files) import_file(session, file, summary);
    if (auto finished = session.finish(); !finished) return finished.error();
    return summary;
}

}  // namespace ps::annotation
