// The engine benchmark behind `photosynth-cli bench` and the benchmark panel: per-stage
// latency statistics measured through the same engine paths the app uses.
#pragma once

#include <QJsonObject>
#include <QString>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/sam/sam_model.h"

namespace ps::engine {

struct BenchmarkRequest {
    std::vector<std::string> models;  // checkpoint paths
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    std::string images_dir;  // images to encode; empty: synthetic
    int synthetic_width = 1920, synthetic_height = 1080;
    int iterations = 5, warmup = 1;
    int workers = 0;  // 0: the engine's default
    // Background removal: also time forward passes of this many images (Engine::matte_batch,
    // stage "remove_bg_batch", per batch) for the throughput of `remove-bg --batch`; <= 1: not.
    int batch = 0;
};

struct LatencySummary {
    int count = 0;
    double min_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};

LatencySummary summarise(std::vector<double> samples_ms);

struct ModelBenchmark {
    std::string path, family, arch, device, precision, fallback_reason;
    double load_ms = 0;
    double cold_first_request_ms = 0;  // first encode + click after loading
    // decode (image file), preprocess, encode, mask_decode, postprocess, click_to_mask
    // (prompt to full-resolution host mask, embedding cached), cached_click (a further click).
    std::map<std::string, LatencySummary> stages;
    double images_per_s = 0;        // 1000 / p50 of preprocess + encode
    double batch_images_per_s = 0;  // request.batch images / p50 of a batch; 0 when not timed
    long long peak_rss_bytes = 0;
    std::optional<long long> peak_vram_bytes;  // unset without CUDA
};

struct BenchmarkReport {
    QJsonObject machine;  // host, CPU, cores, LibTorch version, CUDA
    BenchmarkRequest request;
    std::vector<ModelBenchmark> models;
    QJsonObject to_json() const;
    QString to_csv() const;
};

// Runs the benchmark; progress(done, total) may be called from the calling thread. `cancel`
// stops between iterations (the result then holds what was measured, with an error entry).
Result<BenchmarkReport> run_benchmark(const BenchmarkRequest& request,
                                      const std::function<void(int, int)>& progress = {},
                                      const std::atomic<bool>* cancel = nullptr);

}  // namespace ps::engine
