// EmbeddingStore: one checksummed, versioned file per embedding; defects are rejected, never used.
#include "engine/embedding_store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>

#include <cstring>
#include <string_view>
#include <utility>

#include "engine/embedding_cache.h"
#include "io/atomic_file.h"

namespace ps::engine {
namespace {

constexpr char kMagic[8] = {'P', 'S', 'E', 'M', 'B', 'E', 'D', '\0'};
constexpr quint32 kVersion = 1;
constexpr qsizetype kPrefixBytes = 16;  // magic + version + header length
constexpr qsizetype kChecksumBytes = 16;
// JSON numbers are doubles: integers above 2^53 would not survive a round trip.
constexpr double kMaxJsonInteger = 9007199254740992.0;

long long itemsize_of(const std::string& dtype) {
    if (dtype == "float32" || dtype == "int32") return 4;
    if (dtype == "float16" || dtype == "bfloat16") return 2;
    if (dtype == "float64" || dtype == "int64") return 8;
    if (dtype == "uint8") return 1;
    return 0;
}

// numel * itemsize, or -1 for an unknown dtype, a negative dimension or an overflow.
long long expected_payload_bytes(const std::string& dtype, const std::vector<int64_t>& shape) {
    long long bytes = itemsize_of(dtype);
    if (bytes == 0) return -1;
    for (int64_t dim : shape) {
        if (dim < 0 || __builtin_mul_overflow(bytes, static_cast<long long>(dim), &bytes)) {
            return -1;
        }
    }
    return bytes;
}

QByteArray checksum_of(const char* data, qsizetype size) {
    return QByteArray::fromHex(QByteArray::fromStdString(content_hash(data, size)));
}

QJsonArray to_json(const std::vector<int64_t>& values) {
    QJsonArray array;
    for (int64_t v : values) array.append(static_cast<qint64>(v));
    return array;
}

// Integers only: 2.5 or "3" in a shape is a defect, not something to round.
bool from_json(const QJsonValue& value, std::vector<int64_t>& out) {
    if (!value.isArray()) return false;
    for (const QJsonValue& item : value.toArray()) {
        const double d = item.toDouble(0.5);
        // Range first: casting an out-of-range double to an integer is undefined.
        if (!item.isDouble() || d > kMaxJsonInteger || d < -kMaxJsonInteger ||
            d != static_cast<double>(static_cast<int64_t>(d))) {
            return false;
        }
        out.push_back(static_cast<int64_t>(d));
    }
    return true;
}

// Parses and checks one file's bytes against the requested key. Returns the defect, or an
// empty string with `entry` filled.
QString parse_entry(const QByteArray& bytes, const std::string& key, StoredEmbedding& entry) {
    if (bytes.isEmpty()) return QStringLiteral("empty file");
    if (bytes.size() < kPrefixBytes + kChecksumBytes) return QStringLiteral("truncated");
    if (std::memcmp(bytes.constData(), kMagic, sizeof kMagic) != 0) {
        return QStringLiteral("bad magic");
    }
    const auto* prefix = reinterpret_cast<const uchar*>(bytes.constData());
    const quint32 version = qFromLittleEndian<quint32>(prefix + 8);
    if (version != kVersion) {
        return QStringLiteral("unsupported format version %1 (expected %2)")
            .arg(version)
            .arg(kVersion);
    }
    const qsizetype header_bytes = qFromLittleEndian<quint32>(prefix + 12);
    if (header_bytes > bytes.size() - kPrefixBytes - kChecksumBytes) {
        return QStringLiteral("truncated");
    }

    QJsonParseError json_error;
    const QJsonDocument doc =
        QJsonDocument::fromJson(bytes.mid(kPrefixBytes, header_bytes), &json_error);
    if (json_error.error != QJsonParseError::NoError || !doc.isObject()) {
        return QStringLiteral("header is not JSON");
    }
    const QJsonObject header = doc.object();
    const QJsonValue payload_value = header.value(QStringLiteral("payload_bytes"));
    const double payload_double = payload_value.toDouble(-1);
    if (!header.value(QStringLiteral("key")).isString() ||
        !header.value(QStringLiteral("dtype")).isString() || !payload_value.isDouble() ||
        payload_double < 0 || payload_double > kMaxJsonInteger ||
        !from_json(header.value(QStringLiteral("shape")), entry.shape) ||
        !from_json(header.value(QStringLiteral("meta")), entry.meta)) {
        return QStringLiteral("header fields missing or of the wrong type");
    }
    const long long payload_bytes = static_cast<long long>(payload_double);
    const long long file_bytes = kPrefixBytes + header_bytes + payload_bytes + kChecksumBytes;
    if (bytes.size() < file_bytes) return QStringLiteral("truncated");
    if (bytes.size() > file_bytes) return QStringLiteral("trailing bytes after the checksum");

    const QByteArray stored_checksum = bytes.right(kChecksumBytes);
    if (checksum_of(bytes.constData() + kPrefixBytes, header_bytes + payload_bytes) !=
        stored_checksum) {
        return QStringLiteral("checksum mismatch");
    }
    // Checked after the checksum: an intact file for another key is a stale entry or a
    // collision of the file-name hash, not damage.
    entry.key = header.value(QStringLiteral("key")).toString().toStdString();
    if (entry.key != key) return QStringLiteral("key mismatch (stale entry or hash collision)");
    entry.dtype = header.value(QStringLiteral("dtype")).toString().toStdString();
    const long long expected = expected_payload_bytes(entry.dtype, entry.shape);
    if (expected < 0) {
        return QStringLiteral("unknown dtype \"%1\" or invalid shape")
            .arg(QString::fromStdString(entry.dtype));
    }
    if (expected != payload_bytes) {
        return QStringLiteral("payload has %1 bytes, numel * itemsize is %2")
            .arg(payload_bytes)
            .arg(expected);
    }
    const char* payload = bytes.constData() + kPrefixBytes + header_bytes;
    entry.data.assign(payload, payload + payload_bytes);
    return {};
}

}  // namespace

EmbeddingStore::EmbeddingStore(QString folder) : folder_(std::move(folder)) {}

QString EmbeddingStore::path_for(const std::string& key) const {
    const std::string name = content_hash(key.data(), key.size()) + ".psemb";
    return QDir(folder_).filePath(QString::fromStdString(name));
}

Status EmbeddingStore::save(const StoredEmbedding& entry) {
    const long long expected = expected_payload_bytes(entry.dtype, entry.shape);
    if (expected < 0) {
        return make_error(ErrorKind::InvalidArgument,
                          "embedding store: unknown dtype \"" + entry.dtype + "\" or bad shape");
    }
    if (expected != static_cast<long long>(entry.data.size())) {
        return make_error(ErrorKind::InvalidArgument,
                          "embedding store: " + std::to_string(entry.data.size()) +
                              " data bytes for a shape of " + std::to_string(expected) + " bytes");
    }
    if (!QDir().mkpath(folder_)) {
        return make_error(ErrorKind::Io, QStringLiteral("%1: cannot create the embedding store "
                                                        "folder")
                                             .arg(folder_)
                                             .toStdString());
    }

    QJsonObject header;
    header.insert(QStringLiteral("key"), QString::fromStdString(entry.key));
    header.insert(QStringLiteral("dtype"), QString::fromStdString(entry.dtype));
    header.insert(QStringLiteral("shape"), to_json(entry.shape));
    header.insert(QStringLiteral("meta"), to_json(entry.meta));
    header.insert(QStringLiteral("payload_bytes"), static_cast<qint64>(entry.data.size()));
    const QByteArray header_json = QJsonDocument(header).toJson(QJsonDocument::Compact);

    // Built in memory so that header and payload are contiguous for one checksum pass.
    QByteArray file;
    file.reserve(kPrefixBytes + header_json.size() + qsizetype(entry.data.size()) + kChecksumBytes);
    file.append(kMagic, sizeof kMagic);
    uchar word[4];
    qToLittleEndian<quint32>(kVersion, word);
    file.append(reinterpret_cast<const char*>(word), 4);
    qToLittleEndian<quint32>(static_cast<quint32>(header_json.size()), word);
    file.append(reinterpret_cast<const char*>(word), 4);
    file.append(header_json);
    file.append(reinterpret_cast<const char*>(entry.data.data()), qsizetype(entry.data.size()));
    file.append(checksum_of(file.constData() + kPrefixBytes, file.size() - kPrefixBytes));

    return io::atomic_write(path_for(entry.key).toStdString(),
                            std::string_view(file.constData(), size_t(file.size())));
}

std::optional<StoredEmbedding> EmbeddingStore::load(const std::string& key) {
    const QString path = path_for(key);
    QFile in(path);
    if (!in.exists()) {
        ++misses_;
        return std::nullopt;
    }
    if (!in.open(QIODevice::ReadOnly)) {
        // Unreadable is not proof of damage (permissions, a transient error): miss, keep it.
        qWarning("%s: cannot read embedding: %s", qPrintable(path), qPrintable(in.errorString()));
        ++misses_;
        return std::nullopt;
    }
    const QByteArray bytes = in.readAll();
    in.close();

    StoredEmbedding entry;
    const QString defect = parse_entry(bytes, key, entry);
    if (!defect.isEmpty()) {
        // Another thread may have replaced the file since we read it; removing the new one then
        // only costs a rebuild, never a wrong embedding.
        reject(path, defect);
        ++misses_;
        return std::nullopt;
    }
    ++hits_;
    return entry;
}

void EmbeddingStore::reject(const QString& path, const QString& defect) {
    ++rejected_;
    qWarning("%s: rejected embedding store entry (%s); it will be rebuilt", qPrintable(path),
             qPrintable(defect));
    if (!QFile::remove(path) && QFileInfo::exists(path)) {
        qWarning("%s: cannot remove the rejected entry", qPrintable(path));
    }
}

CacheTierStats EmbeddingStore::stats() const {
    CacheTierStats stats;
    stats.hits = hits_.load();
    stats.misses = misses_.load();
    const QFileInfoList files =
        QDir(folder_).entryInfoList({QStringLiteral("*.psemb")}, QDir::Files);
    stats.entries = files.size();
    for (const QFileInfo& info : files) stats.bytes += info.size();
    return stats;
}

long long EmbeddingStore::rejected() const {
    return rejected_.load();
}

}  // namespace ps::engine
