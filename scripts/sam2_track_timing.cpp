// Per-frame propagation times of Sam2VideoPredictor for scripts/sam2_cpu_bench.sh, timed as
// scripts/official_sam2_common.py times the official SAM2VideoPredictor: the frames of a folder
// (<index>.jpg, decoded once up front as the official init_state does), one positive click per
// object on frame 0, propagate forward, each tracked frame timed from the previous frame's masks
// to its own on the host, the first warm-up frames dropped. Prints one JSON object.
//
// usage: sam2_track_timing CKPT FRAMES_DIR FRAME_COUNT [--objects N] [--warmup-frames N]
//                          [--device cpu|cuda] [--precision fp32|bf16|fp16] [--threads N]
//                          [--profile OUT.trace.json]
// --profile: every ATen operator of the propagation (LibTorch's legacy profiler, which 1.13's CPU
// build has; chrome://tracing reads it), for finding where a frame's time goes.
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/huge_page_allocator.h"
#include "models/sam2/video_predictor.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    std::string checkpoint, frames_dir;
    int64_t frame_count = 0;
    int objects = 1, warmup_frames = 1, threads = 2;
    std::string device = "cpu", precision = "fp32", profile;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "sam2_track_timing: %s\nusage: sam2_track_timing CKPT FRAMES_DIR FRAME_COUNT "
                 "[--objects N] [--warmup-frames N] [--device cpu|cuda] "
                 "[--precision fp32|bf16|fp16] [--threads N] [--profile OUT.trace.json]\n",
                 why.c_str());
    std::exit(2);
}

Args parse(int argc, char** argv) {
    if (argc < 4) usage("three positional arguments expected");
    Args a{argv[1], argv[2], std::atoll(argv[3])};
    for (int i = 4; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--objects")
            a.objects = std::atoi(value.c_str());
        else if (flag == "--warmup-frames")
            a.warmup_frames = std::atoi(value.c_str());
        else if (flag == "--threads")
            a.threads = std::atoi(value.c_str());
        else if (flag == "--device")
            a.device = value;
        else if (flag == "--precision")
            a.precision = value;
        else if (flag == "--profile")
            a.profile = value;
        else
            usage("unknown option " + flag);
    }
    if ((argc - 4) % 2 != 0) usage("an option without a value");
    if (a.frame_count < 2 || a.objects < 1) usage("FRAME_COUNT >= 2 and --objects >= 1 expected");
    return a;
}

std::vector<cv::Mat> read_frames(const Args& a) {
    std::vector<cv::Mat> frames;
    for (int64_t t = 0; t < a.frame_count; ++t) {
        char name[32];
        std::snprintf(name, sizeof name, "/%05lld.jpg", static_cast<long long>(t));
        cv::Mat bgr = cv::imread(a.frames_dir + name, cv::IMREAD_COLOR);
        if (bgr.empty()) usage(a.frames_dir + name + ": cannot be read");
        cv::Mat rgb;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        frames.push_back(rgb);
    }
    return frames;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    at::set_num_threads(a.threads);
    // As the engine sets up the process (EngineSettings::cpu_huge_pages), so that the timing is
    // what `photosynth-cli track` gets; PHOTOSYNTH_CPU_HUGE_PAGES=0 leaves ATen's allocator.
    const char* huge_pages = std::getenv("PHOTOSYNTH_CPU_HUGE_PAGES");
    ps::engine::install_huge_page_cpu_allocator(!huge_pages || std::string(huge_pages) != "0");
    const std::vector<cv::Mat> frames = read_frames(a);
    ps::sam2::Sam2Options options;
    const auto device = ps::runtime::parse_device(a.device);
    const auto precision = ps::runtime::parse_precision(a.precision);
    if (!device || !precision) usage("bad --device or --precision");
    options.device = *device;
    options.precision = *precision;
    const ps::sam2::Sam2VideoInfo video{a.frame_count, frames[0].cols, frames[0].rows};
    auto predictor = ps::sam2::Sam2VideoPredictor::load(
        a.checkpoint, options, video,
        [&frames](int64_t i) -> ps::Result<cv::Mat> { return frames[static_cast<size_t>(i)]; });
    if (!predictor) usage(predictor.error().message);
    const double w = video.width, h = video.height;
    for (int obj = 0; obj < a.objects; ++obj) {
        // The positions official_sam2_common.time_propagation clicks.
        const double x = w * (0.25 + 0.5 * std::fmod(obj * 0.37, 1.0));
        const double y = h * (0.3 + 0.4 * std::fmod(obj * 0.61, 1.0));
        auto shown = (*predictor)->add_points(0, obj + 1, {{x, y, 1}});
        if (!shown) usage(shown.error().message);
    }
    std::vector<double> per_frame_ms;
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    if (!a.profile.empty())
        profile = std::make_unique<torch::autograd::profiler::RecordProfile>(a.profile);
    auto last = Clock::now();
    const ps::Status done = (*predictor)->propagate({}, [&](const ps::sam2::Sam2VideoMasks& m) {
        const auto now = Clock::now();
        if (m.frame > a.warmup_frames)
            per_frame_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
        last = Clock::now();
    });
    profile.reset();  // writes the trace
    if (!done) usage(done.error().message);
    std::printf(
        "{\"implementation\": \"photosynth Sam2VideoPredictor\", \"device\": \"%s\", "
        "\"precision\": \"%s\", \"threads\": %d, \"objects\": %d, "
        "\"propagate\": {\"p50_ms\": %.3f, \"n\": %zu, \"samples_ms\": [",
        a.device.c_str(), a.precision.c_str(), a.threads, a.objects, median(per_frame_ms),
        per_frame_ms.size());
    for (size_t i = 0; i < per_frame_ms.size(); ++i)
        std::printf("%s%.3f", i ? ", " : "", per_frame_ms[i]);
    std::printf("]}}\n");
    return 0;
}
