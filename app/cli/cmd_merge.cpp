// `photosynth-cli merge`: the shard summaries of a batch split over a cluster gathered into one
// report (<DIR>/.photosynth/report.json and a text summary on stdout).
#include <QDir>

#include <iostream>

#include "batch/shard_report.h"
#include "cli_args.h"
#include "commands.h"
#include "io/atomic_file.h"
#ifdef PHOTOSYNTH_WITH_VIDEO
#include "remove_bg_pipeline.h"
#include "video/video_matting.h"
#include "video/video_run_manifest.h"
#endif

namespace ps::cli {

const char kMergeUsage[] =
    "usage: photosynth-cli merge --project DIR [--report FILE.json] [--preview OUT.mp4]";

namespace {

// --preview: the composited video of a sharded `remove-bg --video`, which no single shard can
// write, made from the frames once every shard is done; all or nothing.
int write_video_preview(const batch::MergedReport& report, const std::string& root,
                        const std::string& preview) {
    if (report.command != "remove-bg --video")
        return fail("--preview applies to the shards of remove-bg --video, and " + root +
                        " holds those of " + report.command,
                    2);
    if (!report.complete() || report.failed > 0)
        return fail(preview + ": not written, the frames are not all done (" +
                    std::to_string(report.pending) + " pending, " + std::to_string(report.failed) +
                    " failed, " + std::to_string(report.missing.size()) +
                    " shard(s) without a summary)");
#ifdef PHOTOSYNTH_WITH_VIDEO
    // Composited as the run composited its frames: its background and colour step, from its
    // manifest (a background image read again, and refused if it changed since).
    auto manifest = video::read_manifest(root);
    if (!manifest) return fail(manifest.message());
    if (!manifest->found)
        return fail(root + ": no " + video::kManifestName + "; not a remove-bg --video folder");
    auto pipeline = pipeline_from_text(manifest->manifest.options);
    if (!pipeline) return fail(preview + ": not written: " + pipeline.message());
    if (auto ok =
            video::write_preview_of_folder(root, preview, pipeline->refine, pipeline->background);
        !ok)
        return fail(ok.message());
    std::cout << "wrote " << preview << "\n";
    return 0;
#else
    return fail(preview +
                ": this build has no video support (OpenCV's videoio was not found at build time)");
#endif
}

}  // namespace

int run_merge(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"project", "report", "preview"}, {});
    if (!args) return fail(args.message() + " (" + kMergeUsage + ")", 2);
    if (auto ok = require(*args, "merge", {"project"}); !ok)
        return fail(ok.message() + " (" + kMergeUsage + ")", 2);
    const std::string root = args->get("project");
    auto report = batch::merge_shard_summaries(root);
    if (!report) return fail(report.message());
    const std::string report_path = args->get(
        "report",
        QDir(QString::fromStdString(root)).filePath(".photosynth/report.json").toStdString());
    if (auto ok = io::atomic_write(report_path, batch::report_to_json(*report)); !ok)
        return fail(ok.message());
    std::cout << batch::report_to_text(*report) << "wrote " << report_path << "\n";
    if (args->has("preview")) return write_video_preview(*report, root, args->get("preview"));
    if (report->complete() && report->failed == 0) return 0;
    return fail("merge: " + std::to_string(report->failed) + " " +
                batch::input_noun(report->command) + "(s) failed, " +
                std::to_string(report->pending) + " pending, " +
                std::to_string(report->missing.size()) + " shard(s) without a summary (" +
                report_path + ")");
}

}  // namespace ps::cli
