// Helpers shared by the fuzz targets: the readers under test that only take a path get the
// fuzzer's bytes through one scratch file per process.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ps::fuzz {

// Writes the bytes to this process's scratch file (under $TMPDIR, else /tmp) and returns its
// path; `suffix` keeps readers that look at the extension on their usual path. Aborts when the
// file cannot be written: a fuzz run that tests nothing must not look green.
inline std::string write_scratch_file(const uint8_t* data, size_t size, const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    const std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") +
                             "/photosynth-fuzz-" + std::to_string(::getpid()) + suffix;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr || (size > 0 && std::fwrite(data, 1, size, file) != size) ||
        std::fclose(file) != 0) {
        std::perror(path.c_str());
        std::abort();
    }
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
