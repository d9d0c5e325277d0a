// The track prompts file: parsed with Qt's JSON, every value checked where it stands.
#include "video/track_prompts.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "io/atomic_file.h"
#include "io/image_reader.h"

namespace ps::video {
namespace {

// Distinct colours for objects the file gives none (the annotation tools' usual first ones).
constexpr std::array<std::array<uint8_t, 3>, 8> kPalette{{{{230, 25, 75}},
                                                          {{60, 180, 75}},
                                                          {{0, 130, 200}},
                                                          {{245, 130, 48}},
                                                          {{145, 30, 180}},
                                                          {{70, 240, 240}},
                                                          {{240, 50, 230}},
                                                          {{210, 245, 60}}}};

// Where in the file a value is, for messages: "prompts.json: objects[1].prompts[0]".
struct Where {
    std::string file, path;
    Where at(const std::string& key) const {
        return {file, path + (path.empty() ? "" : ".") + key};
    }
    Where at(qsizetype index) const { return {file, path + "[" + std::to_string(index) + "]"}; }
    Error error(const std::string& problem) const {
        return make_error(ErrorKind::InvalidArgument,
                          file + ": " + (path.empty() ? "" : path + " ") + problem);
    }
};

Status only_keys(const QJsonObject& object, const std::set<QString>& allowed, const Where& where) {
    for (const QString& key : object.keys())
        if (!allowed.count(key))
            return where.error("has an unknown key \"" + key.toStdString() + "\"");
    return Ok{};
}

Result<double> coordinate(const QJsonValue& value, double limit, const Where& where) {
    if (!value.isDouble() || !std::isfinite(value.toDouble()))
        return where.error("is not a number");
    const double v = value.toDouble();
    if (v < 0 || v > limit)
        return where.error(QString::number(v).toStdString() + " is outside the video's 0.." +
                           std::to_string(static_cast<long long>(limit)));
    return v;
}

Result<std::vector<TrackPoint>> points_of(const QJsonValue& value, const TrackVideoSize& video,
                                          const Where& where) {
    if (!value.isArray() || value.toArray().isEmpty())
        return where.error("is not a list of [x, y, label] points");
    std::vector<TrackPoint> points;
    const QJsonArray list = value.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const Where point = where.at(i);
        const QJsonArray xyl = list[i].toArray();
        if (!list[i].isArray() || xyl.size() != 3)
            return point.error("is not [x, y, label] (label 1 positive, 0 negative)");
        auto x = coordinate(xyl[0], video.width, point.at(0));
        if (!x) return x.error();
        auto y = coordinate(xyl[1], video.height, point.at(1));
        if (!y) return y.error();
        if (!xyl[2].isDouble() || (xyl[2].toDouble() != 0 && xyl[2].toDouble() != 1))
            return point.at(2).error("is not a label 1 (positive) or 0 (negative)");
        points.push_back({*x, *y, xyl[2].toDouble() == 1});
    }
    return points;
}

Result<TrackBox> box_of(const QJsonValue& value, const TrackVideoSize& video, const Where& where) {
    const QJsonArray b = value.toArray();
    if (!value.isArray() || b.size() != 4) return where.error("is not [x0, y0, x1, y1]");
    double corner[4];
    for (int i = 0; i < 4; ++i) {
        auto v = coordinate(b[i], i % 2 ? video.height : video.width, where.at(i));
        if (!v) return v.error();
        corner[i] = *v;
    }
    if (corner[2] <= corner[0] || corner[3] <= corner[1])
        return where.error("is empty (x1 must exceed x0 and y1 exceed y0)");
    return TrackBox{corner[0], corner[1], corner[2], corner[3]};
}

Result<annotation::Rle> mask_of(const QJsonValue& value, const std::string& prompts_path,
                                const TrackVideoSize& video, const Where& where) {
    if (!value.isString() || value.toString().isEmpty()) return where.error("is not a PNG path");
    std::filesystem::path path = value.toString().toStdString();
    if (path.is_relative()) path = std::filesystem::path(prompts_path).parent_path() / path;
    auto rgb = io::read_rgb_image(path.string());
    if (!rgb) return where.error(rgb.message());
    if (rgb->cols != video.width || rgb->rows != video.height)
        return where.error(path.string() + " is " + std::to_string(rgb->cols) + "x" +
                           std::to_string(rgb->rows) + ", the video is " +
                           std::to_string(video.width) + "x" + std::to_string(video.height));
    cv::Mat grey;
    cv::cvtColor(*rgb, grey, cv::COLOR_RGB2GRAY);
    const cv::Mat inside = grey > 0;
    if (cv::countNonZero(inside) == 0) return where.error(path.string() + " is empty (all black)");
    return annotation::rle_encode(inside);
}

Result<TrackPrompt> prompt_of(const QJsonValue& value, const std::string& prompts_path,
                              const TrackVideoSize& video, const Where& where) {
    if (!value.isObject()) return where.error("is not an object");
    const QJsonObject json = value.toObject();
    if (auto keys = only_keys(json, {"frame", "points", "box", "mask"}, where); !keys)
        return keys.error();
    TrackPrompt prompt;
    const QJsonValue frame = json["frame"];
    if (!frame.isDouble() || frame.toDouble() != std::floor(frame.toDouble()) ||
        frame.toDouble() < 0)
        return where.at("frame").error("is not a frame number (0 is the first)");
    prompt.frame = static_cast<long long>(frame.toDouble());
    if (prompt.frame >= video.frames)
        return where.at("frame").error(std::to_string(prompt.frame) + " is past the video's " +
                                       std::to_string(video.frames) + " frames");
    const bool has_mask = json.contains("mask");
    if (has_mask && (json.contains("points") || json.contains("box")))
        return where.error("has a mask and points or a box: a mask prompt stands alone");
    if (!has_mask && !json.contains("points") && !json.contains("box"))
        return where.error("has no points, box or mask");
    if (json.contains("points")) {
        auto points = points_of(json["points"], video, where.at("points"));
        if (!points) return points.error();
        prompt.points = std::move(*points);
    }
    if (json.contains("box")) {
        auto box = box_of(json["box"], video, where.at("box"));
        if (!box) return box.error();
        prompt.box = *box;
    }
    if (has_mask) {
        auto mask = mask_of(json["mask"], prompts_path, video, where.at("mask"));
        if (!mask) return mask.error();
        prompt.mask = std::move(*mask);
    }
    return prompt;
}

Result<TrackObject> object_of(const QJsonValue& value, size_t index, const std::string& path,
                              const TrackVideoSize& video, const Where& where) {
    if (!value.isObject()) return where.error("is not an object");
    const QJsonObject json = value.toObject();
    if (auto keys = only_keys(json, {"id", "label", "color", "prompts"}, where); !keys)
        return keys.error();
    TrackObject object;
    const QJsonValue id = json["id"];
    if (!id.isDouble() || id.toDouble() != std::floor(id.toDouble()) || id.toDouble() < 1 ||
        id.toDouble() > 1e9)
        return where.at("id").error("is not a whole number from 1");
    object.id = static_cast<int>(id.toDouble());
    if (json.contains("label") && !json["label"].isString())
        return where.at("label").error("is not a string");
    object.label = json["label"].toString().toStdString();
    object.color = kPalette[index % kPalette.size()];
    if (json.contains("color")) {
        const QJsonArray rgb = json["color"].toArray();
        if (rgb.size() != 3) return where.at("color").error("is not [r, g, b]");
        for (int c = 0; c < 3; ++c) {
            if (!rgb[c].isDouble() || rgb[c].toDouble() < 0 || rgb[c].toDouble() > 255)
                return where.at("color").at(c).error("is not 0..255");
            object.color[c] = static_cast<uint8_t>(rgb[c].toDouble());
        }
    }
    const QJsonArray prompts = json["prompts"].toArray();
    if (!json["prompts"].isArray() || prompts.isEmpty())
        return where.at("prompts").error("is not a list of at least one prompt");
    std::set<long long> frames;
    for (qsizetype i = 0; i < prompts.size(); ++i) {
        auto prompt = prompt_of(prompts[i], path, video, where.at("prompts").at(i));
        if (!prompt) return prompt.error();
        if (!frames.insert(prompt->frame).second)
            return where.at("prompts").at(i).error("is a second prompt on frame " +
                                                   std::to_string(prompt->frame) +
                                                   " (put every point of a frame in one prompt)");
        object.prompts.push_back(std::move(*prompt));
    }
    std::sort(object.prompts.begin(), object.prompts.end(),
              [](const TrackPrompt& a, const TrackPrompt& b) { return a.frame < b.frame; });
    return object;
}

}  // namespace

