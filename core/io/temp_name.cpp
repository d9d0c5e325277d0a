#include "io/temp_name.h"

#include <unistd.h>

#include <cctype>

namespace ps::io {
namespace {

constexpr const char* kTempTag = ".tmp-";

bool is_random_part(const std::string& text) {
    if (text.size() != kTempRandomLength) return false;
    for (unsigned char c : text)
        if (!std::isalnum(c)) return false;
    return true;
}

// "<pid>-XXXXXX" → pid; -1 when `text` is not of that form.
long parse_pid_and_random(const std::string& text) {
    const size_t dash = text.find('-');
    if (dash == 0 || dash == std::string::npos || dash > 10) return -1;
    for (size_t i = 0; i < dash; ++i)
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    if (!is_random_part(text.substr(dash + 1))) return -1;
    return std::stol(text.substr(0, dash));
}

}  // namespace

std::string temp_name_stem(const std::string& target_name) {
    return "." + target_name + kTempTag + std::to_string(::getpid()) + "-";
}

std::optional<TempName> parse_temp_name(const std::string& file_name) {
    if (file_name.empty() || file_name[0] != '.') return std::nullopt;
    const size_t tag = file_name.rfind(kTempTag);
    if (tag == std::string::npos || tag < 2) return std::nullopt;
    const std::string target = file_name.substr(1, tag - 1);
    const std::string rest = file_name.substr(tag + std::char_traits<char>::length(kTempTag));
    const long pid = parse_pid_and_random(rest);
    if (pid > 0) return TempName{target, pid};
    if (pid < 0 && is_random_part(rest)) return TempName{target, 0};
    return std::nullopt;
}

std::string rebase_path(const std::string& path, const std::string& from, const std::string& to) {
    if (from.empty() || path.compare(0, from.size(), from) != 0) return path;
    if (path.size() > from.size() && path[from.size()] != '/')
        return path;  // "/a/bc" is not in "/a/b"
    return to + path.substr(from.size());
}

}  // namespace ps::io
