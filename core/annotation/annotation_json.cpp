// The JSON schemas "photosynth-annotation/1" and the label set of "photosynth-project/1"
// (docs/annotation-format.md): writing, and reading with a message for every malformed field.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <set>

#include "annotation/annotation_json.h"
#include "annotation/project.h"
#include "io/image_reader.h"
#include "io/input_limits.h"

namespace ps::annotation {
namespace {

QString qstring(const std::string& text) {
    return QString::fromStdString(text);
}

// A JSON string literal, escaped by Qt's writer.
std::string json_string(const std::string& text) {
    const QByteArray array =
        QJsonDocument(QJsonArray{qstring(text)}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2).toStdString();
}

// Ids are counted up by one from the file's next_object_id (here, in the editor, in a batch):
// far below INT_MAX, no count can overflow; no person or batch makes 2^30 objects on an image.
constexpr int kMaxObjectId = 1 << 30;

Error malformed(const std::string& context, const std::string& problem) {
    return make_error(ErrorKind::Format, context + ": " + problem);
}

std::string colour_to_hex(const std::array<uint8_t, 3>& colour) {
    char text[8];
    std::snprintf(text, sizeof text, "#%02x%02x%02x", colour[0], colour[1], colour[2]);
    return text;
}

std::optional<std::array<uint8_t, 3>> colour_from_json(const QJsonValue& value) {
    std::array<uint8_t, 3> colour{};
    if (value.isString()) {
        const QString text = value.toString();
        if (text.size() != 7 || !text.startsWith('#')) return std::nullopt;
        for (int i = 0; i < 3; ++i) {
            bool ok = false;
            const int channel = text.mid(1 + 2 * i, 2).toInt(&ok, 16);
            if (!ok) return std::nullopt;
            colour[static_cast<size_t>(i)] = static_cast<uint8_t>(channel);
        }
        return colour;
    }
    if (value.isArray() && value.toArray().size() == 3) {
        for (int i = 0; i < 3; ++i) {
            const auto channel = json_integer(value.toArray()[i]);
            if (!channel || *channel < 0 || *channel > 255) return std::nullopt;
            colour[static_cast<size_t>(i)] = static_cast<uint8_t>(*channel);
        }
        return colour;
    }
    return std::nullopt;
}

QJsonObject prompts_to_json(const ObjectPrompts& prompts) {
    QJsonObject json;
    QJsonArray points;
    for (const PromptPoint& point : prompts.points)
        points.append(QJsonArray{point.x, point.y, point.positive ? 1 : 0});
    json["points"] = points;
    if (prompts.box) {
        const auto& box = *prompts.box;
        json["box"] = QJsonArray{box[0], box[1], box[2], box[3]};
    }
    return json;
}

Result<ObjectPrompts> prompts_from_json(const QJsonValue& value, const std::string& where) {
    ObjectPrompts prompts;
    if (value.isUndefined() || value.isNull()) return prompts;
    if (!value.isObject()) return malformed(where, "\"prompts\" is not an object");
    const QJsonObject json = value.toObject();
    for (const QJsonValue& point_value : json.value("points").toArray()) {
        const QJsonArray point = point_value.toArray();
        if (point.size() != 3 || !point[0].isDouble() || !point[1].isDouble() ||
            !point[2].isDouble())
            return malformed(where, "a prompt point is not [x, y, 1 or 0]");
        prompts.points.push_back(
            {point[0].toDouble(), point[1].toDouble(), point[2].toDouble() != 0});
    }
    if (json.contains("box") && !json.value("box").isNull()) {
        const QJsonArray box = json.value("box").toArray();
        if (box.size() != 4) return malformed(where, "the prompt box is not [x0, y0, x1, y1]");
        std::array<double, 4> corners{};
        for (int i = 0; i < 4; ++i) {
            if (!box[i].isDouble())
                return malformed(where, "the prompt box is not [x0, y0, x1, y1]");
            corners[static_cast<size_t>(i)] = box[i].toDouble();
        }
        prompts.box = corners;
    }
    return prompts;
}

QJsonObject object_to_json(const AnnotatedObject& object) {
    QJsonObject json;
    json["id"] = object.id;
    json["label"] = qstring(object.label);
    json["mask"] = rle_to_json(object.mask);
    // Derived from the mask (never stale); written for readers that want it without decoding.
    const auto bbox = rle_bbox(object.mask);
    json["bbox"] = QJsonArray{bbox[0], bbox[1], bbox[2], bbox[3]};
    json["prompts"] = prompts_to_json(object.prompts);
    json["model"] = qstring(object.model);
    json["predicted_iou"] = object.predicted_iou;
    json["verified"] = object.verified;
    json["hidden"] = object.hidden;
    return json;
}

Result<AnnotatedObject> object_from_json(const QJsonValue& value, int height, int width,
                                         const std::string& where) {
    if (!value.isObject()) return malformed(where, "is not a JSON object");
    const QJsonObject json = value.toObject();
    AnnotatedObject object;
    const auto id = json_integer(json.value("id"));
    if (!id || *id < 1 || *id > kMaxObjectId)
        return malformed(where,
                         "\"id\" must be a whole number from 1 to " + std::to_string(kMaxObjectId));
    object.id = *id;
    if (!json.value("label").isString() || json.value("label").toString().isEmpty())
        return malformed(where, "\"label\" must be a non-empty string");
    auto label = io::check_label(json.value("label").toString().toStdString());
    if (!label) return malformed(where, label.message());
    object.label = *label;
    auto mask = rle_from_json(json.value("mask"), where + " \"mask\"");
    if (!mask) return mask.error();
    if (mask->height != height || mask->width != width)
        return malformed(where, "mask size [" + std::to_string(mask->height) + ", " +
                                    std::to_string(mask->width) + "] differs from the image's [" +
                                    std::to_string(height) + ", " + std::to_string(width) + "]");
    object.mask = std::move(*mask);
    object.bbox = rle_bbox(object.mask);
    auto prompts = prompts_from_json(json.value("prompts"), where);
    if (!prompts) return prompts.error();
    object.prompts = std::move(*prompts);
    object.model = json.value("model").toString().toStdString();
    object.predicted_iou = json.value("predicted_iou").toDouble(0);
    object.verified = json.value("verified").toBool(false);
    object.hidden = json.value("hidden").toBool(false);
    return object;
}

}  // namespace

std::optional<int> json_integer(const QJsonValue& value) {
    if (!value.isDouble()) return std::nullopt;
    const double number = value.toDouble();
    if (number != std::floor(number) || number < -2147483648.0 || number > 2147483647.0)
        return std::nullopt;
    return static_cast<int>(number);
}

Status check_image_size(int height, int width, const std::string& context) {
    // Read once: a bad value of the variable warns once, not once per mask.
    static const long long max_pixels = io::ImageReadOptions::from_environment().max_pixels;
    if (height < 0 || width < 0 || static_cast<long long>(height) * width > max_pixels)
        return malformed(context, "size [" + std::to_string(height) + ", " + std::to_string(width) +
                                      "] is over the limit of " + std::to_string(max_pixels) +
                                      " pixels (PHOTOSYNTH_MAX_PIXELS)");
    return Ok{};
}

QJsonObject rle_to_json(const Rle& rle) {
    QJsonObject json;
    json["size"] = QJsonArray{rle.height, rle.width};
    json["counts"] = QString::fromStdString(rle_to_string(rle));
    return json;
}

Result<Rle> rle_from_json(const QJsonValue& value, const std::string& context) {
    if (!value.isObject()) return malformed(context, "is not an RLE object {\"size\", \"counts\"}");
    const QJsonObject json = value.toObject();
    const QJsonArray size = json.value("size").toArray();
    const int height = size.size() == 2 ? json_integer(size[0]).value_or(-1) : -1;
    const int width = size.size() == 2 ? json_integer(size[1]).value_or(-1) : -1;
    if (height < 0 || width < 0) return malformed(context, "\"size\" must be [height, width]");
    if (auto sized = check_image_size(height, width, context); !sized) return sized.error();
    const QJsonValue counts = json.value("counts");
    if (counts.isString())
        return rle_from_string(counts.toString().toStdString(), height, width, context);
    if (counts.isArray()) {
        std::vector<uint32_t> runs;
        for (const QJsonValue& run : counts.toArray()) {
            if (!run.isDouble() || run.toDouble() < 0 || run.toDouble() > 4294967295.0 ||
                run.toDouble() != std::floor(run.toDouble()))
                return malformed(context, "\"counts\" must hold whole numbers >= 0");
            runs.push_back(static_cast<uint32_t>(run.toDouble()));
        }
        return rle_from_counts(std::move(runs), height, width, context);
    }
    return malformed(context, "\"counts\" must be a string or a list of numbers");
}

std::string annotation_to_json(const ImageAnnotation& annotation) {
    int next_id = std::max(annotation.next_object_id, 1);
    for (const auto& object : annotation.objects) next_id = std::max(next_id, object.id + 1);
    // Written by hand at the top level so that "schema" and "status" come first: Project::status
    // reads only the head of each file (a folder view asks for every image). One object per line
    // keeps files diffable.
    std::string text = "{\n";
    text += "  \"schema\": " + json_string(kAnnotationSchema) + ",\n";
    text += "  \"status\": " + json_string(to_string(annotation.status)) + ",\n";
    text += "  \"image\": " + json_string(annotation.image_file) + ",\n";
    text += "  \"width\": " + std::to_string(annotation.width) + ",\n";
    text += "  \"height\": " + std::to_string(annotation.height) + ",\n";
    text += "  \"next_object_id\": " + std::to_string(next_id) + ",\n";
    text += "  \"objects\": [";
    for (size_t i = 0; i < annotation.objects.size(); ++i) {
        text += i == 0 ? "\n    " : ",\n    ";
        text += QJsonDocument(object_to_json(annotation.objects[i]))
                    .toJson(QJsonDocument::Compact)
                    .toStdString();
    }
    text += annotation.objects.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return text;
}

Result<ImageAnnotation> annotation_from_json(const std::string& json, const std::string& context) {
    QJsonParseError parse_error{};
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(json), &parse_error);
    if (parse_error.error != QJsonParseError::NoError)
        return malformed(context, "not valid JSON (" + parse_error.errorString().toStdString() +
                                      " at byte " + std::to_string(parse_error.offset) + ")");
    if (!document.isObject()) return malformed(context, "not a JSON object");
    const QJsonObject root = document.object();
    const std::string schema = root.value("schema").toString().toStdString();
    if (schema != kAnnotationSchema) {
        if (schema.rfind("photosynth-annotation/", 0) == 0)
            return make_error(ErrorKind::Unsupported,
                              context + ": schema \"" + schema +
                                  "\" is newer than this Photosynth reads (" + kAnnotationSchema +
                                  ")");
        return malformed(context, "\"schema\" is not \"" + std::string(kAnnotationSchema) + "\"");
    }
    ImageAnnotation annotation;
    annotation.image_file = root.value("image").toString().toStdString();
    const auto width = json_integer(root.value("width"));
    const auto height = json_integer(root.value("height"));
    if (!width || !height || *width < 1 || *height < 1)
        return malformed(context, "\"width\" and \"height\" must be whole numbers >= 1");
    if (auto sized = check_image_size(*height, *width, context); !sized) return sized.error();
    annotation.width = *width;
    annotation.height = *height;
    const auto status = image_status_from_string(root.value("status").toString().toStdString());
    if (!status) return malformed(context, "\"status\" must be not_started, in_progress or done");
    annotation.status = *status;
    const auto next_id = json_integer(root.value("next_object_id"));
    if (!next_id || *next_id < 1 || *next_id > kMaxObjectId)
        return malformed(context, "\"next_object_id\" must be a whole number from 1 to " +
                                      std::to_string(kMaxObjectId));
    annotation.next_object_id = *next_id;
    if (!root.value("objects").isArray()) return malformed(context, "\"objects\" must be a list");
    std::set<int> ids;
    const QJsonArray objects = root.value("objects").toArray();
    for (int i = 0; i < objects.size(); ++i) {
        auto object = object_from_json(objects[i], annotation.height, annotation.width,
                                       context + ": object " + std::to_string(i + 1));
        if (!object) return object.error();
        if (!ids.insert(object->id).second)
            return malformed(context, "object id " + std::to_string(object->id) + " appears twice");
        annotation.next_object_id = std::max(annotation.next_object_id, object->id + 1);
        annotation.objects.push_back(std::move(*object));
    }
    return annotation;
}