Result<std::vector<TrackObject>> read_track_prompts(const std::string& path,
                                                    const TrackVideoSize& video) {
    auto bytes = io::read_whole_file(path);
    if (!bytes) return bytes.error();
    QJsonParseError parse_error;
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(*bytes), &parse_error);
    const Where root{path, ""};
    if (document.isNull())
        return make_error(ErrorKind::Format,
                          path + ": not JSON (" + parse_error.errorString().toStdString() +
                              " at byte " + std::to_string(parse_error.offset) + ")");
    if (!document.isObject()) return root.error("is not an object with \"objects\"");
    if (auto keys = only_keys(document.object(), {"objects"}, root); !keys) return keys.error();
    const QJsonValue list = document.object()["objects"];
    if (!list.isArray() || list.toArray().isEmpty())
        return root.at("objects").error("is not a list of at least one object");
    std::vector<TrackObject> objects;
    std::set<int> ids;
    const QJsonArray array = list.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        const Where where = root.at("objects").at(i);
        auto object = object_of(array[i], static_cast<size_t>(i), path, video, where);
        if (!object) return object.error();
        if (!ids.insert(object->id).second)
            return where.at("id").error(std::to_string(object->id) + " is used by another object");
        objects.push_back(std::move(*object));
    }
    return objects;
}

}  // namespace ps::video
