// A read-only view of a whole file through a private memory map, and tensors that alias it.
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
    // Maps the whole file once. Error messages do not name the file; callers prefix it.
    static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_bytes_; }

    // The mapping is private and writable, so a tensor that is modified in place copies the
    // touched page instead of faulting; the file itself never changes.
    uint8_t* writable_data() const { return data_; }

  private:
    MappedFile(uint8_t* data, size_t size_bytes) : data_(data), size_bytes_(size_bytes) {}
    uint8_t* data_ = nullptr;
    size_t size_bytes_ = 0;
};

// A CPU tensor whose element 0 is at byte_offset of the mapping, with the given sizes and
// strides (in elements). extent_bytes is how many bytes from byte_offset the view may touch;
// the caller has checked that they lie inside the file. The tensor shares the mapping (its
// deleter holds `file`) unless the address is misaligned for the dtype, in which case the
// extent is copied into an aligned buffer.
at::Tensor tensor_over_mapping(const std::shared_ptr<MappedFile>& file, size_t byte_offset,
                               at::IntArrayRef sizes, at::IntArrayRef strides, at::ScalarType dtype,
                               size_t extent_bytes);

}  // namespace ps::io
