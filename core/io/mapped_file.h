// A whole file's bytes in one page-aligned mapping (read into owned memory, or a private map of
// the file), and tensors that alias it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace ps::io {

class MappedFile {
  public:
    // Reads the whole file into anonymous memory this object owns. Its bytes no longer depend on
    // the file: truncating, rewriting or deleting it afterwards changes nothing here.
    static Result<std::shared_ptr<MappedFile>> read(const std::string& path);
    // Maps the file privately: only the pages that are read get loaded, which suits looking at
    // headers and shapes. Those pages still come from the file, so reading one after the file
    // was truncated raises SIGBUS and after it was rewritten in place may see the new bytes.
    static Result<std::shared_ptr<MappedFile>> map(const std::string& path);
    // Error messages of both do not name the file; callers prefix it.

    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_bytes_; }

    // Both mappings are private and writable, so a tensor that is modified in place changes only
    // this memory (a mapped file's touched page is copied); the file itself never changes.
    uint8_t* writable_data() const { return data_; }

  private:
    MappedFile(uint8_t* data, size_t size_bytes) : data_(data), size_bytes_(size_bytes) {}
    uint8_t* data_ = nullptr;
    size_t size_bytes_ = 0;
};

// A CPU tensor whose element 0 is at byte_offset of the mapping, with the given sizes and
// strides (in elements). extent_bytes is how many bytes from byte_offset the view may touch;
// the caller has checked that they lie inside the file. A floating-point tensor shares the
// mapping (its deleter holds `file`) unless the address is misaligned for the dtype. Otherwise
// the extent is copied into a buffer of its own: integer and bool tensors (indices, counters)
// are small, and a model that converts every floating tensor to another dtype or device then
// releases the whole file's memory instead of keeping it for their sake.
at::Tensor tensor_over_mapping(const std::shared_ptr<MappedFile>& file, size_t byte_offset,
                               at::IntArrayRef sizes, at::IntArrayRef strides, at::ScalarType dtype,
                               size_t extent_bytes);

}  // namespace ps::io
