// Export and import of a project to the formats other tools read: COCO instances, YOLO
// segmentation, LabelMe, PNG masks. Each writer writes atomically and either completes or
// leaves nothing half-written; each reader validates and names the file and the problem.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "annotation/polygons.h"
#include "annotation/project.h"
#include "common/result.h"

namespace ps::annotation {

enum class ExportFormat { Coco, Yolo, LabelMe, Png };
std::optional<ExportFormat> export_format_from_string(const std::string& name);

struct ExportOptions {
    bool coco_polygons = false;   // COCO segmentation as polygons instead of compressed RLE
    PolygonOptions polygon;       // for polygon formats
    bool include_hidden = false;  // hidden objects are left out unless asked
    bool only_verified = false;
    // LabelMe: each object also as a `mask` shape (labelme >= 5.2 reads them; 5.1, Debian
    // bookworm's, stops at them, so off by default).
    bool labelme_masks = false;
};

struct ExportSummary {
    int images = 0;
    int objects = 0;
    std::vector<std::string> files;    // written, absolute paths
    std::vector<std::string> skipped;  // "<image>: <reason>" (e.g. corrupt annotation)
    // Exported, but worth a word: "<image>: the image file is missing from <root>" (an
    // annotation whose image was moved or deleted; the dataset names a file it lacks).
    std::vector<std::string> warnings;
};

// COCO: <out>/annotations.json. Image ids are stable across exports: the 1-based position of
//   the image in the project's sorted image list is NOT used; the id is derived from the file
//   name (see docs/annotation-format.md) so adding images never renumbers the others.
// YOLO: <out>/labels/<stem>.txt (class index and normalised polygon per line), <out>/classes.txt.
// LabelMe: <out>/<stem>.json per image (polygon shapes through the border pixels' centres, one
//   group_id per object; `mask` shapes per option), with imagePath relative to the JSON file.
// PNG: <out>/masks/<stem>_<object id>_<label>.png (0/255), <out>/semantic/<stem>.png (indexed,
//   palette from the label colours, 0 = background), <out>/labels.txt.
Result<ExportSummary> export_project(const Project& project, ExportFormat format,
                                     const std::string& out_dir, const ExportOptions& options = {});

struct ImportSummary {
    int images = 0;
    int objects = 0;
    std::vector<std::string> labels_added;
    std::vector<std::string> skipped;  // "<image or annotation>: <reason>"
};

// What an import does with the objects or images it cannot use (listed in `skipped` either way).
enum class ImportMode {
    SkipInvalid,   // import the rest (the app: the summary shows what was left out)
    AllOrNothing,  // change nothing if anything was skipped (`photosynth-cli import`)
};

// Adds the file's objects to the project's images (matched by file name), labels added to the
// label set as needed; imported objects are unverified, model "import:coco" / "import:labelme".
// Every change is written at the end in one Project::save_all(): an error or a kill leaves the
// project as it was, and a project opened with Creation::OnFirstSave is made only then.
// `images` and `objects` count what was written (0 when AllOrNothing skipped anything).
Result<ImportSummary> import_coco(Project& project, const std::string& coco_json_path,
                                  ImportMode mode = ImportMode::SkipInvalid);
// `path` is one LabelMe JSON file or a folder of them.
Result<ImportSummary> import_labelme(Project& project, const std::string& path,
                                     ImportMode mode = ImportMode::SkipInvalid);

// Stable COCO image id for a file name (FNV-1a 32-bit of the relative path, kept positive).
int coco_image_id(const std::string& image_file);

}  // namespace ps::annotation
