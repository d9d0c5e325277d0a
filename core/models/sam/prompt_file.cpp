// Parses and validates prompt files; every error names the file and the prompt.
#include "models/sam/prompt_file.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <filesystem>

#include "io/input_limits.h"

namespace ps::sam {
namespace {

Error bad(const std::string& label, size_t index, const std::string& what) {
    return make_error(ErrorKind::Format, label + ": prompt " + std::to_string(index) + ": " + what);
}

Result<PromptSpec> parse_one(const QJsonValue& value, size_t index, const std::string& label) {
    if (!value.isObject()) return bad(label, index, "is not an object");
    const QJsonObject obj = value.toObject();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const QString key = it.key();
        if (key != "points" && key != "box" && key != "multimask" && key != "refine")
            return bad(label, index,
                       "unknown key \"" + key.toStdString() +
                           "\" (expected \"points\", \"box\", \"multimask\", \"refine\")");
    }
    PromptSpec spec;
    if (obj.contains("points")) {
        if (!obj["points"].isArray()) return bad(label, index, "\"points\" is not an array");
        for (const QJsonValue& p : obj["points"].toArray()) {
            const QJsonArray xyl = p.toArray();
            if (!p.isArray() || xyl.size() != 3 || !xyl[0].isDouble() || !xyl[1].isDouble() ||
                !xyl[2].isDouble()) {
                return bad(label, index, "each point must be [x, y, label]");
            }
            const double l = xyl[2].toDouble();
            if (l != 0 && l != 1) return bad(label, index, "point label must be 0 or 1");
            spec.prompt.points.push_back({xyl[0].toDouble(), xyl[1].toDouble(), int(l)});
        }
    }
    if (obj.contains("box")) {
        const QJsonArray box = obj["box"].toArray();
        if (!obj["box"].isArray() || box.size() != 4) {
            return bad(label, index, "\"box\" must be [x0, y0, x1, y1]");
        }
        std::array<double, 4> b{};
        for (int i = 0; i < 4; ++i) {
            if (!box[i].isDouble()) return bad(label, index, "box values must be numbers");
            b[i] = box[i].toDouble();
        }
        spec.prompt.box = b;
    }
    if (spec.prompt.points.empty() && !spec.prompt.box) {
        return bad(label, index, "needs \"points\" or \"box\"");
    }
    io::PromptGeometry geometry{{}, spec.prompt.box};
    for (const SamPoint& point : spec.prompt.points) geometry.points.push_back({point.x, point.y});
    if (auto shape = io::check_prompt_shape(geometry); !shape)
        return bad(label, index, shape.message());
    if (obj.contains("multimask")) {
        if (!obj["multimask"].isBool()) return bad(label, index, "\"multimask\" must be a bool");
        spec.prompt.multimask = obj["multimask"].toBool();
    }
    if (obj.contains("refine")) {
        const double k = obj["refine"].toDouble(-1);
        if (!obj["refine"].isDouble() || k < 0 || k >= static_cast<double>(index) ||
            k != static_cast<int>(k)) {
            return bad(label, index, "\"refine\" must name an earlier prompt's index");
        }
        spec.refine = static_cast<int>(k);
    }
    return spec;
}

}  // namespace

Result<std::vector<PromptSpec>> parse_prompts(const std::string& json_text,
                                              const std::string& label) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json_text), &error);
    if (error.error != QJsonParseError::NoError) {
        return make_error(ErrorKind::Format, label + ": invalid JSON at offset " +
                                                 std::to_string(error.offset) + ": " +
                                                 error.errorString().toStdString());
    }
    if (!doc.isObject() || !doc.object()["prompts"].isArray()) {
        return make_error(ErrorKind::Format, label + ": expected {\"prompts\": [...]}");
    }
    std::vector<PromptSpec> specs;
    const QJsonArray prompts = doc.object()["prompts"].toArray();
    if (static_cast<size_t>(prompts.size()) > io::kMaxPromptsPerFile) {
        return make_error(ErrorKind::InvalidArgument,
                          label + ": " + std::to_string(prompts.size()) +
                              " prompts, more than the " + std::to_string(io::kMaxPromptsPerFile) +
                              " a prompts file may hold");
    }
    for (qsizetype i = 0; i < prompts.size(); ++i) {
        auto spec = parse_one(prompts[i], static_cast<size_t>(i), label);
        if (!spec) return spec.error();
        specs.push_back(std::move(spec.value()));
    }
    return specs;
}

Result<std::vector<PromptSpec>> read_prompts_file(const std::string& path) {
    const std::string label = std::filesystem::path(path).filename().string();
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly)) {
        return make_error(ErrorKind::Io,
                          path + ": cannot open: " + file.errorString().toStdString());
    }
    if (file.size() > io::kMaxPromptFileBytes) {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": prompts file is over " +
                              std::to_string(io::kMaxPromptFileBytes / (1024 * 1024)) + " MiB");
    }
    return parse_prompts(file.readAll().toStdString(), label);
}

}  // namespace ps::sam
