// Helpers shared by the fuzz targets: the readers under test that only take a path get the
// fuzzer's bytes through one scratch file per process.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace ps::fuzz {

// Writes the bytes to `path`, replacing it. Aborts when the file cannot be written: a fuzz run
// that tests nothing must not look green.
inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr || (size > 0 && std::fwrite(data, 1, size, file) != size) ||
        std::fclose(file) != 0) {
        std::perror(path.c_str());
        std::abort();
    }
}

// The folder for this process's scratch files: $TMPDIR, else /tmp.
inline std::string scratch_dir() {
    const char* dir = std::getenv("TMPDIR");
    return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

// The scratch files this process wrote, removed when it exits normally (each ctest run of the
// replay drivers left one per process in /tmp).
class ScratchFiles {
  public:
    ~ScratchFiles() {
        for (const std::string& path : paths_) std::remove(path.c_str());
    }
    void add(const std::string& path) { paths_.insert(path); }

  private:
    std::set<std::string> paths_;
};

// Writes the bytes to this process's scratch file (under scratch_dir()) and returns its path;
// `suffix` keeps readers that look at the extension on their usual path.
inline std::string write_scratch_file(const uint8_t* data, size_t size, const char* suffix) {
    static ScratchFiles written;
    const std::string path =
        scratch_dir() + "/photosynth-fuzz-" + std::to_string(::getpid()) + suffix;
    write_file(path, data, size);
    written.add(path);
    return path;
}

// A broken invariant the callers of the reader rely on: crash so the fuzzer keeps the input.
inline void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace ps::fuzz
