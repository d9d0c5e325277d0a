// GPU memory figures: LibTorch's CUDA caching allocator (when built against a CUDA LibTorch) and
// NVML (loaded with dlopen at run time, so the binary runs on machines without a driver).
#pragma once

#include "engine/metrics.h"

namespace ps::engine {

// Fills the vram_* and gpu_* fields of `stats` for CUDA device 0. Sources that are missing
// leave their fields unset and add to vram_unavailable_reason ("CPU-only LibTorch",
// "NVML not found", ...); a measured figure is never replaced by a fake zero.
void sample_gpu_memory(MemoryStats& stats);

// Starts a new peak window for vram_peak_bytes (the caching allocator's peak statistics), so a
// benchmark reports each model's own peak rather than the largest model's so far.
void reset_gpu_peak();

}  // namespace ps::engine
