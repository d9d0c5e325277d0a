// `photosynth-cli import`: COCO or LabelMe annotations from other tools into a project.
#include <QFileInfo>

#include <filesystem>
#include <iostream>

#include "annotation/formats.h"
#include "cli_args.h"
#include "commands.h"

namespace ps::cli {
namespace {

// Removes the project state folder (and the project folder, if it was missing) that opening a
// new project created, unless keep() was called: an import that fails leaves nothing new.
class NewProjectGuard {
  public:
    explicit NewProjectGuard(const std::string& project_folder) {
        namespace fs = std::filesystem;
        std::error_code error;
        const fs::path folder = fs::absolute(project_folder).lexically_normal();
        const fs::path state = folder / ".photosynth";
        if (fs::exists(state, error)) return;
        created_ = fs::exists(folder, error) ? state : folder;
        // A missing project folder may have missing parents too.
        while (created_.has_parent_path() && created_.parent_path() != created_ &&
               !fs::exists(created_.parent_path(), error))
            created_ = created_.parent_path();
    }
    ~NewProjectGuard() {
        std::error_code error;
        if (!created_.empty()) std::filesystem::remove_all(created_, error);
    }
    void keep() { created_.clear(); }

  private:
    std::filesystem::path created_;
};

}  // namespace

const char kImportUsage[] =
    "usage: photosynth-cli import --format coco|labelme --input FILE|DIR --project DIR "
    "[--image-dir DIR]";

int run_import(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"format", "input", "project", "image-dir"}, {});
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
    // project folder itself), so work from another tool can continue here. If the import then
    // fails, what was created is removed again: a failure leaves nothing new behind.
    NewProjectGuard created(args->get("project"));
    auto project = annotation::Project::open(args->get("project"), {}, image_dir);
    if (!project) return fail(project.message());
    if (!image_dir.empty() &&
        QFileInfo(QString::fromStdString(image_dir)).canonicalFilePath() !=
            QFileInfo(QString::fromStdString(project->image_root())).canonicalFilePath())
        return fail("import: --image-dir " + image_dir + " is not the project's image folder " +
                    project->image_root());
    auto summary = format == "coco" ? annotation::import_coco(*project, input)
                                    : annotation::import_labelme(*project, input);
    if (!summary) return fail(summary.message());
    if (summary->images == 0 && !summary->skipped.empty()) {
        for (const std::string& skipped : summary->skipped)
            std::cerr << "import: skipped " << skipped << "\n";
        return fail("import: nothing imported from " + input);
    }
    created.keep();

    std::cout << "imported " << summary->objects << " object(s) into " << summary->images
              << " image(s) of " << args->get("project");
    if (!summary->labels_added.empty()) {
        std::cout << "; labels added:";
        for (const std::string& label : summary->labels_added) std::cout << " " << label;
    }
    std::cout << "\n";
    // Anything left out makes the exit non-zero: a script must not take a partial import for all.
    for (const std::string& skipped : summary->skipped)
        std::cerr << "import: skipped " << skipped << "\n";
    return summary->skipped.empty() ? 0 : 1;
}

}  // namespace ps::cli
