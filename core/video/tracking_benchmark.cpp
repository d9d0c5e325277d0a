// run_tracking_benchmark: one engine, one model, one session per object count.
#include "video/tracking_benchmark.h"

#include <QJsonArray>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "engine/engine.h"
#include "engine/gpu_memory.h"
#include "engine/process_stats.h"
#include "video/frame_source.h"

namespace ps::video {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Nearest-rank on sorted samples.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * double(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

template <typename T>
Result<T> wait(QFuture<Result<T>> future) {
    future.waitForFinished();
    return future.result();
}

Result<std::shared_ptr<FrameSource>> open_frames(const TrackingBenchmarkRequest& request) {
    if (request.video.empty()) {
        return std::shared_ptr<FrameSource>(FrameSource::synthetic(
            request.frames, request.synthetic_width, request.synthetic_height));
    }
    auto opened = FrameSource::open(request.video);
    if (!opened) return opened.error();
    return std::shared_ptr<FrameSource>(std::move(*opened));
}

// Click k of n: spread over the frame on a diagonal grid, away from the borders.
runtime::Point click(int k, int n, int width, int height) {
    const double t = (k + 1.0) / (n + 1.0);
    return {static_cast<float>(width * (0.15 + 0.7 * t)),
            static_cast<float>(height * (0.15 + 0.7 * std::fmod(t * 2.618, 1.0))), 1};
}

Result<double> image_encode_ms(engine::Engine& engine, const std::string& model_id,
                               FrameSource& frames, int iterations) {
    auto rgb = frames.frame(0);
    if (!rgb) return rgb.error();
    auto image = wait(engine.open_image(*rgb, "frame 0"));
    if (!image) return image.error();
    std::vector<double> samples;
    for (int i = 0; i < std::max(1, iterations); ++i) {
        engine.clear_cache();  // each iteration a real encode
        auto encoded = wait(engine.encode(image->id, model_id, engine::Priority::Interactive));
        if (!encoded) return encoded.error();
        samples.push_back(encoded->encode_ms);
    }
    engine.close_image(image->id);
    engine.clear_cache();
    std::sort(samples.begin(), samples.end());
    return percentile(samples, 50);
}

// The first `clip_frames` frames of `frames`, tracked with `objects` objects.
Result<TrackingRun> track(engine::Engine& engine, const std::string& model_id,
                          const std::shared_ptr<FrameSource>& frames, int64_t clip_frames,
                          int objects, bool batch_objects,
                          const std::function<void(int64_t, int64_t, int)>& progress) {
    const FrameSourceInfo& info = frames->info();
    sam2::Sam2VideoOptions options;
    options.batch_objects = batch_objects;
    options.keep_tracked_masks = false;  // bounded whatever the length: masks go to the callback
    TrackingRun run;
    run.objects = objects;
    const auto opening = Clock::now();
    auto session = wait(engine.open_tracking(
        model_id, {clip_frames, info.width, info.height},
        [frames](int64_t index) { return frames->frame(index); }, options));
    if (!session) return session.error();
    run.open_ms = ms_since(opening);
    for (int k = 0; k < objects; ++k) {
        auto shown =
            wait((*session)->add_points(0, k + 1, {click(k, objects, info.width, info.height)}));
        if (!shown) return shown.error();
    }
    std::vector<double> frame_ms, wait_ms;
    frame_ms.reserve(static_cast<size_t>(clip_frames));
    wait_ms.reserve(static_cast<size_t>(clip_frames));
    const long long rss_before = engine::read_rss_bytes().value_or(0);
    auto last = Clock::now();
    const auto start = last;
    const Status done = wait((*session)->propagate({}, [&](const sam2::Sam2VideoMasks& masks) {
        const double ms = ms_since(last);
        if (run.frames == 0)
            run.first_frame_ms = ms;
        else {
            frame_ms.push_back(ms);
            wait_ms.push_back(masks.gpu_wait_ms);
        }
        ++run.frames;
        if (progress) progress(run.frames, clip_frames, objects);
        last = Clock::now();  // the callback's own time not counted
    }));
    if (!done) return done.error();
    const double total_ms = ms_since(start);
    run.rss_growth_bytes = engine::read_rss_bytes().value_or(0) - rss_before;
    std::vector<double> sorted = frame_ms;
    std::sort(sorted.begin(), sorted.end());
    run.p50_ms = percentile(sorted, 50);
    run.p90_ms = percentile(sorted, 90);
    std::sort(wait_ms.begin(), wait_ms.end());
    run.wait_p50_ms = percentile(wait_ms, 50);
    run.max_ms = sorted.empty() ? 0 : sorted.back();
    run.mean_ms =
        sorted.empty() ? 0 : std::accumulate(sorted.begin(), sorted.end(), 0.0) / sorted.size();
    run.frames_per_s = total_ms > 0 ? 1000.0 * double(run.frames) / total_ms : 0;
    return run;
}

// Least-squares slope of p50 against the object count.
double per_extra_object(const std::vector<TrackingRun>& runs) {
    if (runs.size() < 2) return 0;
    double mx = 0, my = 0;
    for (const auto& r : runs) {
        mx += r.objects;
        my += r.p50_ms;
    }
    mx /= runs.size();
    my /= runs.size();
    double sxy = 0, sxx = 0;
    for (const auto& r : runs) {
        sxy += (r.objects - mx) * (r.p50_ms - my);
        sxx += (r.objects - mx) * (r.objects - mx);
    }
    return sxx > 0 ? sxy / sxx : 0;
}

}  // namespace

Result<TrackingBenchmarkReport> run_tracking_benchmark(
    const TrackingBenchmarkRequest& request,
    const std::function<void(int64_t, int64_t, int)>& progress) {
    if (request.frames < 2 || request.objects < 1) {
        return make_error(ErrorKind::InvalidArgument,
                          "bench --track: needs at least 2 frames and 1 object");
    }
    engine::reset_peak_rss();
    engine::reset_gpu_peak();
    TrackingBenchmarkReport report;
    report.request = request;
    auto frames = open_frames(request);
    if (!frames) return frames.error();
    const FrameSourceInfo& info = (*frames)->info();
    const int64_t clip_frames = std::min<int64_t>(info.frames, request.frames);
    report.clip = info.label;
    if (clip_frames < info.frames)
        report.clip += " (first " + std::to_string(clip_frames) + " frames)";
    report.width = info.width;
    report.height = info.height;

    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    settings.device = request.device;
    settings.precision = request.precision;
    settings.warm_models = false;
    engine::Engine engine(settings);
    sam::SamOptions model_options;
    model_options.device = request.device;
    model_options.precision = request.precision;
    auto model = wait(engine.load_model(request.model, model_options, request.layout));
    if (!model) return model.error();
    report.arch = model->arch;
    report.device = model->device;
    report.precision = model->precision;
    report.fallback_reason = model->fallback_reason;
    report.load_ms = model->load_ms;

    for (int objects = 1; objects <= request.objects; ++objects) {
        auto run = track(engine, model->id, *frames, clip_frames, objects, request.batch_objects,
                         progress);
        if (!run) return run.error();
        report.runs.push_back(*run);
    }
    // After the runs, so that a model of another family is refused with tracking's message.
    auto encode = image_encode_ms(engine, model->id, **frames, request.encode_iterations);
    if (!encode) return encode.error();
    report.image_encode_ms = *encode;
    report.per_extra_object_ms = per_extra_object(report.runs);
    engine::MemoryStats memory;
    engine::sample_gpu_memory(memory);
    report.peak_vram_bytes = memory.vram_peak_bytes;
    report.vram_unavailable_reason = memory.vram_unavailable_reason;
    report.peak_rss_bytes = engine::read_peak_rss_bytes().value_or(0);
    return report;
}

QJsonObject TrackingBenchmarkReport::to_json() const {
    QJsonArray run_list;
    for (const TrackingRun& r : runs) {
        run_list.append(QJsonObject{{"objects", r.objects},
                                    {"frames", double(r.frames)},
                                    {"session_open_ms", r.open_ms},
                                    {"first_frame_ms", r.first_frame_ms},
                                    {"frame_p50_ms", r.p50_ms},
                                    {"frame_p90_ms", r.p90_ms},
                                    {"frame_gpu_wait_p50_ms", r.wait_p50_ms},
                                    {"frame_mean_ms", r.mean_ms},
                                    {"frame_max_ms", r.max_ms},
                                    {"frames_per_s", r.frames_per_s},
                                    {"rss_growth_bytes", double(r.rss_growth_bytes)}});
    }
    return {
        {"model", QString::fromStdString(request.model)},
        {"arch", QString::fromStdString(arch)},
        {"device", QString::fromStdString(device)},
        {"precision", QString::fromStdString(precision)},
        {"fallback_reason", QString::fromStdString(fallback_reason)},
        {"clip", QString::fromStdString(clip)},
        {"width", width},
        {"height", height},
        {"load_ms", load_ms},
        {"batch_objects", request.batch_objects},
        {"image_encode_ms", image_encode_ms},
        {"runs", run_list},
        {"per_extra_object_ms", per_extra_object_ms},
        {"peak_rss_bytes", double(peak_rss_bytes)},
        {"peak_vram_bytes", peak_vram_bytes ? QJsonValue(double(*peak_vram_bytes)) : QJsonValue()},
        {"vram_unavailable_reason", QString::fromStdString(vram_unavailable_reason)}};
}

}  // namespace ps::video
