// Benchmark runner: loads each model into a fresh engine and times its stages.
#include "engine/benchmark.h"

#include <torch/version.h>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QSysInfo>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <thread>

#include "engine/engine.h"
#include "engine/gpu_memory.h"
#include "engine/process_stats.h"
#include "io/image_reader.h"

namespace ps::engine {
namespace {

using WallClock = std::chrono::steady_clock;

double ms_since(WallClock::time_point start) {
    return std::chrono::duration<double, std::milli>(WallClock::now() - start).count();
}

template <typename T>
T wait(QFuture<T> future) {
    future.waitForFinished();
    return future.result();
}

double percentile(const std::vector<double>& sorted, double p) {
    // Nearest rank, as the engine's live metrics.
    const size_t n = sorted.size();
    const size_t rank = std::max<size_t>(1, size_t(std::ceil(p / 100.0 * double(n))));
    return sorted[std::min(rank, n) - 1];
}

QString cpu_model() {
    QFile file("/proc/cpuinfo");
    if (!file.open(QIODevice::ReadOnly)) return "unknown";
    for (const QByteArray& line : file.readAll().split('\n')) {
        if (line.startsWith("model name"))
            return QString::fromUtf8(line.mid(line.indexOf(':') + 1)).trimmed();
    }
    return "unknown";
}

QJsonObject machine_info() {
    const MemoryStats memory = sample_memory();
    QJsonObject gpu;
    if (memory.gpu_total_bytes) gpu["total_bytes"] = double(*memory.gpu_total_bytes);
    return {{"host", QSysInfo::machineHostName()},
            {"os", QSysInfo::prettyProductName()},
            {"kernel", QSysInfo::kernelVersion()},
            {"cpu", cpu_model()},
            {"cores", int(std::thread::hardware_concurrency())},
            {"libtorch", TORCH_VERSION},
            {"cuda_available", runtime::cuda_available()},
            {"gpu", gpu}};
}

// A photo-like synthetic image: smooth gradients plus seeded noise and a few shapes, so the
// decoder has something to segment and compression-free sizes are realistic.
cv::Mat synthetic_image(int width, int height, int seed) {
    cv::Mat image(height, width, CV_8UC3);
    cv::RNG rng(uint64_t(seed) + 1);
    for (int y = 0; y < height; ++y) {
        auto* row = image.ptr<cv::Vec3b>(y);
        for (int x = 0; x < width; ++x) {
            row[x] = cv::Vec3b(uchar(255 * x / width), uchar(255 * y / height), uchar(128));
        }
    }
    cv::Mat noise(height, width, CV_8UC3);
    rng.fill(noise, cv::RNG::NORMAL, 0, 12);
    image += noise;
    for (int i = 0; i < 6; ++i) {
        cv::circle(image, {rng.uniform(0, width), rng.uniform(0, height)},
                   rng.uniform(height / 12, height / 4),
                   cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), -1);
    }
    return image;
}

std::vector<QString> list_images(const std::string& dir) {
    std::vector<QString> out;
    const QStringList filters{"*.png", "*.jpg", "*.jpeg", "*.bmp",
                              "*.ppm", "*.PNG", "*.JPG",  "*.JPEG"};
    for (const QFileInfo& f :
         QDir(QString::fromStdString(dir)).entryInfoList(filters, QDir::Files, QDir::Name)) {
        out.push_back(f.absoluteFilePath());
    }
    return out;
}

}  // namespace

