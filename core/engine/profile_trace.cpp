#include "engine/profile_trace.h"

#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#include <ATen/Context.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#endif

#include <cstdio>
#include <exception>

namespace ps::engine {

Status record_trace(const std::string& path, const std::function<void()>& body) {
#if TORCH_VERSION_MAJOR >= 2
    namespace prof = torch::autograd::profiler;
    using torch::profiler::impl::ActivityType;
    if (std::FILE* probe = std::fopen(path.c_str(), "w")) {
        std::fclose(probe);
    } else {
        return make_error(ErrorKind::Io, path + ": cannot write the trace there");
    }
    try {
        // Input shapes too: scripts/trace_window.py sums the GPU time of each operator and shape.
        const torch::profiler::impl::ProfilerConfig config(
            torch::profiler::impl::ProfilerState::KINETO, /*report_input_shapes=*/true);
        std::set<ActivityType> activities{ActivityType::CPU};
        if (at::hasCUDA()) activities.insert(ActivityType::CUDA);
        prof::prepareProfiler(config, activities);
        prof::enableProfiler(config, activities);
        try {
            body();
        } catch (...) {
            prof::disableProfiler();
            throw;
        }
        prof::disableProfiler()->save(path);
    } catch (const std::exception& e) {
        std::remove(path.c_str());  // no empty or partial trace left behind
        const std::string message = e.what();
        return make_error(ErrorKind::Runtime,
                          path + ": profiling failed: " + message.substr(0, message.find('\n')));
    }
    return Ok{};
#else
    (void)body;
    return make_error(ErrorKind::Unsupported,
                      path + ": a trace needs LibTorch 2.x with Kineto; this build has LibTorch " +
                          std::string(TORCH_VERSION));
#endif
}

}  // namespace ps::engine
