// `photosynth-cli bench --track`: SAM 2.1 video propagation through the engine, per frame and per
// object, with peak host and GPU memory (core/video/tracking_benchmark.h). A benchmark program: it
// prints numbers and asserts nothing about them.
#include <QJsonDocument>

#include <cstdio>
#include <string_view>

#include "cli_args.h"
#include "commands.h"
#include "engine/profile_trace.h"
#include "io/atomic_file.h"
#include "output_checks.h"
#include "video/tracking_benchmark.h"

namespace ps::cli {
namespace {

double mb(long long bytes) {
    return double(bytes) / (1024.0 * 1024.0);
}

void print_report(const video::TrackingBenchmarkReport& r) {
    std::printf("%s (%s, %s %s)  load %.0f ms, clip %s %dx%d\n", r.request.model.c_str(),
                r.arch.c_str(), r.device.c_str(), r.precision.c_str(), r.load_ms, r.clip.c_str(),
                r.width, r.height);
    if (!r.fallback_reason.empty()) std::printf("  fallback: %s\n", r.fallback_reason.c_str());
    std::printf("  image encode (p50) %.2f ms\n", r.image_encode_ms);
    std::printf("  %-8s %7s %9s %10s %9s %9s %9s %8s %11s %9s\n", "objects", "frames", "open ms",
                "first ms", "p50 ms", "p90 ms", "max ms", "fps", "RSS grew MB", "wait ms");
    for (const video::TrackingRun& run : r.runs) {
        std::printf("  %-8d %7lld %9.1f %10.1f %9.2f %9.2f %9.2f %8.2f %11.1f %9.2f\n", run.objects,
                    static_cast<long long>(run.frames), run.open_ms, run.first_frame_ms, run.p50_ms,
                    run.p90_ms, run.max_ms, run.frames_per_s, mb(run.rss_growth_bytes),
                    run.wait_p50_ms);
    }
    std::printf(
        "  wait ms: the host's p50 wait for a frame's masks (near p50: the GPU sets the "
        "pace; near 0: the host does)\n");
    if (r.runs.size() > 1)
        std::printf("  per extra object %.2f ms/frame%s\n", r.per_extra_object_ms,
                    r.request.batch_objects ? "" : " (one object at a time)");
    std::printf(
        "  peak RSS %.1f MB, peak VRAM %s\n", mb(r.peak_rss_bytes),
        r.peak_vram_bytes
            ? (std::to_string(static_cast<long long>(mb(*r.peak_vram_bytes))) + " MB").c_str()
            : ("unavailable (" + r.vram_unavailable_reason + ")").c_str());
}

}  // namespace

const char kBenchTrackUsage[] =
    "photosynth-cli bench --track --model SAM2_CKPT [--video FILE|DIR | --synthetic WxH] "
    "[--frames N] [--objects K] [--device cpu|cuda|auto] [--precision fp32|fp16|bf16] "
    "[--sam2-layout image_size=N,...] [--one-object-at-a-time] [--json OUT.json] "
    "[--trace OUT.trace.json]";

int run_bench_track(const std::vector<std::string>& argv) {
    const std::string usage = std::string("usage: ") + kBenchTrackUsage;
    auto args = parse_args(argv,
                           {"model", "video", "synthetic", "frames", "objects", "device",
                            "precision", "json", "sam2-layout", "trace"},
                           {"track", "one-object-at-a-time"});
    if (!args) return fail(args.message() + " (" + usage + ")", 2);
    if (auto ok = require(*args, "bench --track", {"model"}); !ok)
        return fail(ok.message() + " (" + usage + ")", 2);
    if (args->has("video") && args->has("synthetic"))
        return fail("bench --track: --video and --synthetic exclude each other", 2);
    for (const char* output : {"json", "trace"})
        if (args->has(output))
            if (auto ok = check_output_file(output, args->get(output)); !ok)
                return fail(ok.message());
    video::TrackingBenchmarkRequest request;
    request.model = args->get("model");
    request.video = args->get("video");
    // Objects prompted together run as one batch; this measures what batching saves.
    request.batch_objects = !args->has("one-object-at-a-time");
    if (auto ok = read_device_options(*args, request.device, request.precision); !ok)
        return fail(ok.message(), 2);
    auto layout = read_sam2_layout_option(*args);
    if (!layout) return fail(layout.message(), 2);
    request.layout = *layout;
    if (auto ok =
            read_size_option(*args, "synthetic", request.synthetic_width, request.synthetic_height);
        !ok)
        return fail(ok.message(), 2);
    try {
        request.frames = std::stoll(args->get("frames", "200"));
        request.objects = std::stoi(args->get("objects", "1"));
    } catch (const std::exception&) {
        return fail("--frames and --objects take whole numbers", 2);
    }
    if (request.frames < 2 || request.objects < 1)
        return fail("bench --track: --frames must be >= 2 and --objects >= 1", 2);
    const auto progress = [](int64_t done, int64_t total, int objects) {
        if (done % 50 == 0 || done == total) {
            std::fprintf(stderr, "\rbench --track: %d object(s), frame %lld/%lld", objects,
                         static_cast<long long>(done), static_cast<long long>(total));
            if (done == total) std::fprintf(stderr, "\n");
        }
    };
    Result<video::TrackingBenchmarkReport> report =
        make_error(ErrorKind::Runtime, "bench --track did not run");
    // Profiling slows every operator down: a trace is for where time goes, not how much.
    const Status traced = engine::run_traced_if(
        args->get("trace"), [&] { report = video::run_tracking_benchmark(request, progress); });
    if (!traced) return fail(traced.message());
    if (!report) return fail(report.message());
    print_report(*report);
    if (args->has("json")) {
        const QByteArray bytes = QJsonDocument(report->to_json()).toJson();
        if (auto ok = io::atomic_write(args->get("json"),
                                       std::string_view(bytes.constData(), size_t(bytes.size())));
            !ok)
            return fail(ok.message());
    }
    return 0;
}

}  // namespace ps::cli