namespace {

// Each model's own peaks: the windows are reset before it loads (start_peak_window) and read
// after every iteration, so an encoder's transient attention buffers count.
void start_peak_window() {
    reset_peak_rss();
    reset_gpu_peak();
}

void note_peaks(ModelBenchmark& mb) {
    const MemoryStats memory = sample_memory();
    const long long rss = read_peak_rss_bytes().value_or(memory.rss_bytes.value_or(0));
    mb.peak_rss_bytes = std::max(mb.peak_rss_bytes, rss);
    if (memory.vram_peak_bytes)
        mb.peak_vram_bytes = std::max(mb.peak_vram_bytes.value_or(0), *memory.vram_peak_bytes);
}

// A model's row before its timings: what it is and how long it took to load.
ModelBenchmark row_for(const std::string& path, const ModelInfo& info) {
    ModelBenchmark mb;
    mb.path = path;
    mb.family = info.family;
    mb.arch = info.arch;
    mb.device = info.device;
    mb.precision = info.precision;
    mb.fallback_reason = info.fallback_reason;
    mb.load_ms = info.load_ms;
    return mb;
}

// Background removal through Engine::matte, as `remove-bg` runs it (uncached).
Result<ModelBenchmark> benchmark_matte(Engine& engine, const ModelInfo& info,
                                       const BenchmarkRequest& request,
                                       const std::vector<QString>& paths, const cv::Mat& synthetic,
                                       const std::atomic<bool>* cancel) {
    ModelBenchmark mb = row_for(info.path, info);
    std::map<std::string, std::vector<double>> samples;
    // As remove-bg runs it: no cache, so the network runs every iteration.
    MatteOptions uncached;
    uncached.cache = false;
    // The synthetic image is opened once, as the SAM loop encodes one image: a fresh 9 MB copy
    // per iteration made preprocessing read it cache-cold, ~1 ms that the network never saw.
    std::optional<ImageInfo> synthetic_image;
    if (paths.empty()) {
        auto opened = wait(engine.open_image(synthetic, "synthetic"));
        if (!opened) return opened.error();
        synthetic_image = *opened;
    }
    for (int i = -1; i < request.warmup + request.iterations; ++i) {
        if (cancel && cancel->load()) break;
        auto image = synthetic_image
                         ? Result<ImageInfo>(*synthetic_image)
                         : wait(engine.open_image(
                               paths[size_t(std::max(i, 0)) % paths.size()].toStdString()));
        if (!image) return image.error();
        const auto run_start = WallClock::now();
        auto out = wait(engine.matte(image->id, info.id, uncached));
        if (!out) return out.error();
        const double total_ms = ms_since(run_start);
        if (!synthetic_image) engine.close_image(image->id);
        if (i < 0) mb.cold_first_request_ms = total_ms;
        if (i >= request.warmup) {
            samples["preprocess"].push_back(out->preprocess_ms);
            samples["forward"].push_back(out->forward_ms);
            samples["postprocess"].push_back(out->postprocess_ms);
            samples["remove_bg"].push_back(total_ms);
        }
        note_peaks(mb);
    }
    if (request.batch > 1) {
        // N copies of the image: a batch's preprocessing, one forward pass, N postprocessings.
        const cv::Mat rgb =
            synthetic_image
                ? synthetic
                : engine.full_image(wait(engine.open_image(paths[0].toStdString()))->id);
        MatteBatchOptions batch;
        batch.pad_to = request.batch;
        for (int i = -1; i < request.warmup + request.iterations; ++i) {
            if (cancel && cancel->load()) break;
            const auto run_start = WallClock::now();
            auto out = wait(engine.matte_batch(std::vector<cv::Mat>(size_t(request.batch), rgb),
                                               info.id, batch));
            if (!out) return out.error();
            if (i >= request.warmup) samples["remove_bg_batch"].push_back(ms_since(run_start));
            note_peaks(mb);
        }
    }
    for (auto& [stage, values] : samples) mb.stages[stage] = summarise(values);
    mb.images_per_s =
        mb.stages["remove_bg"].p50_ms > 0 ? 1000.0 / mb.stages["remove_bg"].p50_ms : 0;
    if (mb.stages.count("remove_bg_batch") && mb.stages["remove_bg_batch"].p50_ms > 0)
        mb.batch_images_per_s = request.batch * 1000.0 / mb.stages["remove_bg_batch"].p50_ms;
    return mb;
}

}  // namespace

