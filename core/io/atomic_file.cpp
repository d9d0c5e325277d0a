// Crash-safe file writes (see project.h): a reader, or the next start after a SIGKILL or a power
// cut, finds either the old bytes or the new ones, never a torn file.
#include "annotation/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "annotation/project.h"

namespace ps::annotation {
namespace {

std::string system_message(int error_number) {
    return std::strerror(error_number);
}

Error io_error(const std::string& path, const std::string& what, int error_number) {
    return make_error(ErrorKind::Io,
                      path + ": " + what + " (" + system_message(error_number) + ")");
}

std::string parent_of(const std::string& path) {
    const std::string parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

// Makes the directory entry itself durable: without it a rename can be lost at power failure
// even though the file's data were synced.
int sync_directory(const std::string& directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    const int result = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return result;
}

int write_all(int fd, const std::string& bytes) {
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        written += static_cast<size_t>(n);
    }
    return 0;
}

}  // namespace

Status make_directories(const std::string& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error)
        return make_error(ErrorKind::Io,
                          path + ": cannot create the folder (" + error.message() + ")");
    return Ok{};
}

Status write_file_atomically(const std::string& path, const std::string& bytes) {
    const std::string directory = parent_of(path);
    if (auto made = make_directories(directory); !made) return made.error();
    // The temporary file sits beside the target (rename is atomic only within one file system)
    // and does not end in the target's extension, so a reader listing "*.json" never sees it.
    // The pid in its name lets the next run remove it if this process is killed before the
    // rename (io::remove_stale_temp_files).
    const std::string name = std::filesystem::path(path).filename().string();
    std::string temp_path =
        directory + "/." + name + ".tmp-" + std::to_string(::getpid()) + "-XXXXXX";
    const int fd = ::mkostemp(temp_path.data(), O_CLOEXEC);
    if (fd < 0) return io_error(path, "cannot create a temporary file in " + directory, errno);

    auto fail = [&](const std::string& what, int error_number) -> Status {
        ::unlink(temp_path.c_str());
        return io_error(path, what, error_number);
    };
    // mkstemp makes 0600 files; keep an existing file's mode, else the usual 0644.
    struct stat existing {};
    const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
    if (::fchmod(fd, mode) != 0) {
        const int error_number = errno;
        ::close(fd);
        return fail("cannot set the mode of " + temp_path, error_number);
    }
    if (const int error_number = write_all(fd, bytes); error_number != 0) {
        ::close(fd);
        return fail("cannot write " + temp_path, error_number);
    }
    if (::fsync(fd) != 0) {
        const int error_number = errno;
        ::close(fd);
        return fail("cannot flush " + temp_path + " to disk", error_number);
    }
    if (::close(fd) != 0) return fail("cannot close " + temp_path, errno);
    if (::rename(temp_path.c_str(), path.c_str()) != 0)
        return fail("cannot rename " + temp_path + " over it", errno);
    if (const int error_number = sync_directory(directory); error_number != 0)
        return io_error(path, "written, but its folder " + directory + " could not be flushed",
                        error_number);
    return Ok{};
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

}  // namespace ps::annotation
