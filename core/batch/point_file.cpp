// Reads POINTS.json (see point_file.h and docs/annotation-format.md). Strict on purpose: a typo in
// a hand-written or converted point file should stop the run with its place named, not silently
// drop a prompt from hundreds of images.
#include "batch/point_file.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

#include "io/input_limits.h"

namespace ps::batch {
namespace {

Error bad(const std::string& where, const std::string& problem) {
    return make_error(ErrorKind::Format, where + ": " + problem);
}

bool is_number(const QJsonValue& value) {
    return value.isDouble() && std::isfinite(value.toDouble());
}

// Point labels follow SAM: 1 object, 0 background. SAM's internal -1 (padding) and 2/3 (box
// corners) are not prompts a user gives, so they are refused rather than read as "object".
std::optional<bool> read_point_label(const QJsonValue& value) {
    if (!is_number(value)) return std::nullopt;
    const double label = value.toDouble();
    if (label == 1) return true;
    if (label == 0) return false;
    return std::nullopt;
}

// A point is [x, y], [x, y, label] or {"x", "y", "label"}.
Result<annotation::PromptPoint> read_point(const QJsonValue& value, const std::string& where) {
    const std::string shape =
        "must be [x, y], [x, y, label] or {\"x\": .., \"y\": .., \"label\": ..}";
    annotation::PromptPoint point;
    QJsonValue x, y, label(QJsonValue::Undefined);  // Undefined: no label given
    if (value.isArray()) {
        const QJsonArray array = value.toArray();
        if (array.size() < 2 || array.size() > 3) return bad(where, shape);
        x = array[0];
        y = array[1];
        if (array.size() == 3) label = array[2];
    } else if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            if (it.key() != "x" && it.key() != "y" && it.key() != "label")
                return bad(where, "unknown key \"" + it.key().toStdString() + "\" (" + shape + ")");
        x = object.value("x");
        y = object.value("y");
        label = object.value("label");
    } else {
        return bad(where, shape);
    }
    if (!is_number(x) || !is_number(y)) return bad(where, "x and y must be numbers");
    point.x = x.toDouble();
    point.y = y.toDouble();
    if (!label.isUndefined()) {
        const auto positive = read_point_label(label);
        if (!positive) return bad(where, "label must be 1 (object) or 0 (background)");
        point.positive = *positive;
    }
    return point;
}

Result<std::array<double, 4>> read_box(const QJsonValue& value, const std::string& where) {
    const QJsonArray box = value.toArray();
    if (!value.isArray() || box.size() != 4) return bad(where, "\"box\" must be [x0, y0, x1, y1]");
    std::array<double, 4> corners{};
    for (int i = 0; i < 4; ++i) {
        if (!is_number(box[i])) return bad(where, "\"box\" must hold 4 numbers");
        corners[static_cast<size_t>(i)] = box[i].toDouble();
    }
    if (corners[2] <= corners[0] || corners[3] <= corners[1])
        return bad(where, "\"box\" must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0");
    return corners;
}

Result<PointObject> read_object(const QJsonValue& value, const std::string& where) {
    if (!value.isObject()) return bad(where, "must be an object {\"label\", \"points\", \"box\"}");
    const QJsonObject json = value.toObject();
    for (auto it = json.begin(); it != json.end(); ++it)
        if (it.key() != "label" && it.key() != "points" && it.key() != "box")
            return bad(where, "unknown key \"" + it.key().toStdString() +
                                  "\" (expected \"label\", \"points\", \"box\")");
    PointObject object;
    if (!json.value("label").isString() || json.value("label").toString().trimmed().isEmpty())
        return bad(where, "\"label\" must be a non-empty string");
    auto label = io::check_label(json.value("label").toString().toStdString());
    if (!label) return bad(where, label.message());
    object.label = *label;
    if (json.contains("points")) {
        if (!json.value("points").isArray())
            return bad(where, "\"points\" must be a list of points");
        const QJsonArray points = json.value("points").toArray();
        for (int i = 0; i < points.size(); ++i) {
            auto point = read_point(points[i], where + " point " + std::to_string(i + 1));
            if (!point) return point.error();
            object.prompts.points.push_back(*point);
        }
    }
    if (json.contains("box")) {
        auto box = read_box(json.value("box"), where);
        if (!box) return box.error();
        object.prompts.box = *box;
    }
    if (object.prompts.empty()) return bad(where, "needs \"points\" or a \"box\"");
    io::PromptGeometry geometry{{}, object.prompts.box};
    for (const auto& point : object.prompts.points) geometry.points.push_back({point.x, point.y});
    if (auto shape = io::check_prompt_shape(geometry); !shape) return bad(where, shape.message());
    return object;
}

// Names are looked up under the input folder; one that could leave it is refused.
bool is_safe_relative_name(const std::string& name) {
    if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos) return false;
    const QString clean = QDir::cleanPath(QString::fromStdString(name));
    return clean != ".." && !clean.startsWith("../") && clean != ".";
}

}  // namespace

Result<PointFile> read_point_file(const std::string& path) {
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly))
        return make_error(ErrorKind::Io,
                          path + ": cannot read (" + file.errorString().toStdString() + ")");
    if (file.size() > io::kMaxPromptFileBytes)
        return bad(path, "point file is over " +
                             std::to_string(io::kMaxPromptFileBytes / (1024 * 1024)) + " MiB");
    QJsonParseError parse_error{};
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parse_error);
    if (parse_error.error != QJsonParseError::NoError)
        return bad(path, "not valid JSON (" + parse_error.errorString().toStdString() +
                             " at byte " + std::to_string(parse_error.offset) + ")");
    if (!document.isObject() || !document.object().value("images").isObject())
        return bad(path, "expected {\"images\": {\"<file name>\": [objects...]}}");
    PointFile points;
    const QJsonObject images = document.object().value("images").toObject();
    if (images.isEmpty()) return bad(path, "\"images\" names no image");
    for (auto it = images.begin(); it != images.end(); ++it) {
        const std::string image = it.key().toStdString();
        const std::string where = path + ": \"" + image + "\"";
        if (!is_safe_relative_name(image))
            return bad(where, "image names must be relative paths inside the input folder");
        if (!it.value().isArray()) return bad(where, "must hold a list of objects");
        const QJsonArray list = it.value().toArray();
        if (list.isEmpty()) return bad(where, "has no objects");
        if (static_cast<size_t>(list.size()) > io::kMaxPromptsPerFile)
            return bad(where, std::to_string(list.size()) + " objects, more than the " +
                                  std::to_string(io::kMaxPromptsPerFile) + " an image may have");
        std::vector<PointObject> objects;
        for (int i = 0; i < list.size(); ++i) {
            auto object = read_object(list[i], where + " object " + std::to_string(i + 1));
            if (!object) return object.error();
            objects.push_back(std::move(*object));
        }
        const std::string clean = QDir::cleanPath(it.key()).toStdString();
        if (!points.images.emplace(clean, std::move(objects)).second)
            return bad(where, "names the same file as another entry (" + clean + ")");
    }
    return points;
}

}  // namespace ps::batch
