// Private to the format readers and writers: what to export (images, objects, categories) and
// how imported objects land in a project.
#pragma once

#include <opencv2/core/mat.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "annotation/formats.h"

namespace ps::annotation {

struct ExportImage {
    ImageAnnotation annotation;
    std::vector<const AnnotatedObject*> objects;  // into `annotation`, after the options' filters
    std::string stem;  // image name without extension: "a/b" for "a/b.jpg"
};

struct ExportSet {
    std::vector<ExportImage> images;
    // The label set's names in order, then labels used by objects but missing from the set.
    std::vector<std::string> categories;
    std::vector<std::string> skipped;
    int category_index(const std::string& label) const;  // 0-based
    // The writers write into a staging folder; where a file lands once the export is committed
    // (for paths relative to the output, as LabelMe's imagePath).
    std::string staging_dir, final_dir;
    std::string final_path(const std::string& staged_path) const;
};

// Reads every annotated image of the project (read-only: a corrupt file is skipped, not moved).
ExportSet collect_export(const Project& project, const ExportOptions& options);

// Writes into the export's staging folder (io::write_staged_file), records the path.
Status write_output(const std::string& path, const std::string& bytes, ExportSummary& summary);
// PNG bytes of a CV_8UC1 image: greyscale, or indexed with `palette` (RGB) when it is not empty.
std::string encode_png(const cv::Mat& image,
                       const std::vector<std::array<uint8_t, 3>>& palette = {});
// CV_8UC1 of a PNG's first channel; empty when the bytes are not a PNG.
cv::Mat decode_png_grey(const std::string& bytes);
// Letters, digits, '-', '_' and '.' kept, the rest '_': a label inside a file name.
std::string file_name_safe(const std::string& text);
std::string json_bytes(const class QJsonObject& object);
// A polygon from another tool's file that polygons_to_mask can take: finite points near the
// image and an outline of bounded length (the rasteriser walks the outline at 5x, as
// pycocotools does; a hostile one would not fit in memory, a NaN is undefined behaviour).
Status check_polygon(const Polygon& polygon, int height, int width, const std::string& where);

using Writer = Status (*)(const Project&, const ExportSet&, const std::string& out_dir,
                          const ExportOptions&, ExportSummary&);
Status write_coco(const Project&, const ExportSet&, const std::string&, const ExportOptions&,
                  ExportSummary&);
Status write_yolo(const Project&, const ExportSet&, const std::string&, const ExportOptions&,
                  ExportSummary&);
Status write_labelme(const Project&, const ExportSet&, const std::string&, const ExportOptions&,
                     ExportSummary&);
Status write_png_masks(const Project&, const ExportSet&, const std::string&, const ExportOptions&,
                       ExportSummary&);

// Adds imported objects to a project: finds the project's image for a name in the file, merges
// into its annotation (an object already there with the same label and mask is not added
// twice), adds missing labels. Nothing is written before finish(), which saves every changed
// annotation and the labels in one all-or-nothing Project::save_all().
class ImportSession {
  public:
    ImportSession(Project& project, std::string model, ImportMode mode, ImportSummary& summary)
        : project_(project), model_(std::move(model)), mode_(mode), summary_(summary) {}

    // The project's image for a file name or path as another tool wrote it: the same relative
    // path, else the only project image with that base name.
    std::optional<std::string> match_image(const std::string& name) const;
    // `context` names the source in skip messages.
    void add(const std::string& image, int width, int height,
             const std::vector<std::pair<std::string, Rle>>& objects, const std::string& context);
    Status finish();
    const Project& project() const { return project_; }

  private:
    // The image's annotation as this import has it so far: pending, else the project's.
    Result<ImageAnnotation> current(const std::string& image, const std::string& context);

    Project& project_;
    std::string model_;
    ImportMode mode_;
    ImportSummary& summary_;
    LabelSet labels_ = project_.labels();
    std::map<std::string, ImageAnnotation> pending_;  // by image, written by finish()
    std::set<std::string> matched_;  // images merged into, whether or not anything was new
    int pending_objects_ = 0;
};

}  // namespace ps::annotation
