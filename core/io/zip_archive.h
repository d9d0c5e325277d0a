// A minimal reader for the uncompressed ("stored") ZIP archives that torch.save writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace ps::io {

struct ZipEntry {
    std::string name;
    size_t data_offset = 0;  // of the entry's bytes, from the start of the archive
    size_t size_bytes = 0;
};

class ZipArchive {
  public:
    // Reads the central directory (ZIP64 included) of the archive held in [data, data + size)
    // and checks every entry's local header, offsets and sizes against the archive's size.
    // Only stored (uncompressed) entries are accepted. The bytes must outlive the archive.
    // Error messages do not name the file; callers prefix it.
    static Result<ZipArchive> open(const uint8_t* data, size_t size);

    const std::vector<ZipEntry>& entries() const { return entries_; }
    const ZipEntry* find(const std::string& name) const;

  private:
    std::vector<ZipEntry> entries_;  // sorted by name
};

}  // namespace ps::io
