// COCO instances JSON: export (compressed RLE, or polygons per option) and import (RLE string,
// RLE counts list, polygons), as pycocotools reads and writes them.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <set>

#include "annotation/annotation_json.h"
#include "annotation/format_common.h"
#include "io/atomic_file.h"
#include "io/input_limits.h"

namespace ps::annotation {
namespace {

QJsonArray polygons_to_json(const std::vector<Polygon>& polygons) {
    QJsonArray segmentation;
    for (const Polygon& polygon : polygons) {
        QJsonArray flat;
        for (const cv::Point2d& point : polygon) {
            flat.append(point.x);
            flat.append(point.y);
        }
        // pycocotools needs at least three points (six numbers) per polygon.
        while (flat.size() < 6) {
            flat.append(polygon.back().x);
            flat.append(polygon.back().y);
        }
        segmentation.append(flat);
    }
    return segmentation;
}

Result<Rle> segmentation_to_rle(const QJsonValue& segmentation, int height, int width,
                                const std::string& where) {
    if (segmentation.isObject()) return rle_from_json(segmentation, where);
    if (!segmentation.isArray())
        return make_error(ErrorKind::Format,
                          where + ": \"segmentation\" is neither RLE nor polygons");
    std::vector<Polygon> polygons;
    for (const QJsonValue& value : segmentation.toArray()) {
        const QJsonArray flat = value.toArray();
        if (flat.size() < 6 || flat.size() % 2 != 0)
            return make_error(ErrorKind::Format,
                              where + ": a polygon needs an even count of at least 6 numbers");
        Polygon polygon;
        for (int i = 0; i < flat.size(); i += 2) {
            if (!flat[i].isDouble() || !flat[i + 1].isDouble())
                return make_error(ErrorKind::Format,
                                  where + ": a polygon holds something other than numbers");
            polygon.emplace_back(flat[i].toDouble(), flat[i + 1].toDouble());
        }
        if (auto valid = check_polygon(polygon, height, width, where); !valid) return valid.error();
        polygons.push_back(std::move(polygon));
    }
    return rle_encode(polygons_to_mask(polygons, height, width, PixelConvention::Corners));
}

}  // namespace

Status write_coco(const Project& project, const ExportSet& set, const std::string& out,
                  const ExportOptions& options, ExportSummary& summary) {
    QJsonArray categories;
    for (size_t i = 0; i < set.categories.size(); ++i)
        categories.append(QJsonObject{{"id", static_cast<int>(i + 1)},
                                      {"name", QString::fromStdString(set.categories[i])},
                                      {"supercategory", ""}});
    QJsonArray images, annotations;
    std::set<int> used_ids;
    int annotation_id = 0;
    for (const ExportImage& image : set.images) {
        // Stable ids from the file name; a hash collision (rare) takes the next free id.
        int image_id = coco_image_id(image.annotation.image_file);
        while (!used_ids.insert(image_id).second)
            image_id = image_id == 0x7fffffff ? 1 : image_id + 1;
        images.append(
            QJsonObject{{"id", image_id},
                        {"file_name", QString::fromStdString(image.annotation.image_file)},
                        {"width", image.annotation.width},
                        {"height", image.annotation.height}});
        for (const AnnotatedObject* object : image.objects) {
            const auto bbox = rle_bbox(object->mask);
            QJsonObject annotation{{"id", ++annotation_id},
                                   {"image_id", image_id},
                                   {"category_id", set.category_index(object->label) + 1},
                                   {"area", static_cast<double>(rle_area(object->mask))},
                                   {"bbox", QJsonArray{bbox[0], bbox[1], bbox[2], bbox[3]}},
                                   {"iscrowd", 0}};
            if (options.coco_polygons) {
                PolygonOptions polygon_options = options.polygon;
                polygon_options.convention = PixelConvention::Corners;
                annotation["segmentation"] =
                    polygons_to_json(mask_to_polygons(rle_decode(object->mask), polygon_options));
            } else {
                annotation["segmentation"] = rle_to_json(object->mask);
            }
            annotations.append(annotation);
        }
    }
    QJsonObject root{
        {"info", QJsonObject{{"description", "Photosynth annotation project " +
                                                 QString::fromStdString(project.folder())}}},
        {"images", images},
        {"annotations", annotations},
        {"categories", categories}};
    return write_output(out + "/annotations.json", json_bytes(root), summary);
}

Result<ImportSummary> import_coco(Project& project, const std::string& coco_json_path,
                                  ImportMode mode) {
    auto bytes = io::read_whole_file(coco_json_path);
    if (!bytes) return bytes.error();
    QJsonParseError parse_error{};
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(*bytes), &parse_error);
    if (parse_error.error != QJsonParseError::NoError || !document.isObject())
        return make_error(ErrorKind::Format, coco_json_path + ": not a COCO JSON object (" +
                                                 parse_error.errorString().toStdString() + ")");
    const QJsonObject root = document.object();
    if (!root.value("images").isArray() || !root.value("annotations").isArray())
        return make_error(ErrorKind::Format,
                          coco_json_path + ": needs \"images\" and \"annotations\" lists");