LatencySummary summarise(std::vector<double> samples) {
    LatencySummary s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    s.count = int(samples.size());
    s.min_ms = samples.front();
    s.max_ms = samples.back();
    s.p50_ms = percentile(samples, 50);
    s.p95_ms = percentile(samples, 95);
    s.p99_ms = percentile(samples, 99);
    s.mean_ms = std::accumulate(samples.begin(), samples.end(), 0.0) / double(samples.size());
    return s;
}

Result<BenchmarkReport> run_benchmark(const BenchmarkRequest& request,
                                      const std::function<void(int, int)>& progress,
                                      const std::atomic<bool>* cancel) {
    BenchmarkReport report;
    report.request = request;
    report.machine = machine_info();
    if (request.models.empty()) {
        return make_error(ErrorKind::InvalidArgument, "bench: no model given");
    }
    if (request.iterations < 1 || request.warmup < 0) {
        return make_error(ErrorKind::InvalidArgument,
                          "bench: iterations must be >= 1, warmup >= 0");
    }
    std::vector<QString> paths;
    if (!request.images_dir.empty()) {
        paths = list_images(request.images_dir);
        if (paths.empty()) {
            return make_error(ErrorKind::InvalidArgument,
                              request.images_dir + ": no images to benchmark");
        }
    }
    const cv::Mat synthetic =
        paths.empty() ? synthetic_image(request.synthetic_width, request.synthetic_height, 0)
                      : cv::Mat();
    EngineSettings settings = EngineSettings::from_environment();
    settings.device = request.device;
    settings.precision = request.precision;
    if (request.workers > 0) settings.max_workers = request.workers;
    const int per_model = request.warmup + request.iterations + 1;
    const int total = per_model * int(request.models.size());
    int done = 0;

    for (const std::string& model_path : request.models) {
        start_peak_window();
        Engine engine(settings);
        auto info = wait(engine.load_model(model_path));
        if (!info) return info.error();
        if (is_matting_family(info->family)) {
            auto matte = benchmark_matte(engine, *info, request, paths, synthetic, cancel);
            if (!matte) return matte.error();
            report.models.push_back(std::move(matte.value()));
            done += per_model;
            if (progress) progress(done, total);
            continue;
        }
        ModelBenchmark mb = row_for(model_path, *info);
        std::map<std::string, std::vector<double>> samples;
        cv::RNG rng(7);
        for (int i = -1; i < request.warmup + request.iterations; ++i) {
            if (cancel && cancel->load()) break;
            const bool cold = i < 0, measured = i >= request.warmup;
            const auto open_start = WallClock::now();
            auto image = paths.empty()
                             ? wait(engine.open_image(synthetic, "synthetic"))
                             : wait(engine.open_image(
                                   paths[size_t(std::max(i, 0)) % paths.size()].toStdString()));
            if (!image) return image.error();
            const double open_ms = ms_since(open_start);
            engine.clear_cache();  // every iteration runs the encoder
            const auto encode_start = WallClock::now();
            auto encoded = wait(engine.encode(image->id, info->id));
            if (!encoded) return encoded.error();
            const double preprocess_ms =
                engine.metrics().snapshot().stage(Stage::Preprocess).last_ms;
            sam::SamPrompt prompt;
            prompt.points = {{rng.uniform(0.3, 0.7) * image->work_width,
                              rng.uniform(0.3, 0.7) * image->work_height, 1}};
            const auto click_start = WallClock::now();
            auto masks = wait(engine.decode(image->id, info->id, prompt, 1000 + i));
            if (!masks) return masks.error();
            const double click_ms = ms_since(click_start);
            if (cold) mb.cold_first_request_ms = ms_since(encode_start);
            prompt.points.push_back({rng.uniform(0.0, 1.0) * image->work_width,
                                     rng.uniform(0.0, 1.0) * image->work_height, 0});
            const auto cached_start = WallClock::now();
            auto cached = wait(engine.decode(image->id, info->id, prompt, 2000 + i));
            if (!cached) return cached.error();
            const double cached_ms = ms_since(cached_start);
            engine.close_image(image->id);
            if (measured) {
                if (!paths.empty()) samples["decode"].push_back(open_ms);
                samples["preprocess"].push_back(preprocess_ms);
                samples["encode"].push_back(encoded->encode_ms);
                samples["mask_decode"].push_back(masks->decode_ms);
                samples["postprocess"].push_back(masks->postprocess_ms);
                samples["click_to_mask"].push_back(click_ms);
                samples["cached_click"].push_back(cached_ms);
            }
            note_peaks(mb);
            if (progress) progress(++done, total);
        }
        for (auto& [stage, values] : samples) mb.stages[stage] = summarise(values);
        const double per_image = mb.stages["preprocess"].p50_ms + mb.stages["encode"].p50_ms;
        mb.images_per_s = per_image > 0 ? 1000.0 / per_image : 0;
        report.models.push_back(std::move(mb));
    }
    return report;
}

