// The suite's driver for a fuzz target, built with any compiler (no libFuzzer): runs every file
// of the corpus and regression folders given, then deterministic mutations of them (bit flips,
// byte overwrites, truncations, cut and duplicated ranges) until a count or a time budget runs
// out. A crash, an abort or an escaping exception fails the test; the input that caused it is
// written first to $PHOTOSYNTH_FUZZ_CRASH_DIR (default: the working directory).
//   fuzz_replay_<target> [--mutations N] [--seconds S] DIR_OR_FILE...
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional, as in libFuzzer: one-time set-up before the first input.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

struct Input {
    std::string name;
    std::vector<uint8_t> bytes;
};

std::vector<uint8_t> read_bytes(const fs::path& path) {
    std::ifstream stream(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

void collect(const fs::path& path, std::vector<Input>& inputs) {
    if (fs::is_directory(path)) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(path)) files.push_back(entry.path());
        std::sort(files.begin(), files.end());  // the same order, so the same mutations, each run
        for (const fs::path& file : files) collect(file, inputs);
    } else if (fs::is_regular_file(path)) {
        inputs.push_back({path.string(), read_bytes(path)});
    } else {
        std::fprintf(stderr, "no such file or folder: %s\n", path.c_str());
        std::exit(2);
    }
}

// splitmix64: a fixed seed makes every run try the same mutations.
struct Random {
    uint64_t state = 0x5eed;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    size_t below(size_t bound) { return bound == 0 ? 0 : static_cast<size_t>(next() % bound); }
};

std::vector<uint8_t> mutate(std::vector<uint8_t> bytes, Random& random) {
    static const uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '"', '[', '{', '-', '9'};
    const int edits = 1 + static_cast<int>(random.below(4));
    for (int i = 0; i < edits; ++i) {
        if (bytes.empty()) {
            bytes.push_back(static_cast<uint8_t>(random.next()));
            continue;
        }
        const size_t at = random.below(bytes.size());
        switch (random.below(6)) {
            case 0:
                bytes[at] ^= static_cast<uint8_t>(1u << random.below(8));
                break;
            case 1:
                bytes[at] = kInteresting[random.below(sizeof kInteresting)];
                break;
            case 2:
                bytes.resize(at);
                break;
            case 3: {
                const size_t length = 1 + random.below(std::min<size_t>(64, bytes.size() - at));
                bytes.erase(bytes.begin() + at, bytes.begin() + at + length);
                break;
            }
            case 4: {
                const size_t length = 1 + random.below(std::min<size_t>(64, bytes.size() - at));
                std::vector<uint8_t> copy(bytes.begin() + at, bytes.begin() + at + length);
                bytes.insert(bytes.begin() + random.below(bytes.size() + 1), copy.begin(),
                             copy.end());
                break;
            }
            default:
                bytes[at] = static_cast<uint8_t>(random.next());
                break;
        }
    }
    return bytes;
}

// Written before each run, removed after it: after a crash it holds the input that crashed.
std::string g_pending_path;

void run_one(const std::vector<uint8_t>& bytes) {
    {
        std::ofstream pending(g_pending_path, std::ios::binary | std::ios::trunc);
        pending.write(reinterpret_cast<const char*>(bytes.data()),
                      static_cast<std::streamsize>(bytes.size()));
    }
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
    long long mutations = 2000;
    double seconds = 10;
    std::vector<Input> inputs;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
            mutations = std::atoll(argv[++i]);
        } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = std::atof(argv[++i]);
        } else {
            collect(argv[i], inputs);
        }
    }
    if (inputs.empty()) {
        std::fprintf(stderr, "usage: %s [--mutations N] [--seconds S] DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
    const char* crash_dir = std::getenv("PHOTOSYNTH_FUZZ_CRASH_DIR");
    g_pending_path = std::string(crash_dir != nullptr ? crash_dir : ".") + "/fuzz-crash-input-" +
                     fs::path(argv[0]).filename().string();
    std::set_terminate([] {
        std::fprintf(stderr, "uncaught exception; the input is in %s\n", g_pending_path.c_str());
        std::abort();
    });

    for (const Input& input : inputs) run_one(input.bytes);
    std::printf("%zu inputs replayed\n", inputs.size());

    Random random;
    const auto start = std::chrono::steady_clock::now();
    long long done = 0;
    for (; done < mutations; ++done) {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (elapsed > seconds) break;
        run_one(mutate(inputs[random.below(inputs.size())].bytes, random));
    }
    std::remove(g_pending_path.c_str());
    std::printf("%lld mutations run in %.1f s, no crash\n", done,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
}
