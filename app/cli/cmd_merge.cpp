// `photosynth-cli merge`: the shard summaries of a batch split over a cluster gathered into one
// report (<DIR>/.photosynth/report.json and a text summary on stdout).
#include <QDir>

#include <iostream>

#include "batch/shard_report.h"
#include "cli_args.h"
#include "commands.h"
#include "io/atomic_file.h"

namespace ps::cli {

const char kMergeUsage[] = "usage: photosynth-cli merge --project DIR [--report FILE.json]";

int run_merge(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"project", "report"}, {});
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
    if (report->complete() && report->failed == 0) return 0;
    return fail("merge: " + std::to_string(report->failed) + " image(s) failed, " +
                std::to_string(report->pending) + " pending, " +
                std::to_string(report->missing.size()) + " shard(s) without a summary (" +
                report_path + ")");
}

}  // namespace ps::cli
