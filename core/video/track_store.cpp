// TrackStore: track.json (atomic) and the checksummed append-only mask log.
//
// Log layout (integers little-endian, as every machine we build for):
//   "PSTRACK1"                                   file header, 8 bytes
//   per record: u32 payload bytes, u32 CRC-32 of the payload, payload:
//     u8 kind (1 mask, 2 erase), i64 frame, i32 object id, f32 score, u8 visible,
//     i32 height, i32 width, then the mask's COCO compressed counts string (the rest).
#include "video/track_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "io/atomic_file.h"

namespace ps::video {
namespace {

constexpr char kLogMagic[8] = {'P', 'S', 'T', 'R', 'A', 'C', 'K', '1'};
constexpr size_t kRecordHeader = 8;                          // length + CRC
constexpr size_t kPayloadFixed = 1 + 8 + 4 + 4 + 1 + 4 + 4;  // up to the counts string
constexpr uint32_t kMaxPayload = 256u << 20;                 // a 16k x 16k checkerboard's RLE
constexpr uint8_t kKindMask = 1, kKindErase = 2;

std::string join_path(const std::string& folder, const char* name) {
    return (std::filesystem::path(folder) / name).string();
}

Error io_error(const std::string& path, const std::string& what, int error_number) {
    return make_error(ErrorKind::Io,
                      path + ": cannot " + what + " (" + std::strerror(error_number) + ")");
}

template <typename T>
void put_raw(std::string& out, T value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T get_raw(const char*& cursor) {
    T value;
    std::memcpy(&value, cursor, sizeof(T));
    cursor += sizeof(T);
    return value;
}

std::string encode_record(uint8_t kind, const TrackMask& mask) {
    std::string payload;
    put_raw<uint8_t>(payload, kind);
    put_raw<int64_t>(payload, mask.frame);
    put_raw<int32_t>(payload, mask.object_id);
    put_raw<float>(payload, mask.score);
    put_raw<uint8_t>(payload, mask.visible ? 1 : 0);
    put_raw<int32_t>(payload, mask.mask.height);
    put_raw<int32_t>(payload, mask.mask.width);
    if (kind == kKindMask) payload += annotation::rle_to_string(mask.mask);
    std::string record;
    record.reserve(kRecordHeader + payload.size());
    put_raw<uint32_t>(record, static_cast<uint32_t>(payload.size()));
    put_raw<uint32_t>(record, crc32(payload.data(), payload.size()));
    return record + payload;
}

struct DecodedRecord {
    uint8_t kind = 0;
    TrackMask mask;
    std::string counts;
};

// The payload's fields; false when it cannot be a record (the CRC passed, so only a bug).
bool decode_payload(const std::string& payload, DecodedRecord& out) {
    if (payload.size() < kPayloadFixed) return false;
    const char* cursor = payload.data();
    out.kind = get_raw<uint8_t>(cursor);
    out.mask.frame = get_raw<int64_t>(cursor);
    out.mask.object_id = get_raw<int32_t>(cursor);
    out.mask.score = get_raw<float>(cursor);
    out.mask.visible = get_raw<uint8_t>(cursor) != 0;
    out.mask.mask.height = get_raw<int32_t>(cursor);
    out.mask.mask.width = get_raw<int32_t>(cursor);
    out.counts.assign(cursor, payload.data() + payload.size());
    return out.kind == kKindMask || out.kind == kKindErase;
}

// ---- track.json ----

QJsonArray color_json(const std::array<uint8_t, 3>& color) {
    return QJsonArray{color[0], color[1], color[2]};
}

QJsonObject prompt_json(const TrackPrompt& prompt) {
    QJsonObject json;
    json["frame"] = static_cast<double>(prompt.frame);
    if (!prompt.points.empty()) {
        QJsonArray points;
        for (const TrackPoint& p : prompt.points)
            points.append(QJsonArray{p.x, p.y, p.positive ? 1 : 0});
        json["points"] = points;
    }
    if (prompt.box)
        json["box"] = QJsonArray{prompt.box->x0, prompt.box->y0, prompt.box->x1, prompt.box->y1};
    if (prompt.mask) {
        json["mask"] = QJsonObject{
            {"size", QJsonArray{prompt.mask->height, prompt.mask->width}},
            {"counts", QString::fromStdString(annotation::rle_to_string(*prompt.mask))}};
    }
    return json;
}

QJsonObject object_json(const TrackObject& object) {
    QJsonArray prompts;
    for (const TrackPrompt& prompt : object.prompts) prompts.append(prompt_json(prompt));
    return QJsonObject{{"id", object.id},
                       {"label", QString::fromStdString(object.label)},
                       {"color", color_json(object.color)},
                       {"prompts", prompts}};
}

QByteArray meta_json(const TrackSource& source, const TrackRun& run,
                     const std::vector<TrackObject>& objects) {
    QJsonArray object_list;
    for (const TrackObject& object : objects) object_list.append(object_json(object));
    QJsonObject root{
        {"format", "photosynth-track"},
        {"version", 1},
        {"source", QJsonObject{{"video", QString::fromStdString(source.video)},
                               {"width", source.width},
                               {"height", source.height},
                               {"frame_count", static_cast<double>(source.frame_count)},
                               {"model", QString::fromStdString(source.model)},
                               {"model_hash", QString::fromStdString(source.model_hash)}}},
        {"run", QJsonObject{{"direction", QString::fromStdString(run.direction)},
                            {"precision", QString::fromStdString(run.precision)},
                            {"complete", run.complete}}},
        {"objects", object_list}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

struct Meta {
    TrackSource source;
    TrackRun run;
    std::vector<TrackObject> objects;
};

Result<TrackPrompt> prompt_from_json(const QJsonObject& json, const TrackSource& source,
                                     const std::string& context) {
    TrackPrompt prompt;
    prompt.frame = static_cast<long long>(json["frame"].toDouble(-1));
    for (const QJsonValue& value : json["points"].toArray()) {
        const QJsonArray p = value.toArray();
        if (p.size() != 3)
            return make_error(ErrorKind::Format, context + ": a point is not [x, y, label]");
        prompt.points.push_back({p[0].toDouble(), p[1].toDouble(), p[2].toInt() != 0});
    }
    if (json.contains("box")) {
        const QJsonArray b = json["box"].toArray();
        if (b.size() != 4)
            return make_error(ErrorKind::Format, context + ": a box is not [x0, y0, x1, y1]");
        prompt.box = TrackBox{b[0].toDouble(), b[1].toDouble(), b[2].toDouble(), b[3].toDouble()};
    }
    if (json.contains("mask")) {
        const QJsonObject mask = json["mask"].toObject();
        const QJsonArray size = mask["size"].toArray();
        auto rle = annotation::rle_from_string(mask["counts"].toString().toStdString(),
                                               size[0].toInt(), size[1].toInt(), context);
        if (!rle) return rle.error();
        prompt.mask = std::move(*rle);
    }
    if (prompt.frame < 0 || prompt.frame >= source.frame_count)
        return make_error(ErrorKind::Format, context + ": a prompt's frame " +
                                                 std::to_string(prompt.frame) +
                                                 " is outside the video");
    return prompt;
}

Result<Meta> read_meta(const std::string& path) {
    auto bytes = io::read_whole_file(path);
    if (!bytes) return bytes.error();
    QJsonParseError parse_error;
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromStdString(*bytes), &parse_error);
    const QJsonObject root = document.object();
    if (!document.isObject() || root["format"].toString() != "photosynth-track")
        return make_error(
            ErrorKind::Format,
            path + ": not a Photosynth track store (" +
                (document.isObject() ? std::string("no \"format\": \"photosynth-track\"")
                                     : parse_error.errorString().toStdString()) +
                ")");
    if (root["version"].toInt() != 1)
        return make_error(ErrorKind::Unsupported, path + ": track store version " +
                                                      std::to_string(root["version"].toInt()) +
                                                      " (this build reads 1)");
    Meta meta;
    const QJsonObject source = root["source"].toObject();
    meta.source.video = source["video"].toString().toStdString();
    meta.source.width = source["width"].toInt();
    meta.source.height = source["height"].toInt();
    meta.source.frame_count = static_cast<long long>(source["frame_count"].toDouble());
    meta.source.model = source["model"].toString().toStdString();
    meta.source.model_hash = source["model_hash"].toString().toStdString();
    if (meta.source.width <= 0 || meta.source.height <= 0 || meta.source.frame_count <= 0)
        return make_error(ErrorKind::Format, path + ": source has no frame size or count");
    const QJsonObject run = root["run"].toObject();
    meta.run.direction = run["direction"].toString().toStdString();
    meta.run.precision = run["precision"].toString().toStdString();
    meta.run.complete = run["complete"].toBool();
    for (const QJsonValue& value : root["objects"].toArray()) {
        const QJsonObject json = value.toObject();
        TrackObject object;
        object.id = json["id"].toInt();
        object.label = json["label"].toString().toStdString();
        const QJsonArray color = json["color"].toArray();
        for (int c = 0; c < 3 && c < color.size(); ++c)
            object.color[c] = static_cast<uint8_t>(color[c].toInt());
        for (const QJsonValue& prompt : json["prompts"].toArray()) {
            auto parsed = prompt_from_json(prompt.toObject(), meta.source, path);
            if (!parsed) return parsed.error();
            object.prompts.push_back(std::move(*parsed));
        }
        meta.objects.push_back(std::move(object));
    }
    return meta;
}

Status check_objects(const std::vector<TrackObject>& objects, const TrackSource& source,
                     const std::string& context) {
    std::set<int> ids;
    for (const TrackObject& object : objects) {
        const std::string name = context + ": object " + std::to_string(object.id);
        if (object.id <= 0)
            return make_error(ErrorKind::InvalidArgument, name + ": ids must be > 0");
        if (!ids.insert(object.id).second)
            return make_error(ErrorKind::InvalidArgument, name + " is listed twice");
        std::set<long long> frames;
        for (const TrackPrompt& prompt : object.prompts) {
            if (prompt.frame < 0 || prompt.frame >= source.frame_count)
                return make_error(ErrorKind::InvalidArgument,
                                  name + ": prompt on frame " + std::to_string(prompt.frame) +
                                      " of a " + std::to_string(source.frame_count) +
                                      "-frame video");
            if (!frames.insert(prompt.frame).second)
                return make_error(ErrorKind::InvalidArgument,
                                  name + ": two prompts on frame " + std::to_string(prompt.frame));
            if (prompt.mask &&
                (prompt.mask->height != source.height || prompt.mask->width != source.width))
                return make_error(ErrorKind::InvalidArgument,
                                  name + ": a mask prompt is not at the video's size");
        }
    }
    return Ok{};
}

}  // namespace

// ---- value types ----

bool TrackPoint::operator==(const TrackPoint& o) const {
    return x == o.x && y == o.y && positive == o.positive;
}
bool TrackBox::operator==(const TrackBox& o) const {
    return x0 == o.x0 && y0 == o.y0 && x1 == o.x1 && y1 == o.y1;
}
bool TrackPrompt::operator==(const TrackPrompt& o) const {
    return frame == o.frame && points == o.points && box == o.box && mask == o.mask;
}
bool TrackObject::operator==(const TrackObject& o) const {
    return id == o.id && label == o.label && color == o.color && prompts == o.prompts;
}

std::string TrackSource::differences(const TrackSource& other) const {
    std::vector<std::string> names;
    if (video != other.video || width != other.width || height != other.height ||
        frame_count != other.frame_count)
        names.push_back("video");
    if (model != other.model || model_hash != other.model_hash) names.push_back("model");
    std::string joined;
    for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
    return joined;
}

std::string TrackSource::describe() const {
    return std::filesystem::path(video).filename().string() + " (" + std::to_string(width) + "x" +
           std::to_string(height) + ", " + std::to_string(frame_count) + " frames) with " + model;
}

uint32_t crc32(const void* data, size_t size) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t crc = 0xFFFFFFFFu;
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

// ---- the store ----

struct TrackStore::Impl {
    struct Entry {
        int64_t offset = -1;  // of the record's header in the log; -1: no mask
        uint32_t bytes = 0;   // payload bytes
    };

    std::string folder, meta_path, log_path;
    Meta meta;
    int fd = -1;
    int64_t end = 0;  // bytes of the log (the next record's offset)
    int unsynced = 0;
    long long dropped = 0;
    std::map<int, std::vector<Entry>> index;  // object id -> per frame
    mutable std::mutex mutex;

    ~Impl() {
        if (fd >= 0) {
            if (unsynced > 0) ::fdatasync(fd);
            ::close(fd);
        }
    }

    Entry* entry(long long frame, int object_id) {
        auto it = index.find(object_id);
        if (it == index.end() || frame < 0 || frame >= static_cast<long long>(it->second.size()))
            return nullptr;
        return &it->second[static_cast<size_t>(frame)];
    }
    const Entry* entry(long long frame, int object_id) const {
        return const_cast<Impl*>(this)->entry(frame, object_id);
    }
    bool listed(int object_id) const {
        for (const TrackObject& object : meta.objects)
            if (object.id == object_id) return true;
        return false;
    }

    void remember(uint8_t kind, long long frame, int object_id, int64_t offset, uint32_t bytes) {
        if (frame < 0 || frame >= meta.source.frame_count) return;
        auto& frames = index[object_id];
        if (frames.empty()) frames.resize(static_cast<size_t>(meta.source.frame_count));
        frames[static_cast<size_t>(frame)] = kind == kKindMask ? Entry{offset, bytes} : Entry{};
    }

    Status write_meta() const {
        const QByteArray json = meta_json(meta.source, meta.run, meta.objects);
        return io::atomic_write(
            meta_path, std::string_view(json.constData(), static_cast<size_t>(json.size())));
    }

    // Opens the log (creating it), indexes every whole record and cuts a torn tail.
    Status open_log() {
        fd = ::open(log_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return io_error(log_path, "open the mask log", errno);
        struct stat info {};
        if (::fstat(fd, &info) != 0) return io_error(log_path, "read the mask log's size", errno);
        const int64_t size = info.st_size;
        char magic[sizeof(kLogMagic)] = {};
        if (size >= static_cast<int64_t>(sizeof(kLogMagic))) {
            if (::pread(fd, magic, sizeof(magic), 0) != static_cast<ssize_t>(sizeof(magic)))
                return io_error(log_path, "read the mask log", errno);
            if (std::memcmp(magic, kLogMagic, sizeof(magic)) != 0)
                return make_error(ErrorKind::Format, log_path + ": not a Photosynth mask log");
        } else {
            // New, or torn while its header was written: nothing in it yet.
            if (::ftruncate(fd, 0) != 0 ||
                ::pwrite(fd, kLogMagic, sizeof(kLogMagic), 0) !=
                    static_cast<ssize_t>(sizeof(kLogMagic)) ||
                ::fsync(fd) != 0)
                return io_error(log_path, "write the mask log's header", errno);
            io::sync_directory(folder);
            end = sizeof(kLogMagic);
            return Ok{};
        }
        int64_t offset = sizeof(kLogMagic);
        std::string payload;
        while (offset + static_cast<int64_t>(kRecordHeader) <= size) {
            char header[kRecordHeader];
            if (::pread(fd, header, kRecordHeader, offset) != static_cast<ssize_t>(kRecordHeader))
                break;
            const char* cursor = header;
            const uint32_t bytes = get_raw<uint32_t>(cursor);
            const uint32_t crc = get_raw<uint32_t>(cursor);
            if (bytes < kPayloadFixed || bytes > kMaxPayload ||
                offset + static_cast<int64_t>(kRecordHeader + bytes) > size)
                break;
            payload.resize(bytes);
            if (::pread(fd, payload.data(), bytes, offset + static_cast<int64_t>(kRecordHeader)) !=
                static_cast<ssize_t>(bytes))
                break;
            if (crc32(payload.data(), bytes) != crc) break;
            DecodedRecord record;
            if (!decode_payload(payload, record)) break;
            remember(record.kind, record.mask.frame, record.mask.object_id, offset, bytes);
            offset += static_cast<int64_t>(kRecordHeader + bytes);
        }
        end = offset;
        dropped = size - offset;
        if (dropped > 0) {
            // A torn write (killed mid-record) or a damaged tail: later records build on a clean
            // end.
            if (::ftruncate(fd, offset) != 0 || ::fsync(fd) != 0)
                return io_error(log_path, "cut the mask log's torn tail", errno);
        }
        return Ok{};
    }

    Status append(const std::string& record) {
        size_t written = 0;
        while (written < record.size()) {
            const ssize_t n = ::pwrite(fd, record.data() + written, record.size() - written,
                                       end + static_cast<int64_t>(written));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // Leave no partial record behind for this process's later appends.
                (void)::ftruncate(fd, end);
                return io_error(log_path, "append to the mask log", n < 0 ? errno : ENOSPC);
            }
            written += static_cast<size_t>(n);
        }
        end += static_cast<int64_t>(record.size());
        if (++unsynced >= kSyncEvery) return sync();
        return Ok{};
    }

    Status sync() {
        if (unsynced == 0) return Ok{};
        if (::fdatasync(fd) != 0) return io_error(log_path, "sync the mask log", errno);
        unsynced = 0;
        return Ok{};
    }

    Result<std::optional<TrackMask>> read(const Entry& entry) const {
        std::string payload(entry.bytes, '\0');
        if (::pread(fd, payload.data(), entry.bytes,
                    entry.offset + static_cast<int64_t>(kRecordHeader)) !=
            static_cast<ssize_t>(entry.bytes))
            return io_error(log_path, "read the mask log", errno ? errno : EIO);
        DecodedRecord record;
        if (!decode_payload(payload, record))
            return make_error(ErrorKind::Format, log_path + ": damaged record at byte " +
                                                     std::to_string(entry.offset));
        auto rle = annotation::rle_from_string(record.counts, record.mask.mask.height,
                                               record.mask.mask.width, log_path);
        if (!rle) return rle.error();
        record.mask.mask = std::move(*rle);
        return std::optional<TrackMask>(std::move(record.mask));
    }
};

TrackStore::TrackStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrackStore::~TrackStore() = default;

Result<std::unique_ptr<TrackStore>> TrackStore::open(const std::string& folder,
                                                     const TrackSource& source) {
    if (source.width <= 0 || source.height <= 0 || source.frame_count <= 0)
        return make_error(ErrorKind::InvalidArgument,
                          folder + ": a track store needs the video's size and frame count");
    auto impl = std::make_unique<Impl>();
    impl->folder = folder;
    impl->meta_path = join_path(folder, kMetaFile);
    impl->log_path = join_path(folder, kMaskLog);
    if (std::filesystem::exists(impl->meta_path)) {
        auto meta = read_meta(impl->meta_path);
        if (!meta) return meta.error();
        if (const std::string differ = meta->source.differences(source); !differ.empty())
            return make_error(ErrorKind::Mismatch, impl->meta_path + ": made for " +
                                                       meta->source.describe() + ", not " +
                                                       source.describe() + " (" + differ +
                                                       " differ); use another folder");
        impl->meta = std::move(*meta);
    } else {
        if (auto made = io::make_directories(folder); !made) return made.error();
        impl->meta.source = source;
        if (auto written = impl->write_meta(); !written) return written.error();
    }
    if (auto opened = impl->open_log(); !opened) return opened.error();
    return std::unique_ptr<TrackStore>(new TrackStore(std::move(impl)));
}

Result<std::unique_ptr<TrackStore>> TrackStore::open_existing(const std::string& folder) {
    auto impl = std::make_unique<Impl>();
    impl->folder = folder;
    impl->meta_path = join_path(folder, kMetaFile);
    impl->log_path = join_path(folder, kMaskLog);
    if (!std::filesystem::exists(impl->meta_path))
        return make_error(ErrorKind::Io,
                          folder + ": no track store (" + kMetaFile + " is missing)");
    auto meta = read_meta(impl->meta_path);
    if (!meta) return meta.error();
    impl->meta = std::move(*meta);
    if (auto opened = impl->open_log(); !opened) return opened.error();
    return std::unique_ptr<TrackStore>(new TrackStore(std::move(impl)));
}

const std::string& TrackStore::folder() const {
    return impl_->folder;
}

TrackSource TrackStore::source() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->meta.source;
}

std::vector<TrackObject> TrackStore::objects() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->meta.objects;
}

std::optional<TrackObject> TrackStore::object(int object_id) const {
    std::lock_guard lock(impl_->mutex);
    for (const TrackObject& object : impl_->meta.objects)
        if (object.id == object_id) return object;
    return std::nullopt;
}

TrackRun TrackStore::run() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->meta.run;
}

