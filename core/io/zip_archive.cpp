// ZIP reading per APPNOTE 6.3.x, limited to what torch.save writes: one disk, stored entries,
// ZIP64 records for archives or entries past 4 GiB. Every offset is checked before it is read.
#include "io/zip_archive.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace ps::io {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kMaxCommentBytes = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;

// Little-endian reads from a bounded byte range; callers check `fits` first.
struct Bytes {
    const uint8_t* data;
    size_t size;

    bool fits(size_t offset, size_t length) const {
        return offset <= size && length <= size - offset;
    }
    uint64_t read(size_t offset, int width) const {
        uint64_t value = 0;
        for (int i = width - 1; i >= 0; --i) value = (value << 8) | data[offset + i];
        return value;
    }
    uint16_t u16(size_t offset) const { return static_cast<uint16_t>(read(offset, 2)); }
    uint32_t u32(size_t offset) const { return static_cast<uint32_t>(read(offset, 4)); }
    uint64_t u64(size_t offset) const { return read(offset, 8); }
};

Error format_error(std::string message) {
    return make_error(ErrorKind::Format, std::move(message));
}

Error truncated(const std::string& detail) {
    return format_error("truncated or incomplete zip archive (" + detail + ")");
}

struct Directory {
    uint64_t entry_count = 0;
    uint64_t offset = 0;
    uint64_t size_bytes = 0;
};

// The end record is the last thing in the file, followed only by a comment of up to 64 KiB.
std::optional<size_t> find_end_record(const Bytes& file) {
    if (file.size < kEndSize) return std::nullopt;
    const size_t last = file.size - kEndSize;
    const size_t first = last > kMaxCommentBytes ? last - kMaxCommentBytes : 0;
    for (size_t pos = last + 1; pos-- > first;) {
        if (file.u32(pos) == kEndSignature && pos + kEndSize + file.u16(pos + 20) <= file.size) {
            return pos;
        }
    }
    return std::nullopt;
}

Result<Directory> read_directory_location(const Bytes& file, size_t end_pos) {
    Directory directory{file.u16(end_pos + 10), file.u32(end_pos + 16), file.u32(end_pos + 12)};
    if (file.u16(end_pos + 4) != 0 || file.u16(end_pos + 6) != 0) {
        return make_error(ErrorKind::Unsupported, "multi-disk zip archives are not supported");
    }
    if (end_pos < kZip64LocatorSize ||
        file.u32(end_pos - kZip64LocatorSize) != kZip64LocatorSignature) {
        return directory;
    }
    const uint64_t zip64_end = file.u64(end_pos - kZip64LocatorSize + 8);
    if (!file.fits(zip64_end, kZip64EndSize) || file.u32(zip64_end) != kZip64EndSignature) {
        return truncated("the ZIP64 end record is missing or out of bounds");
    }
    directory.entry_count = file.u64(zip64_end + 32);
    directory.size_bytes = file.u64(zip64_end + 40);
    directory.offset = file.u64(zip64_end + 48);
    return directory;
}

// Replaces 0xFFFFFFFF sizes and offsets with their 64-bit values from the ZIP64 extra field.
bool apply_zip64_extra(const Bytes& extra, uint64_t& size_bytes, uint64_t& compressed_bytes,
                       uint64_t& local_offset) {
    size_t pos = 0;
    while (extra.fits(pos, 4)) {
        const uint16_t id = extra.u16(pos);
        const uint16_t length = extra.u16(pos + 2);
        pos += 4;
        if (!extra.fits(pos, length)) return false;
        if (id == kZip64ExtraId) {
            const Bytes field{extra.data + pos, length};
            size_t field_pos = 0;
            for (uint64_t* value : {&size_bytes, &compressed_bytes, &local_offset}) {
                if (*value != 0xFFFFFFFFu) continue;
                if (!field.fits(field_pos, 8)) return false;
                *value = field.u64(field_pos);
                field_pos += 8;
            }
            return true;
        }
        pos += length;
    }
    return true;
}