namespace {

QJsonObject to_json(const LatencySummary& s) {
    return {{"n", s.count},       {"min_ms", s.min_ms}, {"p50_ms", s.p50_ms},  {"p95_ms", s.p95_ms},
            {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

}  // namespace

QJsonObject BenchmarkReport::to_json() const {
    QJsonArray models_json;
    for (const ModelBenchmark& m : models) {
        QJsonObject stages;
        for (const auto& [name, summary] : m.stages)
            stages[QString::fromStdString(name)] = engine::to_json(summary);
        models_json.append(QJsonObject{
            {"path", QString::fromStdString(m.path)},
            {"family", QString::fromStdString(m.family)},
            {"arch", QString::fromStdString(m.arch)},
            {"device", QString::fromStdString(m.device)},
            {"precision", QString::fromStdString(m.precision)},
            {"fallback_reason", m.fallback_reason.empty()
                                    ? QJsonValue()
                                    : QJsonValue(QString::fromStdString(m.fallback_reason))},
            {"load_ms", m.load_ms},
            {"cold_first_request_ms", m.cold_first_request_ms},
            {"images_per_s", m.images_per_s},
            {"batch_images_per_s", m.batch_images_per_s},
            {"peak_rss_bytes", double(m.peak_rss_bytes)},
            {"peak_vram_bytes",
             m.peak_vram_bytes ? QJsonValue(double(*m.peak_vram_bytes)) : QJsonValue()},
            {"stages", stages}});
    }
    const QJsonObject settings{
        {"device", request.device == runtime::Device::Cuda  ? "cuda"
                   : request.device == runtime::Device::Cpu ? "cpu"
                                                            : "auto"},
        {"precision", QString::fromStdString(runtime::to_string(request.precision))},
        {"images", request.images_dir.empty()
                       ? QJsonValue(QString("synthetic %1x%2")
                                        .arg(request.synthetic_width)
                                        .arg(request.synthetic_height))
                       : QJsonValue(QString::fromStdString(request.images_dir))},
        {"iterations", request.iterations},
        {"warmup", request.warmup},
        {"workers", request.workers},
        {"batch", request.batch}};
    return {{"schema", "photosynth-bench/1"},
            {"machine", machine},
            {"settings", settings},
            {"models", models_json}};
}

QString BenchmarkReport::to_csv() const {
    QString csv =
        "model,arch,device,precision,stage,n,min_ms,p50_ms,p95_ms,p99_ms,max_ms,mean_ms\n";
    for (const ModelBenchmark& m : models) {
        for (const auto& [stage, s] : m.stages) {
            csv += QString("%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12\n")
                       .arg(QString::fromStdString(m.path), QString::fromStdString(m.arch),
                            QString::fromStdString(m.device), QString::fromStdString(m.precision),
                            QString::fromStdString(stage))
                       .arg(s.count)
                       .arg(s.min_ms, 0, 'f', 3)
                       .arg(s.p50_ms, 0, 'f', 3)
                       .arg(s.p95_ms, 0, 'f', 3)
                       .arg(s.p99_ms, 0, 'f', 3)
                       .arg(s.max_ms, 0, 'f', 3)
                       .arg(s.mean_ms, 0, 'f', 3);
        }
    }
    return csv;
}

}  // namespace ps::engine
