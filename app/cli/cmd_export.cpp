// `photosynth-cli export`: an annotation project to COCO, YOLO, LabelMe or PNG masks.
#include <QFileInfo>

#include <iostream>

#include "annotation/formats.h"
#include "cli_args.h"
#include "commands.h"

namespace ps::cli {

const char kExportUsage[] =
    "usage: photosynth-cli export --project DIR --format coco|yolo|labelme|png --out DIR "
    "[--polygons] [--include-hidden] [--only-verified]";

int run_export(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"project", "format", "out"},
                           {"polygons", "include-hidden", "only-verified"});
    if (!args) return fail(args.message() + " (" + kExportUsage + ")", 2);
    if (auto ok = require(*args, "export", {"project", "format", "out"}); !ok)
        return fail(ok.message() + " (" + kExportUsage + ")", 2);
    const auto format = annotation::export_format_from_string(args->get("format"));
    if (!format)
        return fail("export: unknown format '" + args->get("format") +
                        "' (expected coco, yolo, labelme or png)",
                    2);
    annotation::ExportOptions options;
    options.coco_polygons = args->flags.count("polygons") > 0;
    options.include_hidden = args->flags.count("include-hidden") > 0;
    options.only_verified = args->flags.count("only-verified") > 0;
    if (options.coco_polygons && *format != annotation::ExportFormat::Coco)
        return fail(
            "export: --polygons applies to --format coco (the other formats choose their own "
            "shapes)",
            2);

    // Project::open would create a project where there is none: an export reads one that exists.
    const std::string project_dir = args->get("project");
    if (!QFileInfo::exists(QString::fromStdString(project_dir + "/.photosynth/project.json")))
        return fail(project_dir + ": not an annotation project (no .photosynth/project.json)");
    auto project = annotation::Project::open(project_dir);
    if (!project) return fail(project.message());
    auto summary = annotation::export_project(*project, *format, args->get("out"), options);
    if (!summary) return fail(summary.message());

    std::cout << "exported " << summary->objects << " object(s) of " << summary->images
              << " image(s) as " << args->get("format") << " to " << args->get("out") << " ("
              << summary->files.size() << " file(s))\n";
    // A left-out image (a corrupt annotation file) makes the exit non-zero: the dataset is partial.
    for (const std::string& warning : summary->warnings)
        std::cerr << "export: warning: " << warning << "\n";
    for (const std::string& skipped : summary->skipped)
        std::cerr << "export: skipped " << skipped << "\n";
    return summary->skipped.empty() ? 0 : 1;
}

}  // namespace ps::cli
