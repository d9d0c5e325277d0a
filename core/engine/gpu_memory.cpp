// GPU memory sampling; compiles against any LibTorch, CUDA or not, and needs no NVML headers.
#include "engine/gpu_memory.h"

#include <dlfcn.h>

#include <exception>
#include <string>

// The Debian CPU package installs the c10/cuda source headers too, so their presence says
// nothing; c10/cuda/impl/cuda_cmake_macros.h is generated (and installed) only by a CUDA build
// of LibTorch, which is also the build whose TORCH_LIBRARIES link c10_cuda.
#if __has_include(<c10/cuda/impl/cuda_cmake_macros.h>) && \
    __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#define PS_HAVE_CUDA_ALLOCATOR 1
#include <ATen/Context.h>
#include <c10/cuda/CUDACachingAllocator.h>
#else
#define PS_HAVE_CUDA_ALLOCATOR 0
#endif

namespace ps::engine {
namespace {

constexpr int kDeviceIndex = 0;

// Returns why the allocator figures are unavailable, or "" when they were filled in.
std::string sample_allocator(MemoryStats& stats) {
#if PS_HAVE_CUDA_ALLOCATOR
    if (!at::hasCUDA()) return "LibTorch sees no CUDA device";
    try {
        const auto device_stats = c10::cuda::CUDACachingAllocator::getDeviceStats(kDeviceIndex);
        // Index 0 is StatType::AGGREGATE (all pools); the enum moved from
        // c10::cuda::CUDACachingAllocator to c10::CachingAllocator across releases.
        constexpr size_t kAggregate = 0;
        stats.vram_allocated_bytes = device_stats.allocated_bytes[kAggregate].current;
        stats.vram_reserved_bytes = device_stats.reserved_bytes[kAggregate].current;
        stats.vram_peak_bytes = device_stats.allocated_bytes[kAggregate].peak;
        return {};
    } catch (const std::exception& error) {
        // c10::Error appends a backtrace after the first line; the first line is the reason.
        const std::string what = error.what();
        return "CUDA allocator stats failed: " + what.substr(0, what.find('\n'));
    }
#else
    (void)stats;
    return "CPU-only LibTorch";
#endif
}

// The subset of nvml.h we use, declared here so no NVML headers are needed at build time.
using NvmlReturn = int;  // nvmlReturn_t; 0 is NVML_SUCCESS
using NvmlDevice = struct NvmlDeviceOpaque*;
struct NvmlMemory {
    unsigned long long total_bytes, free_bytes, used_bytes;
};

struct Nvml {
    NvmlReturn (*get_memory_info)(NvmlDevice, NvmlMemory*) = nullptr;
    NvmlDevice device = nullptr;
    std::string unavailable_reason;
};

// Loaded and initialised once per process: nvmlInit costs tens of milliseconds and the GUI
// samples at up to 10 Hz. The library stays loaded (never dlclose) while its handle is used.
Nvml load_nvml() {
    Nvml nvml;
    void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        nvml.unavailable_reason = "NVML not found";
        return nvml;
    }
    auto init = reinterpret_cast<NvmlReturn (*)()>(dlsym(library, "nvmlInit_v2"));
    auto get_handle = reinterpret_cast<NvmlReturn (*)(unsigned, NvmlDevice*)>(
        dlsym(library, "nvmlDeviceGetHandleByIndex_v2"));
    nvml.get_memory_info = reinterpret_cast<NvmlReturn (*)(NvmlDevice, NvmlMemory*)>(
        dlsym(library, "nvmlDeviceGetMemoryInfo"));
    if (!init || !get_handle || !nvml.get_memory_info) {
        nvml.get_memory_info = nullptr;
        nvml.unavailable_reason = "NVML lacks the functions used";
        return nvml;
    }
    if (const NvmlReturn code = init(); code != 0) {
        nvml.get_memory_info = nullptr;
        nvml.unavailable_reason = "NVML init failed (error " + std::to_string(code) + ")";
        return nvml;
    }
    if (const NvmlReturn code = get_handle(kDeviceIndex, &nvml.device); code != 0) {
        nvml.get_memory_info = nullptr;
        nvml.unavailable_reason = "NVML has no device " + std::to_string(kDeviceIndex) +
                                  " (error " + std::to_string(code) + ")";
    }
    return nvml;
}

std::string sample_nvml(MemoryStats& stats) {
    static const Nvml nvml = load_nvml();  // thread-safe initialisation (C++11 statics)
    if (!nvml.get_memory_info) return nvml.unavailable_reason;
    NvmlMemory memory{};
    if (const NvmlReturn code = nvml.get_memory_info(nvml.device, &memory); code != 0)
        return "NVML memory query failed (error " + std::to_string(code) + ")";
    stats.gpu_used_bytes = static_cast<long long>(memory.used_bytes);
    stats.gpu_total_bytes = static_cast<long long>(memory.total_bytes);
    return {};
}

void append_reason(std::string& reasons, const std::string& reason) {
    if (reason.empty()) return;
    if (!reasons.empty()) reasons += "; ";
    reasons += reason;
}

}  // namespace

void reset_gpu_peak() {
#if PS_HAVE_CUDA_ALLOCATOR
    if (!at::hasCUDA()) return;
    try {
        c10::cuda::CUDACachingAllocator::resetPeakStats(kDeviceIndex);
    } catch (const std::exception&) {
        // No statistics to reset is not an error for a benchmark; the figure stays cumulative.
    }
#endif
}

void sample_gpu_memory(MemoryStats& stats) {
    append_reason(stats.vram_unavailable_reason, sample_allocator(stats));
    append_reason(stats.vram_unavailable_reason, sample_nvml(stats));
}

}  // namespace ps::engine
