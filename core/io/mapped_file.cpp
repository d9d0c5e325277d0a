// RAII wrapper around a file read into anonymous memory or mapped privately, and zero-copy
// tensors over it.
#include "io/mapped_file.h"

#include <ATen/ATen.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/dtype.h"

namespace ps::io {
namespace {

// Linux transfers at most about 2 GiB per read(); larger files take several.
constexpr size_t kMaxReadBytes = size_t{1} << 30;

struct FileDescriptor {
    int fd = -1;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

Error io_error(const std::string& what) {
    return make_error(ErrorKind::Io, what + ": " + std::strerror(errno));
}

// Opens a regular file for reading and returns its size.
Result<size_t> open_regular_file(const std::string& path, FileDescriptor& file) {
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) return io_error("cannot open the file");
    struct stat info {};
    if (::fstat(file.fd, &info) != 0) return io_error("cannot stat the file");
    if (!S_ISREG(info.st_mode)) return make_error(ErrorKind::Io, "not a regular file");
    return static_cast<size_t>(info.st_size);
}

}  // namespace

Result<std::shared_ptr<MappedFile>> MappedFile::read(const std::string& path) {
    FileDescriptor file;
    Result<size_t> size_bytes = open_regular_file(path, file);
    if (!size_bytes) return size_bytes.error();
    if (*size_bytes == 0) return std::shared_ptr<MappedFile>(new MappedFile(nullptr, 0));
    // Anonymous pages rather than malloc: page-aligned like a file mapping (so the same tensors
    // alias it), and returned to the system at once when the last tensor lets go.
    void* address =
        ::mmap(nullptr, *size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (address == MAP_FAILED) {
        return io_error("cannot allocate " + std::to_string(*size_bytes) + " bytes to read it");
    }
    std::shared_ptr<MappedFile> bytes(new MappedFile(static_cast<uint8_t*>(address), *size_bytes));
    // Faulting fresh 4 KB pages dominated the read on the 2-core VM (ViT-B's 375 MB: ~1.6 s at
    // 0.2 GB/s, against 0.14 s for the same read into a reused buffer); in transparent huge pages
    // (THP mode "madvise" there) it took 0.1-0.2 s when the kernel had huge pages to give.
    ::madvise(address, *size_bytes, MADV_HUGEPAGE);
    ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    size_t done = 0;
    while (done < *size_bytes) {
        const ssize_t got =
            ::pread(file.fd, bytes->data_ + done, std::min(*size_bytes - done, kMaxReadBytes),
                    static_cast<off_t>(done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return io_error("cannot read the file");
        if (got == 0) {
            return make_error(ErrorKind::Io, "the file shrank from " + std::to_string(*size_bytes) +
                                                 " to " + std::to_string(done) +
                                                 " bytes while it was read");
        }
        done += static_cast<size_t>(got);
    }
    return bytes;
}

Result<std::shared_ptr<MappedFile>> MappedFile::map(const std::string& path) {
    FileDescriptor file;
    Result<size_t> size_bytes = open_regular_file(path, file);
    if (!size_bytes) return size_bytes.error();
    if (*size_bytes == 0) return std::shared_ptr<MappedFile>(new MappedFile(nullptr, 0));
    // MAP_NORESERVE: a private writable mapping is otherwise charged in full against the
    // commit limit, which would refuse multi-GB checkpoints on small machines for pages that
    // are never written.
    void* address = ::mmap(nullptr, *size_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_NORESERVE, file.fd, 0);
    if (address == MAP_FAILED) return io_error("cannot memory-map the file");
    return std::shared_ptr<MappedFile>(new MappedFile(static_cast<uint8_t*>(address), *size_bytes));
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_bytes_);
}

at::Tensor tensor_over_mapping(const std::shared_ptr<MappedFile>& file, size_t byte_offset,
                               at::IntArrayRef sizes, at::IntArrayRef strides, at::ScalarType dtype,
                               size_t extent_bytes) {
    const auto options = at::TensorOptions().dtype(dtype).device(at::kCPU);
    uint8_t* address = file->writable_data() + byte_offset;
    const bool aligned = reinterpret_cast<uintptr_t>(address) % dtype_size_bytes(dtype) == 0;
    if (aligned && at::isFloatingType(dtype)) {
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
