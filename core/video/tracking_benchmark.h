// The tracking benchmark behind `photosynth-cli bench --track`: SAM 2.1 propagation through the
// engine as the app runs it (Engine::open_tracking over a FrameSource), per frame and per object,
// with the peaks of host and GPU memory. Frames are made or decoded on demand and each frame's
// masks dropped after the callback, so a 10,000-frame 1080p clip runs in bounded memory.
#pragma once

#include <QJsonObject>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/device.h"
#include "models/sam2/sam2_model.h"

namespace ps::video {

struct TrackingBenchmarkRequest {
    std::string model;  // a SAM 2.1 checkpoint
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    sam2::Sam2LayoutOverrides layout;  // what a file of an unpublished layout does not store
    std::string video;                 // a video file or a folder of frames; empty: synthetic
    int synthetic_width = 1920, synthetic_height = 1080;
    int64_t frames = 200;  // at most this many (a video's own count if shorter)
    int objects = 1;       // runs with 1..objects objects, one click each on frame 0
    int encode_iterations = 3;
    bool batch_objects = true;  // false: one object at a time (--one-object-at-a-time, for A/B)
};

struct TrackingRun {
    int objects = 0;
    int64_t frames = 0;         // propagated
    double open_ms = 0;         // Engine::open_tracking (the first reads the video modules)
    double first_frame_ms = 0;  // the prompted frame (memory encoding of the prompts)
    double p50_ms = 0, p90_ms = 0, mean_ms = 0, max_ms = 0;  // the other frames
    // p50 of the host's wait for each of those frames' masks (Sam2VideoMasks::gpu_wait_ms): near
    // p50_ms the GPU sets the pace, near 0 the host's own work does.
    double wait_p50_ms = 0;
    double frames_per_s = 0;
    long long rss_growth_bytes = 0;  // RSS after the run minus before it: bounded if ~0
};

struct TrackingBenchmarkReport {
    TrackingBenchmarkRequest request;
    std::string clip, arch, device, precision, fallback_reason;
    int width = 0, height = 0;
    double load_ms = 0;
    double image_encode_ms = 0;                // p50 of Engine::encode of frame 0 as an image
    std::vector<TrackingRun> runs;             // 1..objects
    double per_extra_object_ms = 0;            // slope of p50 over the object count; 0 with one run
    long long peak_rss_bytes = 0;              // the process's, model load included
    std::optional<long long> peak_vram_bytes;  // unset without CUDA
    std::string vram_unavailable_reason;
    QJsonObject to_json() const;
};

// progress(frames done, frames in this run, objects in this run), on the model's device thread.
Result<TrackingBenchmarkReport> run_tracking_benchmark(
    const TrackingBenchmarkRequest& request,
    const std::function<void(int64_t, int64_t, int)>& progress = {});

}  // namespace ps::video