QJsonArray labels_to_json_array(const LabelSet& labels) {
    QJsonArray array;
    for (const Label& label : labels.labels) {
        QJsonObject json;
        json["name"] = qstring(label.name);
        json["colour"] = qstring(colour_to_hex(label.colour));
        json["hotkey"] = qstring(label.hotkey);
        array.append(json);
    }
    return array;
}

Result<LabelSet> labels_from_json_value(const QJsonValue& value, const std::string& context) {
    if (!value.isArray()) return malformed(context, "\"labels\" must be a list");
    LabelSet labels;
    std::set<std::string> names;
    const QJsonArray array = value.toArray();
    for (int i = 0; i < array.size(); ++i) {
        const std::string where = "label " + std::to_string(i + 1);
        if (!array[i].isObject()) return malformed(context, where + " is not an object");
        const QJsonObject json = array[i].toObject();
        Label label;
        label.name = json.value("name").toString().toStdString();
        if (label.name.empty()) return malformed(context, where + " has no \"name\"");
        auto name = io::check_label(label.name);
        if (!name) return malformed(context, where + ": " + name.message());
        label.name = *name;
        if (!names.insert(label.name).second)
            return malformed(context, "label \"" + label.name + "\" appears twice");
        if (json.contains("colour")) {
            const auto colour = colour_from_json(json.value("colour"));
            if (!colour)
                return malformed(context, "label \"" + label.name +
                                              "\": \"colour\" must be \"#rrggbb\" or [r, g, b]");
            label.colour = *colour;
        }
        label.hotkey = json.value("hotkey").toString().toStdString();
        labels.labels.push_back(std::move(label));
    }
    return labels;
}

