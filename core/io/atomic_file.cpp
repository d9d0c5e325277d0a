// Crash-safe file writes (see atomic_file.h): write, fsync, rename, fsync the folder.
#include "io/atomic_file.h"

#include "io/temp_name.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ps::io {
namespace {

Error io_error(const std::string& path, const std::string& what, int error_number) {
    return make_error(ErrorKind::Io, path + ": " + what + " (" + std::strerror(error_number) + ")");
}

std::string parent_of(const std::string& path) {
    const std::string parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

int write_all(int fd, const char* data, size_t size) {
    size_t written = 0;
    while (written < size) {
        const ssize_t n = ::write(fd, data + written, size - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        written += static_cast<size_t>(n);
    }
    return 0;
}

}  // namespace

int sync_directory(const std::string& directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    const int result = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return result;
}

Status make_directories(const std::string& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error)
        return make_error(ErrorKind::Io,
                          path + ": cannot create the folder (" + error.message() + ")");
    return Ok{};
}

Result<AtomicFile> AtomicFile::create(const std::string& path, MissingFolders folders) {
    const std::string directory = parent_of(path);
    if (folders == MissingFolders::Create)
        if (auto made = make_directories(directory); !made) return made.error();
    // Beside the target: rename is atomic only within one file system. The pid in the name lets
    // the next run remove it if this process is killed before the rename.
    const std::string name = std::filesystem::path(path).filename().string();
    AtomicFile file;
    file.path_ = path;
    file.temp_path_ = directory + "/" + temp_name_stem(name) + "XXXXXX";
    file.fd_ = ::mkostemp(file.temp_path_.data(), O_CLOEXEC);
    if (file.fd_ < 0) {
        const int error_number = errno;
        file.temp_path_.clear();
        return io_error(path, "cannot create a temporary file in " + directory, error_number);
    }
    // mkstemp makes 0600 files; keep an existing file's mode, else the usual 0644.
    struct stat existing {};
    const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
    if (::fchmod(file.fd_, mode) != 0)
        return file.fail("cannot set the mode of " + file.temp_path_, errno);
    return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), temp_path_(std::move(other.temp_path_)), fd_(other.fd_) {
    other.temp_path_.clear();
    other.fd_ = -1;
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
    if (this != &other) {
        discard();
        path_ = std::move(other.path_);
        temp_path_ = std::move(other.temp_path_);
        fd_ = other.fd_;
        other.temp_path_.clear();
        other.fd_ = -1;
    }
    return *this;
}

AtomicFile::~AtomicFile() {
    discard();
}

void AtomicFile::discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    temp_path_.clear();
}

Error AtomicFile::fail(const std::string& what, int error_number) {
    discard();
    return io_error(path_, what, error_number);
}

Status AtomicFile::write(const void* data, size_t size) {
    if (fd_ < 0) return make_error(ErrorKind::Io, path_ + ": cannot write (already closed)");
    if (const int error_number = write_all(fd_, static_cast<const char*>(data), size);
        error_number != 0) {
        const std::string temp_path = temp_path_;
        return fail("cannot write " + temp_path, error_number);
    }
    return Ok{};
}

Status AtomicFile::commit() {
    if (fd_ < 0) return make_error(ErrorKind::Io, path_ + ": cannot write (already closed)");
    const std::string temp_path = temp_path_;
    if (::fsync(fd_) != 0) return fail("cannot flush " + temp_path + " to disk", errno);
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) return fail("cannot close " + temp_path, errno);
    if (::rename(temp_path.c_str(), path_.c_str()) != 0)
        return fail("cannot rename " + temp_path + " over it", errno);
    temp_path_.clear();  // renamed: nothing to discard any more
    const std::string directory = parent_of(path_);
    if (const int error_number = sync_directory(directory); error_number != 0)
        return io_error(path_, "written, but its folder " + directory + " could not be flushed",
                        error_number);
    return Ok{};
}

Status atomic_write(const std::string& path, std::string_view bytes, MissingFolders folders) {
    auto file = AtomicFile::create(path, folders);
    if (!file) return file.error();
    if (auto written = file->write(bytes); !written) return written;
    return file->commit();
}

Status write_staged_file(const std::string& path, std::string_view bytes, MissingFolders folders) {
    if (folders == MissingFolders::Create)
        if (auto made = make_directories(parent_of(path)); !made) return made;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error(path, "cannot create", errno);
    int error_number = write_all(fd, bytes.data(), bytes.size());
    const char* what = "cannot write";
    if (error_number == 0 && ::fsync(fd) != 0) {
        error_number = errno;
        what = "cannot flush to disk";
    }
    if (::close(fd) != 0 && error_number == 0) {
        error_number = errno;
        what = "cannot close";
    }
    return error_number == 0 ? Status(Ok{}) : Status(io_error(path, what, error_number));
}

Result<std::string> read_whole_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(path, "cannot open", errno);
    std::string bytes;
    char buffer[1 << 16];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int error_number = errno;
            ::close(fd);
            return io_error(path, "cannot read", error_number);
        }
        if (n == 0) break;
        bytes.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return bytes;
}

Result<std::string> rename_aside(const std::string& path, const std::string& suffix) {
    for (int attempt = 1; attempt < 1000; ++attempt) {
        const std::string target =
            path + suffix + (attempt == 1 ? "" : "-" + std::to_string(attempt));
        // link() fails with EEXIST instead of replacing (rename would silently overwrite an
        // earlier set-aside file); the original name is removed only once the link exists.
        if (::link(path.c_str(), target.c_str()) == 0) {
            if (::unlink(path.c_str()) != 0)
                return io_error(path, "kept as " + target + " but cannot remove it", errno);
            sync_directory(parent_of(path));
            return target;
        }
        if (errno == EEXIST) continue;
        if (errno != EPERM && errno != EOPNOTSUPP)
            return io_error(path, "cannot rename to " + target, errno);
        // A file system without hard links: check, then rename (not atomic, still no clobber
        // unless another process races us to this exact name).
        if (::access(target.c_str(), F_OK) == 0) continue;
        if (::rename(path.c_str(), target.c_str()) != 0)
            return io_error(path, "cannot rename to " + target, errno);
        sync_directory(parent_of(path));
        return target;
    }
    return make_error(ErrorKind::Io, path + ": no free name to set it aside as " + path + suffix);
}

}  // namespace ps::io