Status TrackStore::set_objects(std::vector<TrackObject> objects) {
    std::lock_guard lock(impl_->mutex);
    if (auto checked = check_objects(objects, impl_->meta.source, impl_->meta_path); !checked)
        return checked;
    std::vector<TrackObject> previous = std::move(impl_->meta.objects);
    impl_->meta.objects = std::move(objects);
    if (auto written = impl_->write_meta(); !written) {
        impl_->meta.objects = std::move(previous);
        return written;
    }
    return Ok{};
}

Status TrackStore::set_run(const TrackRun& run) {
    std::lock_guard lock(impl_->mutex);
    const TrackRun previous = impl_->meta.run;
    impl_->meta.run = run;
    if (auto written = impl_->write_meta(); !written) {
        impl_->meta.run = previous;
        return written;
    }
    return Ok{};
}

Status TrackStore::put(const TrackMask& mask) {
    std::lock_guard lock(impl_->mutex);
    const TrackSource& source = impl_->meta.source;
    if (mask.frame < 0 || mask.frame >= source.frame_count)
        return make_error(ErrorKind::InvalidArgument,
                          impl_->log_path + ": frame " + std::to_string(mask.frame) + " of a " +
                              std::to_string(source.frame_count) + "-frame video");
    if (mask.mask.height != source.height || mask.mask.width != source.width)
        return make_error(ErrorKind::InvalidArgument,
                          impl_->log_path + ": mask of " + std::to_string(mask.mask.width) + "x" +
                              std::to_string(mask.mask.height) + " for a " +
                              std::to_string(source.width) + "x" + std::to_string(source.height) +
                              " video");
    const int64_t offset = impl_->end;
    const std::string record = encode_record(kKindMask, mask);
    if (auto appended = impl_->append(record); !appended) return appended;
    impl_->remember(kKindMask, mask.frame, mask.object_id, offset,
                    static_cast<uint32_t>(record.size() - kRecordHeader));
    return Ok{};
}

