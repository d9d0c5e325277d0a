// The importer targets' scratch project: a temporary folder of small images whose sizes the
// checks know by construction, and a pristine .photosynth/ copied back before every input.
#include <QImage>

#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "annotation/rle.h"
#include "fuzz_input.h"
#include "io/input_limits.h"
#include "scratch_project.h"

namespace ps::fuzz {
namespace {

namespace fs = std::filesystem;
using annotation::ImageAnnotation;
using annotation::Project;

struct KnownImage {
    const char* name;
    int width, height;
    bool readable;  // false: bytes no decoder reads, so the importer's size stands
};

// Two with the base name a.png, so that a bare "a.png" matches exactly and "x/a.png" is
// ambiguous; one only by base name (b.png); one that is not a PNG at all.
constexpr std::array<KnownImage, 4> kImages{{{"a.png", 8, 6, true},
                                             {"sub/a.png", 3, 4, true},
                                             {"sub/b.png", 5, 5, true},
                                             {"broken.png", 7, 7, false}}};
// Pristine: a.png and broken.png have one object each.
constexpr int kPristineObjects = 2;

// The project's state as made, copied back before each input. Hidden (Project::rescan skips
// names starting with '.') and not named .photosynth-*, where a project keeps its own staging.
constexpr const char* kPristineFolder = ".fuzz-pristine";
constexpr const char* kProjectFolder = ".photosynth";

void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "%s\n", detail.c_str());
    require(false, what);
}

const KnownImage* known_image(const std::string& name) {
    const auto it = std::find_if(kImages.begin(), kImages.end(),
                                 [&name](const KnownImage& image) { return name == image.name; });
    return it == kImages.end() ? nullptr : &*it;
}

// An annotation of `image` holding one square object of `label`.
ImageAnnotation annotation_with_square(const KnownImage& image, const std::string& label) {
    ImageAnnotation annotation;
    annotation.image_file = image.name;
    annotation.width = image.width;
    annotation.height = image.height;
    annotation.status = annotation::ImageStatus::InProgress;
    cv::Mat mask(image.height, image.width, CV_8UC1, cv::Scalar(0));
    mask(cv::Rect(1, 1, 2, 2)).setTo(255);
    annotation::AnnotatedObject object;
    object.label = label;
    object.mask = annotation::rle_encode(mask);
    object.bbox = annotation::rle_bbox(object.mask);
    object.model = "brush";
    annotation.add(std::move(object));
    return annotation;
}

void write_images(const std::string& folder) {
    fs::create_directories(folder + "/sub");
    for (const KnownImage& image : kImages) {
        const std::string path = folder + "/" + image.name;
        if (!image.readable) {
            static const char kNotAPng[] = "not a PNG";
            write_file(path, reinterpret_cast<const uint8_t*>(kNotAPng), sizeof kNotAPng - 1);
            continue;
        }
        QImage pixels(image.width, image.height, QImage::Format_RGB32);
        pixels.fill(Qt::gray);
        if (!pixels.save(QString::fromStdString(path), "PNG")) fail("scratch project", path);
    }
}

// What an import did, for whoever writes seeds: PHOTOSYNTH_FUZZ_VERBOSE=1 fuzz_replay_coco
// --mutations 0 SEED.json.
void print(const Result<annotation::ImportSummary>& import) {
    if (!import) {
        std::fprintf(stderr, "import failed: %s\n", import.message().c_str());
        return;
    }
    std::fprintf(stderr, "imported %d objects into %d images\n", import->objects, import->images);
    for (const std::string& label : import->labels_added)
        std::fprintf(stderr, "  label added: %s\n", label.c_str());
    for (const std::string& skipped : import->skipped)
        std::fprintf(stderr, "  skipped: %s\n", skipped.c_str());
}

}  // namespace

ScratchProject& ScratchProject::get() {
    static ScratchProject project;
    return project;
}

ScratchProject::ScratchProject() {
    // Read once by the annotation readers (check_image_size), so set before the first import.
    ::setenv("PHOTOSYNTH_MAX_PIXELS", "1000000", 1);
    std::string pattern = scratch_dir() + "/photosynth-fuzz-project-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) fail("scratch project", "mkdtemp " + pattern);
    folder_ = pattern;
    write_images(folder_);
    annotation::LabelSet labels;
    labels.labels = {{"cat", {230, 25, 75}, "1"}, {"dog", {60, 180, 75}, ""}};
    auto project = Project::open(folder_, labels);
    if (!project) fail("scratch project", project.message());
    for (const auto& [name, label] : {std::pair{"a.png", "cat"}, {"broken.png", "dog"}})
        if (auto saved = project->save(annotation_with_square(*known_image(name), label)); !saved)
            fail("scratch project", saved.message());
    fs::rename(folder_ + "/" + kProjectFolder, folder_ + "/" + kPristineFolder);
}

ScratchProject::~ScratchProject() {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
}

Project ScratchProject::reset() const {
    const std::string live = folder_ + "/" + kProjectFolder;
    fs::remove_all(live);
    fs::copy(folder_ + "/" + kPristineFolder, live, fs::copy_options::recursive);
    auto project = Project::open(folder_);
    if (!project) fail("scratch project", project.message());
    return std::move(*project);
}

void ScratchProject::check(const Result<annotation::ImportSummary>& import) const {
    if (std::getenv("PHOTOSYNTH_FUZZ_VERBOSE") != nullptr) print(import);
    auto project = Project::open(folder_);
    if (!project) fail("the project does not open after an import", project.message());
    const annotation::LabelSet& labels = project->labels();
    for (const annotation::Label& label : labels.labels) {
        auto checked = io::check_label(label.name);
        require(checked && *checked == label.name,
                "the label set holds a name check_label refuses");
    }
    require(labels.find("cat") != nullptr && labels.find("dog") != nullptr,
            "the import lost a label of the project");

    int objects = 0;
    for (const std::string& image : project->annotated_images()) {
        auto loaded = project->load(image);
        if (!loaded) fail("an annotation file does not load after an import", loaded.message());
        if (loaded->problem)
            fail(import ? "an import left an annotation file that does not load"
                        : "a failed import left an annotation file that does not load",
                 *loaded->problem);
        const ImageAnnotation& annotation = loaded->annotation;
        const KnownImage* known = known_image(image);
        if (known == nullptr) fail("an annotation file for an image not in the project", image);
        require(annotation.width == known->width && annotation.height == known->height,
                "an annotation whose size is not its image's");
        for (const annotation::AnnotatedObject& object : annotation.objects) {
            require(
                object.mask.width == annotation.width && object.mask.height == annotation.height,
                "an object's mask size differs from its annotation's");
            auto checked = io::check_label(object.label);
            require(checked && *checked == object.label, "an object's label check_label refuses");
            if (import)
                require(labels.find(object.label) != nullptr,
                        "an import succeeded with an object whose label is not in the label set");
        }
        objects += static_cast<int>(annotation.objects.size());
    }
    require(objects >= kPristineObjects, "an import lost objects");
    if (!import) return;

    const annotation::ImportSummary& summary = *import;
    require(summary.objects >= 0 && summary.images >= 0, "negative counts in the import summary");
    require(summary.images <= static_cast<int>(project->images().size()),
            "the import summary counts more images than the project has");
    require(objects == kPristineObjects + summary.objects,
            "the import summary's object count is not what the project gained");
    for (const std::string& label : summary.labels_added)
        require(labels.find(label) != nullptr, "a label the summary added is not in the label set");
}

}  // namespace ps::fuzz
