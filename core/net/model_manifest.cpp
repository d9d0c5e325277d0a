// Parses models/manifest.json; strict, because a bad entry would send a download astray.
#include "net/model_manifest.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QUrl>

namespace ps::net {
namespace {

Error format_error(const QString& source_name, const QString& what) {
    return make_error(ErrorKind::Format, (source_name + ": " + what).toStdString());
}

// A manifest entry's file becomes a path under the user's models folder: a name with a
// separator or "..", or an absolute path, could write anywhere, so only plain names pass.
bool is_plain_file_name(const QString& file) {
    return !file.isEmpty() && file != "." && file != ".." && !file.contains('/') &&
           !file.contains('\\') && !file.contains(':');
}

Result<ModelEntry> parse_entry(const QJsonObject& object, const QString& where) {
    ModelEntry entry;
    for (auto [key, out] : {std::pair<const char*, QString*>{"name", &entry.name},
                            {"family", &entry.family},
                            {"file", &entry.file},
                            {"url", &entry.url}}) {
        const QJsonValue value = object.value(key);
        if (!value.isString() || value.toString().trimmed().isEmpty())
            return make_error(
                ErrorKind::Format,
                (where + QString(": \"%1\" must be a non-empty string").arg(key)).toStdString());
        *out = value.toString();
    }
    entry.arch = object.value("arch").toString();
    entry.notes = object.value("notes").toString();
    const QString label = where + " (" + entry.name + ")";

    if (!is_plain_file_name(entry.file))
        return make_error(
            ErrorKind::Hostile,
            (label + ": \"file\" must be a plain file name, got \"" + entry.file + "\"")
                .toStdString());
    const QUrl url(entry.url, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != "https" && url.scheme() != "http"))
        return make_error(ErrorKind::Format,
                          (label + ": \"url\" is not an http(s) URL: " + entry.url).toStdString());

    const QJsonValue size = object.value("size_bytes");
    if (!size.isNull() && !size.isUndefined()) {
        // JSON numbers are doubles; a size must be a whole, positive number of bytes.
        const double bytes = size.toDouble(-1);
        if (!size.isDouble() || bytes <= 0 ||
            bytes != static_cast<double>(static_cast<qint64>(bytes)))
            return make_error(
                ErrorKind::Format,
                (label + ": \"size_bytes\" must be a positive integer or null").toStdString());
        entry.size_bytes = static_cast<qint64>(bytes);
    }
    const QJsonValue sha = object.value("sha256");
    if (!sha.isNull() && !sha.isUndefined()) {
        static const QRegularExpression hex64("^[0-9a-fA-F]{64}$");
        if (!sha.isString() || !hex64.match(sha.toString()).hasMatch())
            return make_error(ErrorKind::Format,
                              (label + ": \"sha256\" must be 64 hex digits or null").toStdString());
        entry.sha256 = sha.toString().toLower();
    }
    const QJsonValue md5 = object.value("md5");
    if (!md5.isNull() && !md5.isUndefined()) {
        static const QRegularExpression hex32("^[0-9a-fA-F]{32}$");
        if (!md5.isString() || !hex32.match(md5.toString()).hasMatch())
            return make_error(ErrorKind::Format,
                              (label + ": \"md5\" must be 32 hex digits or null").toStdString());
        entry.md5 = md5.toString().toLower();
    }
    return entry;
}

}  // namespace

Result<std::vector<ModelEntry>> parse_model_manifest(const QByteArray& json,
                                                     const QString& source_name) {
    QJsonParseError parse_error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parse_error);
    if (parse_error.error != QJsonParseError::NoError)
        return format_error(source_name, QString("invalid JSON at offset %1: %2")
                                             .arg(parse_error.offset)
                                             .arg(parse_error.errorString()));
    if (!document.isObject() || !document.object().value("models").isArray())
        return format_error(source_name, "expected an object with a \"models\" array");

    std::vector<ModelEntry> entries;
    const QJsonArray models = document.object().value("models").toArray();
    for (qsizetype i = 0; i < models.size(); ++i) {
        const QString where = source_name + QString(": models[%1]").arg(i);
        if (!models.at(i).isObject())
            return make_error(ErrorKind::Format, (where + ": expected an object").toStdString());
        auto entry = parse_entry(models.at(i).toObject(), where);
        if (!entry) return entry.error();
        entries.push_back(std::move(entry).value());
    }
    return entries;
}

Result<std::vector<ModelEntry>> load_model_manifest(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return make_error(
            ErrorKind::Io,
            (path + ": cannot open the model manifest: " + file.errorString()).toStdString());
    return parse_model_manifest(file.readAll(), path);
}

}  // namespace ps::net