// Parses one central directory header at `pos` and checks the local header it points to.
Result<ZipEntry> read_entry(const Bytes& file, size_t& pos, size_t directory_end) {
    if (pos + kCentralHeaderSize > directory_end || file.u32(pos) != kCentralHeaderSignature) {
        return truncated("bad central directory header at offset " + std::to_string(pos));
    }
    const uint16_t flags = file.u16(pos + 8);
    const uint16_t method = file.u16(pos + 10);
    uint64_t compressed_bytes = file.u32(pos + 20);
    uint64_t size_bytes = file.u32(pos + 24);
    const size_t name_length = file.u16(pos + 28);
    const size_t extra_length = file.u16(pos + 30);
    const size_t comment_length = file.u16(pos + 32);
    uint64_t local_offset = file.u32(pos + 42);
    const size_t name_pos = pos + kCentralHeaderSize;
    const size_t record_end = name_pos + name_length + extra_length + comment_length;
    if (record_end > directory_end) {
        return truncated("central directory entry at offset " + std::to_string(pos) +
                         " runs past the directory");
    }
    ZipEntry entry;
    entry.name.assign(reinterpret_cast<const char*>(file.data + name_pos), name_length);
    const Bytes extra{file.data + name_pos + name_length, extra_length};
    if (!apply_zip64_extra(extra, size_bytes, compressed_bytes, local_offset)) {
        return format_error("entry '" + entry.name + "' has a malformed ZIP64 extra field");
    }
    pos = record_end;
    if (flags & 1u) {
        return make_error(ErrorKind::Unsupported, "entry '" + entry.name + "' is encrypted");
    }
    if (method != 0) {
        return make_error(ErrorKind::Unsupported,
                          "entry '" + entry.name + "' is compressed (method " +
                              std::to_string(method) +
                              "); only stored entries, as torch.save writes, are supported");
    }
    if (compressed_bytes != size_bytes) {
        return format_error("stored entry '" + entry.name + "' has compressed size " +
                            std::to_string(compressed_bytes) + " but size " +
                            std::to_string(size_bytes));
    }
    if (!file.fits(local_offset, kLocalHeaderSize) ||
        file.u32(local_offset) != kLocalHeaderSignature) {
        return truncated("local header of entry '" + entry.name + "' is missing");
    }
    const size_t local_name_length = file.u16(local_offset + 26);
    const size_t local_extra_length = file.u16(local_offset + 28);
    const size_t local_name_pos = local_offset + kLocalHeaderSize;
    if (!file.fits(local_name_pos, local_name_length + local_extra_length) ||
        local_name_length != name_length ||
        std::memcmp(file.data + local_name_pos, entry.name.data(), name_length) != 0) {
        return format_error("local header of entry '" + entry.name +
                            "' does not match the central directory");
    }
    entry.data_offset = local_name_pos + local_name_length + local_extra_length;
    if (!file.fits(entry.data_offset, size_bytes)) {
        return truncated("entry '" + entry.name + "' runs past the end of the file");
    }
    entry.size_bytes = size_bytes;
    return entry;
}

}  // namespace

Result<ZipArchive> ZipArchive::open(const uint8_t* data, size_t size) {
    const Bytes file{data, size};
    const std::optional<size_t> end_pos = find_end_record(file);
    if (!end_pos) return truncated("no end-of-central-directory record");
    Result<Directory> directory = read_directory_location(file, *end_pos);
    if (!directory) return directory.error();
    if (!file.fits(directory->offset, directory->size_bytes) ||
        directory->offset + directory->size_bytes > *end_pos) {
        return truncated("the central directory runs past its end record");
    }
    const size_t directory_end = directory->offset + directory->size_bytes;
    ZipArchive archive;
    size_t pos = directory->offset;
    while (pos < directory_end) {
        Result<ZipEntry> entry = read_entry(file, pos, directory_end);
        if (!entry) return entry.error();
        archive.entries_.push_back(std::move(entry).value());
    }
    if (archive.entries_.size() != directory->entry_count) {
        return truncated("the central directory holds " + std::to_string(archive.entries_.size()) +
                         " entries, the end record says " + std::to_string(directory->entry_count));
    }
    auto by_name = [](const ZipEntry& a, const ZipEntry& b) { return a.name < b.name; };
    std::sort(archive.entries_.begin(), archive.entries_.end(), by_name);
    const auto duplicate =
        std::adjacent_find(archive.entries_.begin(), archive.entries_.end(),
                           [](const ZipEntry& a, const ZipEntry& b) { return a.name == b.name; });
    if (duplicate != archive.entries_.end()) {
        return format_error("entry '" + duplicate->name + "' appears twice");
    }
    return archive;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
    auto it = std::lower_bound(
        entries_.begin(), entries_.end(), name,
        [](const ZipEntry& entry, const std::string& key) { return entry.name < key; });
    return it != entries_.end() && it->name == name ? &*it : nullptr;
}

}  // namespace ps::io
