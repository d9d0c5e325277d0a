// The engine's knobs, with defaults and environment overrides (the settings dialog writes these).
// EngineSettings::from_environment() is the one place that reads PHOTOSYNTH_* variables; the
// layers below (io, image, models) take the values as plain options, filled from here.
#pragma once

#include <string>
#include <vector>

#include "io/image_reader.h"
#include "models/sam/sam_model.h"

namespace ps::engine {

struct EngineSettings {
    // host_cache_bytes: let the engine size the host cache from free RAM.
    static constexpr long long kAutomaticCache = -1;

    int max_workers = 2;  // PHOTOSYNTH_MAX_WORKERS: pool threads (and torch threads)
    // PHOTOSYNTH_EMBED_CACHE_MB (MiB, a whole number; 0 = no host cache). kAutomaticCache: a
    // quarter of free RAM, at most 4 GiB (default_host_cache_budget_bytes).
    long long host_cache_bytes = kAutomaticCache;
    long long device_cache_bytes = 0;  // 0 = default from free GPU memory (none on CPU)
    int downscale_max = 4096;  // PHOTOSYNTH_DOWNSCALE_MAX: long side for interactive work, 0 = off
    runtime::Device device = runtime::Device::Auto;           // PHOTOSYNTH_DEVICE
    runtime::Precision precision = runtime::Precision::Fp32;  // PHOTOSYNTH_PRECISION
    bool warm_models = false;         // PHOTOSYNTH_WARM_MODEL=1: load configured models at start
    std::vector<std::string> models;  // PHOTOSYNTH_MODELS: checkpoint paths, ':'-separated
    double slow_ms = 2000;            // PHOTOSYNTH_SLOW_MS
    bool cpu_huge_pages = true;       // PHOTOSYNTH_CPU_HUGE_PAGES=0: ATen's own CPU allocator
    // PHOTOSYNTH_MAX_FILE_MB and PHOTOSYNTH_MAX_PIXELS (io::ImageReadOptions::from_environment).
    io::ImageReadOptions image_read;
    // PHOTOSYNTH_CUDA_GRAPHS, _CUDNN_BENCHMARK, _VIT_KERNELS, _CUDNN_CONV_RELU, _CHANNELS_LAST,
    // _ENCODE_AHEAD, _GEMM_EPILOGUES, _SPLIT_ATTENTION, _SWIN_ATTENTION, _LAYER_NORM_KERNEL (each
    // "0" turns its path off); the engine passes them to every model it loads.
    runtime::GpuSwitches gpu;

    // Defaults, then the environment. Invalid values are ignored with a warning naming them.
    static EngineSettings from_environment();
};

}  // namespace ps::engine
