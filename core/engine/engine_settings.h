// The engine's knobs, with defaults and environment overrides (the settings dialog writes these).
#pragma once

#include <string>
#include <vector>

#include "models/sam/sam_model.h"

namespace ps::engine {

struct EngineSettings {
    int max_workers = 2;                // PHOTOSYNTH_MAX_WORKERS: pool threads (and torch threads)
    long long host_cache_bytes = 0;     // PHOTOSYNTH_EMBED_CACHE_MB; 0 = default from free RAM
    long long device_cache_bytes = 0;   // 0 = default from free GPU memory (none on CPU)
    int downscale_max = 4096;           // PHOTOSYNTH_DOWNSCALE_MAX: long side for interactive work
    runtime::Device device = runtime::Device::Auto;        // PHOTOSYNTH_DEVICE
    runtime::Precision precision = runtime::Precision::Fp32;  // PHOTOSYNTH_PRECISION
    bool warm_models = false;           // PHOTOSYNTH_WARM_MODEL=1: load configured models at start
    std::vector<std::string> models;    // PHOTOSYNTH_MODELS: checkpoint paths, ':'-separated
    double slow_ms = 2000;              // PHOTOSYNTH_SLOW_MS

    // Defaults, then the environment. Invalid values are ignored with a warning naming them.
    static EngineSettings from_environment();
};

}  // namespace ps::engine