Status TrackStore::erase(long long frame, int object_id) {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->entry(frame, object_id) || impl_->entry(frame, object_id)->offset < 0) return Ok{};
    TrackMask tombstone;
    tombstone.frame = frame;
    tombstone.object_id = object_id;
    if (auto appended = impl_->append(encode_record(kKindErase, tombstone)); !appended)
        return appended;
    impl_->remember(kKindErase, frame, object_id, -1, 0);
    return Ok{};
}

Status TrackStore::flush() {
    std::lock_guard lock(impl_->mutex);
    return impl_->sync();
}

bool TrackStore::has(long long frame, int object_id) const {
    std::lock_guard lock(impl_->mutex);
    const Impl::Entry* entry = impl_->entry(frame, object_id);
    return entry && entry->offset >= 0;
}

bool TrackStore::frame_complete(long long frame) const {
    std::lock_guard lock(impl_->mutex);
    if (impl_->meta.objects.empty()) return false;
    for (const TrackObject& object : impl_->meta.objects) {
        const Impl::Entry* entry = impl_->entry(frame, object.id);
        if (!entry || entry->offset < 0) return false;
    }
    return true;
}

Result<std::optional<TrackMask>> TrackStore::get(long long frame, int object_id) const {
    std::lock_guard lock(impl_->mutex);
    const Impl::Entry* entry = impl_->entry(frame, object_id);
    if (!entry || entry->offset < 0) return std::optional<TrackMask>();
    return impl_->read(*entry);
}

