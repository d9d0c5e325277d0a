// The one spelling of the temporary names that atomic writes (atomic_file.h) and staged folders
// (staged_folder.h) put beside their target, ".<name>.tmp-<pid>-XXXXXX", and its reading: the
// pid lets the next run remove what a process that no longer runs left behind.
#pragma once

#include <optional>
#include <string>

namespace ps::io {

// Letters and digits after the stem: mkstemp's "XXXXXX", or StagedFolder's own.
inline constexpr int kTempRandomLength = 6;

// ".<target_name>.tmp-<this process's pid>-": the random part follows.
std::string temp_name_stem(const std::string& target_name);

struct TempName {
    std::string target_name;  // "<name>"
    long pid = 0;             // 0: the older ".<name>.tmp-XXXXXX", written without a pid
};

// `file_name` (no folder) read as a temporary name; nullopt when it is not one.
std::optional<TempName> parse_temp_name(const std::string& file_name);

// `path` under the folder `from` as the same path under `to`; unchanged when not under `from`.
// (A staged file's name once committed.)
std::string rebase_path(const std::string& path, const std::string& from, const std::string& to);

}  // namespace ps::io