std::string labels_to_json(const LabelSet& labels) {
    return QJsonDocument(labels_to_json_array(labels))
        .toJson(QJsonDocument::Indented)
        .toStdString();
}

Result<LabelSet> labels_from_json(const std::string& json, const std::string& context) {
    QJsonParseError parse_error{};
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(json), &parse_error);
    if (parse_error.error != QJsonParseError::NoError)
        return malformed(context, "not valid JSON (" + parse_error.errorString().toStdString() +
                                      " at byte " + std::to_string(parse_error.offset) + ")");
    // A bare list, or any object with a "labels" list (project.json itself).
    if (document.isArray()) return labels_from_json_value(document.array(), context);
    return labels_from_json_value(document.object().value("labels"), context);
}

Status validate_labels(const LabelSet& labels, const std::string& context) {
    std::set<std::string> names;
    for (const Label& label : labels.labels) {
        if (label.name.empty()) return malformed(context, "a label has an empty name");
        const auto checked = io::check_label(label.name);
        if (!checked) return malformed(context, checked.message());
        if (*checked != label.name)
            return malformed(context, "label \"" + label.name +
                                          "\" has white space around it (it would be \"" +
                                          *checked + "\")");
        if (!names.insert(label.name).second)
            return malformed(context, "label \"" + label.name + "\" appears twice");
    }
    return Ok{};
}

}  // namespace ps::annotation
