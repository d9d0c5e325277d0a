// A Chrome/Perfetto trace (chrome://tracing, ui.perfetto.dev) of every operator and GPU kernel
// while `body` runs, from LibTorch's Kineto profiler: where a benchmark's time goes, kernel by
// kernel (operators only of the calling thread: Kineto does not follow worker threads; GPU
// kernels from every thread). Needs LibTorch 2.x built with Kineto (the CUDA one); elsewhere an
// error says so.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"

namespace ps::engine {

Status record_trace(const std::string& path, const std::function<void()>& body);

// `body` traced into `path` when a path is given (an optional --trace), else simply run.
inline Status run_traced_if(const std::string& path, const std::function<void()>& body) {
    if (!path.empty()) return record_trace(path, body);
    body();
    return Ok{};
}

}  // namespace ps::engine
