// An annotation project: a folder of images, a label set, and one annotation file per image,
// all under <folder>/.photosynth/. Every save is atomic (temporary file, fsync, rename, fsync of
// the directory), so a crash or SIGKILL leaves either the old or the new file, never a torn one.
// A file that is corrupt anyway is renamed aside (never overwritten) and reported.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "common/result.h"

namespace ps::annotation {

// "photosynth-project/1" and "photosynth-annotation/1": see docs/annotation-format.md.
constexpr const char* kProjectSchema = "photosynth-project/1";
constexpr const char* kAnnotationSchema = "photosynth-annotation/1";

struct LoadedAnnotation {
    ImageAnnotation annotation;  // empty (NotStarted) when the image had no file yet
    // Set when the image's file was unreadable: it was renamed to `set_aside_path` and the
    // message names the file and the problem. The annotation is then empty.
    std::optional<std::string> problem;
    std::string set_aside_path;
};

// When a project that does not exist yet is written: at once by open() (the app, `annotate`), or
// by the first save_all() (an import: if it fails or is killed, no project was made).
enum class Creation { OnOpen, OnFirstSave };

class Project {
  public:
    // Opens the project in `folder`, creating <folder>/.photosynth/project.json with `labels`
    // when there is none. An existing project keeps its labels and its image folder (pass {} to
    // just open). The images live in `image_root` (default: the project folder itself; stored in
    // project.json relative to the project when possible), so annotations can sit apart from a
    // read-only image folder. Opening finishes (or removes) a save_all() that a killed process
    // left half-done.
    static Result<Project> open(const std::string& folder, const LabelSet& labels_if_new = {},
                                const std::string& image_root_if_new = {},
                                Creation creation = Creation::OnOpen);
    // False for a Creation::OnFirstSave project until save_all() has written it.
    bool exists() const { return exists_; }

    const std::string& folder() const { return folder_; }
    const std::string& image_root() const { return image_root_; }
    const LabelSet& labels() const { return labels_; }
    Status set_labels(const LabelSet& labels);  // saved at once

    // Image files of the image root (png, jpg, jpeg, bmp, tif, tiff, webp), sorted, relative names.
    const std::vector<std::string>& images() const { return images_; }
    void rescan();
    // Images that have an annotation file (relative names, sorted), whether or not the image is
    // still in the image root: what the exports write.
    std::vector<std::string> annotated_images() const;

    // The image's annotation as stored (empty when it has none), touching nothing: a corrupt
    // file is an error naming it (exports, an import that must change nothing).
    Result<ImageAnnotation> read(const std::string& image_file) const;
    // read(), but a corrupt file is set aside (".corrupt-<time>") and the image starts empty,
    // with `problem` saying so: what the editor and saves want, so work can go on.
    Result<LoadedAnnotation> load(const std::string& image_file) const;
    // Atomic; the annotation's image_file names the target.
    Status save(const ImageAnnotation& annotation) const;
    Status remove_annotation(const std::string& image_file) const;
    // Several annotations, and the labels when given, all or nothing: staged beside
    // .photosynth/ and moved in behind a commit marker (io::StagedFolder), so a failure changes
    // nothing and a kill leaves the old state or, once the project is next opened, the new one.
    // Creates the project when it does not exist yet.
    Status save_all(const std::vector<ImageAnnotation>& annotations,
                    const std::optional<LabelSet>& labels = std::nullopt);

    // From the annotation files' headers (cheap: status only); NotStarted when absent or corrupt.
    ImageStatus status(const std::string& image_file) const;
    std::map<std::string, ImageStatus> statuses() const;
    // The first image after `after` (wrapping around) that is not Done; nullopt when all are.
    std::optional<std::string> next_unannotated(const std::string& after = {}) const;

    std::string annotation_path(const std::string& image_file) const;
    std::string image_path(const std::string& image_file) const;

  private:
    Project() = default;
    std::string folder_;
    std::string image_root_;
    LabelSet labels_;
    std::vector<std::string> images_;
    bool exists_ = true;
};

// Serialisation of the schema (used by Project, import and tests).
std::string annotation_to_json(const ImageAnnotation& annotation);
Result<ImageAnnotation> annotation_from_json(const std::string& json, const std::string& context);
std::string labels_to_json(const LabelSet& labels);
Result<LabelSet> labels_from_json(const std::string& json, const std::string& context);

}  // namespace ps::annotation
