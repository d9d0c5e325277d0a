// `photosynth-cli import`: COCO or LabelMe annotations from other tools into a project.
#include <QFileInfo>

#include <iostream>

#include "annotation/formats.h"
#include "cli_args.h"
#include "commands.h"

namespace ps::cli {

const char kImportUsage[] =
    "usage: photosynth-cli import --format coco|labelme --input FILE|DIR --project DIR "
    "[--image-dir DIR] [--skip-invalid]";

int run_import(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"format", "input", "project", "image-dir"}, {"skip-invalid"});
    if (!args) return fail(args.message() + " (" + kImportUsage + ")", 2);
    if (auto ok = require(*args, "import", {"format", "input", "project"}); !ok)
        return fail(ok.message() + " (" + kImportUsage + ")", 2);
    const std::string format = args->get("format");
    if (format != "coco" && format != "labelme")
        return fail("import: unknown format '" + format + "' (expected coco or labelme)", 2);
    const std::string input = args->get("input");
    if (!QFileInfo::exists(QString::fromStdString(input))) return fail(input + ": no such file");
    const std::string image_dir = args->get("image-dir");
    if (!image_dir.empty() && !QFileInfo(QString::fromStdString(image_dir)).isDir())
        return fail(image_dir + ": no such folder");

    // A project that does not exist yet is created, its images in --image-dir (default: the
    // project folder itself), so work from another tool can continue here. It is written with
    // the imported annotations, all at once at the end: a failure or a kill leaves nothing new.
    auto project = annotation::Project::open(args->get("project"), {}, image_dir,
                                             annotation::Creation::OnFirstSave);
    if (!project) return fail(project.message());
    if (!image_dir.empty() &&
        QFileInfo(QString::fromStdString(image_dir)).canonicalFilePath() !=
            QFileInfo(QString::fromStdString(project->image_root())).canonicalFilePath())
        return fail("import: --image-dir " + image_dir + " is not the project's image folder " +
                    project->image_root());
    // Without --skip-invalid, anything that cannot be imported makes the whole import fail.
    const bool skip_invalid = args->flags.count("skip-invalid") > 0;
    const auto mode =
        skip_invalid ? annotation::ImportMode::SkipInvalid : annotation::ImportMode::AllOrNothing;
    auto summary = format == "coco" ? annotation::import_coco(*project, input, mode)
                                    : annotation::import_labelme(*project, input, mode);
    if (!summary) return fail(summary.message());
    for (const std::string& skipped : summary->skipped)
        std::cerr << "import: skipped " << skipped << "\n";
    if (!summary->skipped.empty() && !skip_invalid)
        return fail("import: nothing imported from " + input + ": " +
                    std::to_string(summary->skipped.size()) +
                    " item(s) cannot be used (listed above; --skip-invalid imports the rest)");
    if (summary->images == 0)
        return fail("import: nothing imported from " + input +
                    ": no annotation matches an image of " + project->image_root());

    std::cout << "imported " << summary->objects << " object(s) into " << summary->images
              << " image(s) of " << args->get("project");
    if (!summary->labels_added.empty()) {
        std::cout << "; labels added:";
        for (const std::string& label : summary->labels_added) std::cout << " " << label;
    }
    std::cout << "\n";
    return 0;
}

}  // namespace ps::cli
