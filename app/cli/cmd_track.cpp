// photosynth-cli track: SAM 2.1 objects tracked through a video from a prompts file into a
// resumable track store, then exported (video::track_video, video/track_export.h). With
// --input-dir, every video of a folder, shardable (cmd_track_batch.cpp).
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "engine/engine.h"
#include "output_checks.h"
#include "track_job.h"

namespace ps::cli {

const char kTrackUsage[] =
    "usage: photosynth-cli track --model CKPT (--video IN(.mp4|frames dir) --prompts P.json "
    "--out DIR | --input-dir VIDEOS [--prompts-dir PROMPTS] --output-dir OUT "
    "[--shard I/N | --shards N]) [--direction forward|backward|both] "
    "[--export masks,vis,cutout] [--cutout-per-object] [--warmup N] [--device cpu|cuda|auto] "
    "[--precision fp32|bf16] [--sam2-layout image_size=N,...]";

int run_track_batch(const Args& args);  // cmd_track_batch.cpp

int run_track(const std::vector<std::string>& argv) {
    auto args =
        parse_args(argv,
                   with_shard_options({"model", "video", "prompts", "out", "direction", "export",
                                       "warmup", "device", "precision", "sam2-layout", "input-dir",
                                       "prompts-dir", "output-dir"}),
                   {"cutout-per-object"});
    if (!args) return fail(args.message() + " (" + kTrackUsage + ")", 2);
    if (args->has("input-dir")) return run_track_batch(*args);
    for (const char* key : {"prompts-dir", "output-dir", "shard", "shards"})
        if (args->has(key))
            return fail(
                "track: --" + std::string(key) + " applies to --input-dir (a folder of videos)", 2);
    if (auto ok = require(*args, "track", {"model", "video", "prompts", "out"}); !ok)
        return fail(ok.message() + " (" + kTrackUsage + ")", 2);
    const std::string video = args->get("video"), prompts = args->get("prompts");
    const std::string out_dir = args->get("out");
    auto job = read_track_job_options(*args);
    if (!job) return fail(job.message(), 2);
    if (auto ok = check_output_folder("out", out_dir); !ok) return fail(ok.message());
    // The video and the prompts before the model: a typo in them costs no load.
    if (auto ok = video::check_track_inputs(video, prompts); !ok) return fail(ok.message());

    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    sam::SamOptions model_options{settings.device, settings.precision};
    if (auto ok = read_device_options(*args, model_options.device, model_options.precision); !ok)
        return fail(ok.message(), 2);
    engine::Engine engine(settings);
    auto model = load_track_model(engine, args->get("model"), model_options, *job);
    if (!model) return fail(model.message());

    auto report = track_and_export(
        engine, *model, *job, video, prompts, out_dir,
        [](long long done, long long total) {
            std::cerr << "tracked " << done << "/" << total << " frames" << std::endl;
        },
        [](const std::string& line) { std::cout << line << std::endl; });
    if (!report) return fail(report.message());
    return 0;
}

}  // namespace ps::cli
