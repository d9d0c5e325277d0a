// The annotation project the importer targets (coco, labelme) import into: made once per process
// in a temporary folder, put back to that state before every input so that inputs are
// independent, and checked after every import.
#pragma once

#include <string>

#include "annotation/formats.h"
#include "annotation/project.h"

namespace ps::fuzz {

class ScratchProject {
  public:
    // Made on first use (images of known sizes, one label, one annotated object), removed at
    // exit. Also caps PHOTOSYNTH_MAX_PIXELS, so that a file naming a huge image cannot make one
    // input rasterise gigabytes.
    static ScratchProject& get();

    const std::string& folder() const { return folder_; }
    // Replaces .photosynth/ by the pristine copy made at start and opens the project.
    annotation::Project reset() const;
    // The invariants after an import, failed or not: the project still opens, every annotation
    // file loads without a problem, belongs to a project image and has that image's size, its
    // masks have the annotation's size and its labels pass io::check_label, and nothing that was
    // there is lost. After a successful import also: every label used is in the label set and
    // the summary's counts are what the project gained.
    void check(const Result<annotation::ImportSummary>& import) const;

    ScratchProject(const ScratchProject&) = delete;
    ScratchProject& operator=(const ScratchProject&) = delete;
    ~ScratchProject();

  private:
    ScratchProject();
    std::string folder_;
};

}  // namespace ps::fuzz
