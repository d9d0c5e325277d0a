// `photosynth-cli bench`: per-stage latency of each model through the engine, as JSON and CSV.
#include <QFile>
#include <QJsonDocument>

#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli_args.h"
#include "commands.h"
#include "engine/benchmark.h"
#include "engine/profile_trace.h"
#include "io/atomic_file.h"
#include "output_checks.h"

namespace ps::cli {
namespace {

Status write_file(const std::string& path, const QByteArray& bytes) {
    return io::atomic_write(path, std::string_view(bytes.constData(), size_t(bytes.size())));
}

void print_table(const engine::BenchmarkReport& report) {
    for (const engine::ModelBenchmark& m : report.models) {
        std::printf("%s (%s, %s %s)  load %.0f ms, cold first request %.1f ms, %.2f images/s\n",
                    m.path.c_str(), m.arch.c_str(), m.device.c_str(), m.precision.c_str(),
                    m.load_ms, m.cold_first_request_ms, m.images_per_s);
        if (m.batch_images_per_s > 0)
            std::printf("  batches of %d: %.2f images/s\n", report.request.batch,
                        m.batch_images_per_s);
        std::printf("  %-14s %6s %9s %9s %9s %9s\n", "stage", "n", "min ms", "p50 ms", "p95 ms",
                    "max ms");
        for (const auto& [stage, s] : m.stages) {
            std::printf("  %-14s %6d %9.2f %9.2f %9.2f %9.2f\n", stage.c_str(), s.count, s.min_ms,
                        s.p50_ms, s.p95_ms, s.max_ms);
        }
    }
}

}  // namespace

// cmd_bench_track.cpp: the --track mode (SAM 2.1 video propagation).
extern const char kBenchTrackUsage[];
int run_bench_track(const std::vector<std::string>& argv);

// Two synopses: images (every family), then --track (kBenchTrackUsage, SAM 2.1 video).
const char kBenchUsage[] =
    "usage: photosynth-cli bench --model CKPT [--model CKPT...] [--device cpu|cuda|auto] "
    "[--precision fp32|fp16|bf16] [--images DIR | --synthetic WxH] [--iterations N] "
    "[--warmup N] [--workers N] [--batch N] --json OUT.json [--csv OUT.csv] [--trace "
    "OUT.trace.json] | photosynth-cli bench --track --model SAM2_CKPT [--video FILE|DIR | "
    "--synthetic WxH] [--frames N] [--objects K] [--device cpu|cuda|auto] "
    "[--precision fp32|fp16|bf16] [--sam2-layout image_size=N,...] [--json OUT.json]";

int run_bench(const std::vector<std::string>& argv) {
    for (const std::string& arg : argv)
        if (arg == "--track") return run_bench_track(argv);
    auto args = parse_args(argv,
                           {"model", "device", "precision", "images", "synthetic", "iterations",
                            "warmup", "workers", "batch", "json", "csv", "trace"},
                           {});
    if (!args) return fail(args.message() + " (" + kBenchUsage + ")", 2);
    if (auto ok = require(*args, "bench", {"model", "json"}); !ok) {
        return fail(ok.message() + " (" + kBenchUsage + ")", 2);
    }
    // Where the results go, before minutes of measuring.
    for (const char* output : {"json", "csv", "trace"})
        if (args->has(output))
            if (auto ok = check_output_file(output, args->get(output)); !ok)
                return fail(ok.message());
    engine::BenchmarkRequest request;
    request.models = args->options["model"];
    if (auto ok = read_device_options(*args, request.device, request.precision); !ok)
        return fail(ok.message(), 2);
    request.images_dir = args->get("images");
    if (auto ok =
            read_size_option(*args, "synthetic", request.synthetic_width, request.synthetic_height);
        !ok)
        return fail(ok.message(), 2);
    try {
        request.iterations = std::stoi(args->get("iterations", "5"));
        request.warmup = std::stoi(args->get("warmup", "1"));
        request.workers = std::stoi(args->get("workers", "0"));
        request.batch = std::stoi(args->get("batch", "0"));
    } catch (const std::exception&) {
        return fail("--iterations, --warmup, --workers and --batch take whole numbers", 2);
    }
    const auto progress = [](int done, int total) {
        std::fprintf(stderr, "\rbench: %d/%d", done, total);
        if (done == total) std::fprintf(stderr, "\n");
    };
    Result<engine::BenchmarkReport> report = make_error(ErrorKind::Runtime, "bench did not run");
    // Profiling slows every operator down: a trace is for where time goes, not how much.
    const Status traced = engine::run_traced_if(
        args->get("trace"), [&] { report = engine::run_benchmark(request, progress); });
    if (!traced) return fail(traced.message());
    if (!report) return fail(report.message());
    print_table(*report);
    if (auto ok = write_file(args->get("json"), QJsonDocument(report->to_json()).toJson()); !ok) {
        return fail(ok.message());
    }
    if (args->has("csv")) {
        if (auto ok = write_file(args->get("csv"), report->to_csv().toUtf8()); !ok)
            return fail(ok.message());
    }
    return 0;
}

}  // namespace ps::cli
