// remove-bg-video.json: read, compared, written atomically.
#include "video/video_run_manifest.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <filesystem>
#include <vector>

#include "io/atomic_file.h"

namespace ps::video {

std::string VideoRunManifest::differences(const VideoRunManifest& other) const {
    std::vector<std::string> names;
    if (input != other.input || input_bytes != other.input_bytes) names.push_back("input");
    if (width != other.width || height != other.height) names.push_back("frame size");
    if (model != other.model) names.push_back("model");
    if (outputs != other.outputs) names.push_back("outputs");
    if (options != other.options) names.push_back("options");
    std::string joined;
    for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
    return joined;
}

Result<ManifestRead> read_manifest(const std::string& folder) {
    const std::string path = (std::filesystem::path(folder) / kManifestName).string();
    ManifestRead read;
    if (!std::filesystem::exists(path)) return read;
    auto bytes = io::read_whole_file(path);
    if (!bytes) return bytes.error();
    QJsonParseError parse_error;
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(*bytes), &parse_error);
    if (!document.isObject()) {
        return make_error(ErrorKind::Format, path + ": not a remove-bg video manifest (" +
                                                 parse_error.errorString().toStdString() + ")");
    }
    const QJsonObject object = document.object();
    VideoRunManifest& m = read.manifest;
    m.input = object["input"].toString().toStdString();
    m.input_bytes = static_cast<long long>(object["input_bytes"].toDouble());
    m.width = object["width"].toInt();
    m.height = object["height"].toInt();
    m.model = object["model"].toString().toStdString();
    m.outputs = object["outputs"].toString().toStdString();
    m.options = object["options"].toString().toStdString();
    m.frames_done = static_cast<long long>(object["frames_done"].toDouble());
    m.complete = object["complete"].toBool();
    read.found = true;
    return read;
}

Status write_manifest(const std::string& folder, const VideoRunManifest& m) {
    QJsonObject object;
    object["input"] = QString::fromStdString(m.input);
    object["input_bytes"] = static_cast<double>(m.input_bytes);
    object["width"] = m.width;
    object["height"] = m.height;
    object["model"] = QString::fromStdString(m.model);
    object["outputs"] = QString::fromStdString(m.outputs);
    object["options"] = QString::fromStdString(m.options);
    object["frames_done"] = static_cast<double>(m.frames_done);
    object["complete"] = m.complete;
    const QByteArray json = QJsonDocument(object).toJson(QJsonDocument::Indented);
    return io::atomic_write((std::filesystem::path(folder) / kManifestName).string(),
                            std::string_view(json.constData(), static_cast<size_t>(json.size())));
}

}  // namespace ps::video
