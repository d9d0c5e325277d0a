// Reads /proc/self/statm and /proc/self/stat; see proc(5) for the field layouts.
#include "engine/process_stats.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace ps::engine {

std::optional<long long> read_rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    long long size_pages = 0, resident_pages = 0;
    if (!(statm >> size_pages >> resident_pages)) return std::nullopt;
    const long page_bytes = sysconf(_SC_PAGESIZE);
    if (page_bytes <= 0) return std::nullopt;
    return resident_pages * page_bytes;
}

std::optional<long long> read_peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) != 0) continue;
        std::istringstream fields(line.substr(6));
        long long kib = 0;
        if (fields >> kib) return kib * 1024;
    }
    return std::nullopt;
}

bool reset_peak_rss() {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.flush();
    return static_cast<bool>(clear_refs);
}

std::optional<double> read_process_cpu_seconds() {
    std::ifstream stat_file("/proc/self/stat");
    std::string line;
    if (!std::getline(stat_file, line)) return std::nullopt;
    // Field 2 is the command name in parentheses and may itself hold spaces or ')', so the
    // numeric fields are counted from the last ')'.
    const auto name_end = line.rfind(')');
    if (name_end == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(name_end + 1));
    // After the name: state (field 3) ... cmajflt (field 13), then utime (14) and stime (15).
    std::string skipped;
    for (int field = 3; field <= 13; ++field)
        if (!(fields >> skipped)) return std::nullopt;
    unsigned long long utime_ticks = 0, stime_ticks = 0;
    if (!(fields >> utime_ticks >> stime_ticks)) return std::nullopt;
    const long ticks_per_s = sysconf(_SC_CLK_TCK);
    if (ticks_per_s <= 0) return std::nullopt;
    return static_cast<double>(utime_ticks + stime_ticks) / static_cast<double>(ticks_per_s);
}

ProcessSample ProcessStatsSampler::sample() {
    ProcessSample result;
    result.rss_bytes = read_rss_bytes();
    // Real time, not the engine's injectable Clock: CPU ticks advance in real time.
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    const std::optional<double> cpu_s = read_process_cpu_seconds();

    std::lock_guard<std::mutex> lock(mutex_);
    if (cpu_s && previous_cpu_s_ && wall_s > previous_wall_s_)
        result.cpu_percent = (*cpu_s - *previous_cpu_s_) / (wall_s - previous_wall_s_) * 100.0;
    if (cpu_s) {
        previous_cpu_s_ = cpu_s;
        previous_wall_s_ = wall_s;
    }
    return result;
}

}  // namespace ps::engine
