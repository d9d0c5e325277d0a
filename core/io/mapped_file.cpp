// RAII wrapper around mmap, and zero-copy tensors over the mapping.
#include "io/mapped_file.h"

#include <ATen/ATen.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "io/dtype.h"

namespace ps::io {
namespace {

struct FileDescriptor {
    int fd = -1;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

Error io_error(const std::string& what) {
    return make_error(ErrorKind::Io, what + ": " + std::strerror(errno));
}

}  // namespace

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
    FileDescriptor file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) return io_error("cannot open the file");
    struct stat info {};
    if (::fstat(file.fd, &info) != 0) return io_error("cannot stat the file");
    if (!S_ISREG(info.st_mode)) return make_error(ErrorKind::Io, "not a regular file");
    const auto size_bytes = static_cast<size_t>(info.st_size);
    if (size_bytes == 0) return std::shared_ptr<MappedFile>(new MappedFile(nullptr, 0));
    // MAP_NORESERVE: a private writable mapping is otherwise charged in full against the
    // commit limit, which would refuse multi-GB checkpoints on small machines for pages that
    // are never written.
    void* address = ::mmap(nullptr, size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
                           file.fd, 0);
    if (address == MAP_FAILED) return io_error("cannot memory-map the file");
    return std::shared_ptr<MappedFile>(new MappedFile(static_cast<uint8_t*>(address), size_bytes));
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_bytes_);
}

at::Tensor tensor_over_mapping(const std::shared_ptr<MappedFile>& file, size_t byte_offset,
                               at::IntArrayRef sizes, at::IntArrayRef strides, at::ScalarType dtype,
                               size_t extent_bytes) {
    const auto options = at::TensorOptions().dtype(dtype).device(at::kCPU);
    uint8_t* address = file->writable_data() + byte_offset;
    if (reinterpret_cast<uintptr_t>(address) % dtype_size_bytes(dtype) == 0) {
        std::shared_ptr<MappedFile> keep_alive = file;
        return at::from_blob(
            address, sizes, strides, [keep_alive](void*) {}, options);
    }
    const auto extent_elements = static_cast<int64_t>(extent_bytes / dtype_size_bytes(dtype));
    at::Tensor copy = at::empty({extent_elements}, options);
    if (extent_bytes > 0) std::memcpy(copy.data_ptr(), address, extent_bytes);
    return copy.as_strided(sizes, strides, 0);
}

}  // namespace ps::io
