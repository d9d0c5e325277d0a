// Process resident memory and CPU use read from /proc/self (Linux); unset where unreadable.
#pragma once

#include <mutex>
#include <optional>

namespace ps::engine {

// Resident set size: /proc/self/statm's resident pages times the page size.
std::optional<long long> read_rss_bytes();
// Peak resident set size since the process started or the last reset_peak_rss():
// VmHWM of /proc/self/status. A sampled RSS misses the peak inside a long call (an encoder's
// attention matrices live and die within one forward pass).
std::optional<long long> read_peak_rss_bytes();
// Starts a new peak window (writes 5 to /proc/self/clear_refs, Linux >= 4.0); false if refused.
bool reset_peak_rss();
// utime + stime of this process from /proc/self/stat, in seconds.
std::optional<double> read_process_cpu_seconds();

struct ProcessSample {
    std::optional<long long> rss_bytes;
    std::optional<double> cpu_percent;  // 100 = one core busy; unset on the first sample
};

// CPU percent is a rate, so it needs the previous reading: each sampler keeps its own, so that
// two consumers (the GUI's Metrics, a CLI dump) do not shorten each other's interval.
class ProcessStatsSampler {
  public:
    ProcessSample sample();  // thread-safe

  private:
    std::mutex mutex_;
    std::optional<double> previous_cpu_s_;
    double previous_wall_s_ = 0;
};

}  // namespace ps::engine