    std::map<int, std::string> category_names;
    for (const QJsonValue& value : root.value("categories").toArray()) {
        const auto id = json_integer(value.toObject().value("id"));
        const std::string name = value.toObject().value("name").toString().toStdString();
        if (!id || name.empty())
            return make_error(ErrorKind::Format,
                              coco_json_path + ": a category lacks \"id\" or \"name\"");
        auto checked = io::check_label(name);
        if (!checked)
            return make_error(
                ErrorKind::Format,
                coco_json_path + ": category " + std::to_string(*id) + ": " + checked.message());
        category_names[*id] = *checked;
    }
    struct Image {
        std::string file_name;
        int width = 0, height = 0;
        std::vector<std::pair<std::string, Rle>> objects;
    };
    std::map<int, Image> images;
    for (const QJsonValue& value : root.value("images").toArray()) {
        const QJsonObject json = value.toObject();
        const auto id = json_integer(json.value("id"));
        const auto width = json_integer(json.value("width")),
                   height = json_integer(json.value("height"));
        if (!id || !width || !height || *width < 1 || *height < 1 ||
            !json.value("file_name").isString())
            return make_error(
                ErrorKind::Format,
                coco_json_path + ": an image lacks \"id\", \"file_name\", \"width\" or \"height\"");
        if (auto sized = check_image_size(*height, *width,
                                          coco_json_path + ": image " + std::to_string(*id));
            !sized)
            return sized.error();
        images[*id] = {json.value("file_name").toString().toStdString(), *width, *height, {}};
    }

    ImportSummary summary;
    const QJsonArray annotations = root.value("annotations").toArray();
    for (int i = 0; i < annotations.size(); ++i) {
        const QJsonObject json = annotations[i].toObject();
        const std::string where = coco_json_path + ": annotation " +
                                  std::to_string(json_integer(json.value("id")).value_or(i + 1));
        const auto image_id = json_integer(json.value("image_id"));
        const auto category_id = json_integer(json.value("category_id"));
        const auto image = image_id ? images.find(*image_id) : images.end();
        if (image == images.end()) {
            summary.skipped.push_back(where + ": no image with that \"image_id\"");
            continue;
        }
        const auto category =
            category_id ? category_names.find(*category_id) : category_names.end();
        if (category == category_names.end()) {
            summary.skipped.push_back(where + ": no category with that \"category_id\"");
            continue;
        }
        auto rle = segmentation_to_rle(json.value("segmentation"), image->second.height,
                                       image->second.width, where);
        if (!rle) {
            summary.skipped.push_back(rle.message());
            continue;
        }
        if (rle->height != image->second.height || rle->width != image->second.width) {
            summary.skipped.push_back(where + ": the RLE size differs from the image's");
            continue;
        }
        image->second.objects.emplace_back(category->second, std::move(*rle));
    }

    ImportSession session(project, "import:coco", mode, summary);
    for (const auto& [id, image] : images) {
        if (image.objects.empty()) continue;
        const auto target = session.match_image(image.file_name);
        if (!target) {
            summary.skipped.push_back(coco_json_path + ": image \"" + image.file_name +
                                      "\" is not in the project");
            continue;
        }
        session.add(*target, image.width, image.height, image.objects,
                    coco_json_path + ": image \"" + image.file_name + "\"");
    }
    if (auto finished = session.finish(); !finished) return finished.error();
    return summary;
}

}  // namespace ps::annotation