std::vector<long long> TrackStore::frames(int object_id) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<long long> out;
    auto it = impl_->index.find(object_id);
    if (it == impl_->index.end() || !impl_->listed(object_id)) return out;
    for (size_t frame = 0; frame < it->second.size(); ++frame)
        if (it->second[frame].offset >= 0) out.push_back(static_cast<long long>(frame));
    return out;
}

long long TrackStore::mask_count() const {
    std::lock_guard lock(impl_->mutex);
    long long count = 0;
    for (const auto& [object_id, frames] : impl_->index) {
        if (!impl_->listed(object_id)) continue;
        for (const Impl::Entry& entry : frames) count += entry.offset >= 0;
    }
    return count;
}

long long TrackStore::dropped_tail_bytes() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->dropped;
}

Status TrackStore::compact() {
    std::lock_guard lock(impl_->mutex);
    if (auto synced = impl_->sync(); !synced) return synced;
    auto file = io::AtomicFile::create(impl_->log_path);
    if (!file) return file.error();
    if (auto written = file->write(std::string_view(kLogMagic, sizeof(kLogMagic))); !written)
        return written;
    std::map<int, std::vector<Impl::Entry>> index;
    int64_t offset = sizeof(kLogMagic);
    std::string record;
    for (const auto& [object_id, frames] : impl_->index) {
        std::vector<Impl::Entry>& moved = index[object_id];
        moved.resize(frames.size());
        for (size_t frame = 0; frame < frames.size(); ++frame) {
            const Impl::Entry& entry = frames[frame];
            if (entry.offset < 0) continue;
            record.resize(kRecordHeader + entry.bytes);
            if (::pread(impl_->fd, record.data(), record.size(), entry.offset) !=
                static_cast<ssize_t>(record.size()))
                return io_error(impl_->log_path, "read the mask log", errno ? errno : EIO);
            if (auto written = file->write(record); !written) return written;
            moved[frame] = Impl::Entry{offset, entry.bytes};
            offset += static_cast<int64_t>(record.size());
        }
    }
    if (auto committed = file->commit(); !committed) return committed;
    const int fd = ::open(impl_->log_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return io_error(impl_->log_path, "reopen the compacted mask log", errno);
    ::close(impl_->fd);
    impl_->fd = fd;
    impl_->end = offset;
    impl_->index = std::move(index);
    return Ok{};
}

}  // namespace ps::video
