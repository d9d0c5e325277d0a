// An annotation project on disk (see project.h and docs/annotation-format.md):
// <folder>/.photosynth/project.json and <folder>/.photosynth/annotations/<image file>.json.
#include "annotation/project.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "annotation/annotation_json.h"
#include "io/atomic_file.h"
#include "io/staged_folder.h"

namespace ps::annotation {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStateFolder = ".photosynth";
constexpr const char* kAnnotationSuffix = ".json";

std::string project_file_of(const std::string& folder) {
    return folder + "/" + kStateFolder + "/project.json";
}

std::string annotations_folder_of(const std::string& folder) {
    return folder + "/" + kStateFolder + "/annotations";
}

std::string absolute_clean(const std::string& path) {
    return QDir::cleanPath(QFileInfo(QString::fromStdString(path)).absoluteFilePath())
        .toStdString();
}

bool is_image_name(const std::string& name) {
    const std::string extension =
        QFileInfo(QString::fromStdString(name)).suffix().toLower().toStdString();
    static const std::set<std::string> kExtensions{"png", "jpg",  "jpeg", "bmp",
                                                   "tif", "tiff", "webp"};
    return kExtensions.count(extension) > 0;
}

// An image name must stay inside the image root and the annotations folder.
Status check_image_name(const std::string& image_file) {
    const QString name = QString::fromStdString(image_file);
    if (image_file.empty()) return make_error(ErrorKind::InvalidArgument, "empty image file name");
    if (QDir::isAbsolutePath(name) || name.contains('\\') || name.split('/').contains("..") ||
        name.split('/').contains(".") || name.split('/').contains(""))
        return make_error(
            ErrorKind::InvalidArgument,
            image_file + ": an image name must be a relative path inside the image folder");
    return Ok{};
}

// project.json: the schema, the image root and the labels.
std::string project_to_json(const std::string& image_root_as_stored, const LabelSet& labels) {
    QJsonObject json;
    json["schema"] = kProjectSchema;
    json["image_root"] = QString::fromStdString(image_root_as_stored);
    json["labels"] = labels_to_json_array(labels);
    return QJsonDocument(json).toJson(QJsonDocument::Indented).toStdString();
}

// The image root as written in project.json: relative when it lies inside the project folder
// (the pair moves together), absolute otherwise (the project can move alone).
std::string stored_image_root(const std::string& folder, const std::string& image_root) {
    const QString relative =
        QDir(QString::fromStdString(folder)).relativeFilePath(QString::fromStdString(image_root));
    if (relative.isEmpty()) return ".";
    if (relative == ".." || relative.startsWith("../") || QDir::isAbsolutePath(relative))
        return image_root;
    return relative.toStdString();
}

// Reads the "status" of an annotation file from its first bytes, where our writer puts it.
std::optional<ImageStatus> status_from_head(const std::string& head) {
    const std::string key = "\"status\"";
    const size_t at = head.find(key);
    if (at == std::string::npos) return std::nullopt;
    size_t position = at + key.size();
    auto skip_space = [&] {
        while (position < head.size() && std::isspace(static_cast<unsigned char>(head[position])))
            ++position;
    };
    skip_space();
    if (position >= head.size() || head[position] != ':') return std::nullopt;
    ++position;
    skip_space();
    if (position >= head.size() || head[position] != '"') return std::nullopt;
    const size_t end = head.find('"', position + 1);
    if (end == std::string::npos) return std::nullopt;
    return image_status_from_string(head.substr(position + 1, end - position - 1));
}

// What save() and save_all() refuse to write: an annotation the editor could not open again.
Status check_annotation(const ImageAnnotation& annotation, const std::string& path) {
    if (auto valid = check_image_name(annotation.image_file); !valid) return valid.error();
    if (annotation.width < 1 || annotation.height < 1)
        return make_error(ErrorKind::InvalidArgument, path + ": the image size is not set");
    std::set<int> ids;
    for (const auto& object : annotation.objects) {
        const std::string where = path + ": object " + std::to_string(object.id);
        if (object.id < 1 || !ids.insert(object.id).second)
            return make_error(ErrorKind::InvalidArgument,
                              where + ": the id is not unique and >= 1");
        if (object.label.empty())
            return make_error(ErrorKind::InvalidArgument, where + " has no label");
        if (object.mask.height != annotation.height || object.mask.width != annotation.width)
            return make_error(ErrorKind::InvalidArgument,
                              where + ": mask size [" + std::to_string(object.mask.height) + ", " +
                                  std::to_string(object.mask.width) +
                                  "] differs from the image's [" +
                                  std::to_string(annotation.height) + ", " +
                                  std::to_string(annotation.width) + "]");
    }
    return Ok{};
}

}  // namespace

Result<Project> Project::open(const std::string& folder, const LabelSet& labels_if_new,
                              const std::string& image_root_if_new, Creation creation) {
    if (folder.empty()) return make_error(ErrorKind::InvalidArgument, "no project folder given");
    Project project;
    project.folder_ = absolute_clean(folder);
    const std::string project_file = project_file_of(project.folder_);
    const std::string state_folder = project.folder_ + "/" + kStateFolder;
    std::error_code exists_error;
    // A save_all() of a killed process: finished if it had committed, else removed.
    if (fs::is_directory(project.folder_, exists_error)) io::clean_stale_staging(state_folder);
    const bool exists = fs::exists(project_file, exists_error);
    if (exists || creation == Creation::OnOpen) {
        if (auto made = io::make_directories(annotations_folder_of(project.folder_)); !made)
            return made.error();
        // Temporary files of saves whose process was killed (an `annotate` stopped mid-batch).
        io::remove_stale_temp_files(state_folder);
    }

    if (exists) {
        auto bytes = io::read_whole_file(project_file);
        if (!bytes) return bytes.error();
        QJsonParseError parse_error{};
        const QJsonDocument document =
            QJsonDocument::fromJson(QByteArray::fromStdString(*bytes), &parse_error);
        if (parse_error.error != QJsonParseError::NoError || !document.isObject())
            return make_error(ErrorKind::Format, project_file + ": not a valid project file (" +
                                                     parse_error.errorString().toStdString() + ")");
        const QJsonObject json = document.object();
        const std::string schema = json.value("schema").toString().toStdString();
        if (schema != kProjectSchema)
            return make_error(schema.rfind("photosynth-project/", 0) == 0 ? ErrorKind::Unsupported
                                                                          : ErrorKind::Format,
                              project_file + ": schema \"" + schema +
                                  "\", this Photosynth reads \"" + kProjectSchema + "\"");
        auto labels = labels_from_json_value(json.value("labels"), project_file);
        if (!labels) return labels.error();
        project.labels_ = std::move(*labels);
        const QString root = json.value("image_root").toString(".");
        project.image_root_ =
            absolute_clean(QDir::isAbsolutePath(root) ? root.toStdString()
                                                      : project.folder_ + "/" + root.toStdString());
    } else {
        if (auto valid = validate_labels(labels_if_new, project_file); !valid) return valid.error();
        project.labels_ = labels_if_new;
        project.image_root_ =
            image_root_if_new.empty() ? project.folder_ : absolute_clean(image_root_if_new);
        project.exists_ = false;
        if (creation == Creation::OnOpen) {
            const std::string json = project_to_json(
                stored_image_root(project.folder_, project.image_root_), project.labels_);
            if (auto written = io::atomic_write(project_file, json, io::MissingFolders::Create);
                !written)
                return written.error();
            project.exists_ = true;
        }
    }
    if (!QFileInfo(QString::fromStdString(project.image_root_)).isDir())
        return make_error(ErrorKind::Io, project.image_root_ + ": the image folder of project " +
                                             project.folder_ + " does not exist");
    project.rescan();
    return project;
}

Status Project::set_labels(const LabelSet& labels) {
    if (!exists_) return save_all({}, labels);
    const std::string project_file = project_file_of(folder_);
    if (auto valid = validate_labels(labels, project_file); !valid) return valid.error();
    const std::string json = project_to_json(stored_image_root(folder_, image_root_), labels);
    if (auto written = io::atomic_write(project_file, json, io::MissingFolders::Create); !written)
        return written.error();
    labels_ = labels;
    return Ok{};
}

void Project::rescan() {
    images_.clear();
    std::error_code error;
    const fs::path root(image_root_);
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        const std::string name = it->path().filename().string();
        // Hidden entries, .photosynth among them, are not images of the project.
        if (!name.empty() && name[0] == '.') {
            if (it->is_directory(error)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(error) && is_image_name(name))
            images_.push_back(it->path().lexically_relative(root).generic_string());
    }
    std::sort(images_.begin(), images_.end());
}

std::vector<std::string> Project::annotated_images() const {
    std::vector<std::string> names;
    const fs::path root(annotations_folder_of(folder_));
    const std::string suffix = kAnnotationSuffix;
    std::error_code error;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        const std::string name = it->path().filename().string();
        // Temporary files of an interrupted save start with '.' and do not end in ".json".
        if (name.empty() || name[0] == '.' || !it->is_regular_file(error)) continue;
        if (name.size() <= suffix.size() ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string relative = it->path().lexically_relative(root).generic_string();
        names.push_back(relative.substr(0, relative.size() - suffix.size()));
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string Project::annotation_path(const std::string& image_file) const {
    return annotations_folder_of(folder_) + "/" + image_file + kAnnotationSuffix;
}

std::string Project::image_path(const std::string& image_file) const {
    return image_root_ + "/" + image_file;
}

Result<ImageAnnotation> Project::read(const std::string& image_file) const {
    if (auto valid = check_image_name(image_file); !valid) return valid.error();
    ImageAnnotation empty;
    empty.image_file = image_file;
    const std::string path = annotation_path(image_file);
    std::error_code error;
    if (!fs::exists(path, error)) return empty;
    auto bytes = io::read_whole_file(path);
    if (!bytes) return bytes.error();
    auto annotation = annotation_from_json(*bytes, path);
    if (!annotation) return annotation.error();
    annotation->image_file = image_file;  // the file's own "image" is informative
    return annotation;
}

Result<LoadedAnnotation> Project::load(const std::string& image_file) const {
    auto annotation = read(image_file);
    LoadedAnnotation loaded;
    if (annotation) {
        loaded.annotation = std::move(*annotation);
        return loaded;
    }
    // A newer schema is not corrupt: leave it for the Photosynth that wrote it. (A bad image
    // name or an unreadable file are not Format errors either.)
    if (annotation.error().kind != ErrorKind::Format) return annotation.error();
    loaded.annotation.image_file = image_file;
    const std::string path = annotation_path(image_file);
    const std::string stamp =
        QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss").toStdString();
    auto aside = io::rename_aside(path, ".corrupt-" + stamp);
    // Never go on without setting it aside: the next save would overwrite what is left of it.
    if (!aside)
        return make_error(ErrorKind::Io, annotation.message() +
                                             "; and it could not be set aside: " + aside.message());
    loaded.set_aside_path = *aside;
    loaded.problem = annotation.message() + "; the file was set aside as " + *aside;
    return loaded;
}

Status Project::save(const ImageAnnotation& annotation) const {
    if (!exists_)
        return make_error(ErrorKind::Runtime,
                          folder_ + ": the project is written by its first save_all()");
    const std::string path = annotation_path(annotation.image_file);
    if (auto valid = check_annotation(annotation, path); !valid) return valid.error();
    return io::atomic_write(path, annotation_to_json(annotation), io::MissingFolders::Create);
}

Status Project::save_all(const std::vector<ImageAnnotation>& annotations,
                         const std::optional<LabelSet>& labels) {
    const std::string project_file = project_file_of(folder_);
    for (const ImageAnnotation& annotation : annotations)
        if (auto valid = check_annotation(annotation, annotation_path(annotation.image_file));
            !valid)
            return valid.error();
    if (labels)
        if (auto valid = validate_labels(*labels, project_file); !valid) return valid.error();
    if (annotations.empty() && !labels && exists_) return Ok{};

    auto staged = io::StagedFolder::begin(folder_ + "/" + kStateFolder);
    if (!staged) return staged.error();
    // Staged paths mirror .photosynth/: project.json and annotations/<image>.json.
    const std::string staged_project = staged->path();
    if (labels || !exists_) {
        const std::string json =
            project_to_json(stored_image_root(folder_, image_root_), labels ? *labels : labels_);
        if (auto written = io::write_staged_file(staged_project + "/project.json", json,
                                                 io::MissingFolders::Create);
            !written)
            return staged->failed(written.error());
    }
    for (const ImageAnnotation& annotation : annotations) {
        const std::string path =
            staged_project + "/annotations/" + annotation.image_file + kAnnotationSuffix;
        if (auto written = io::write_staged_file(path, annotation_to_json(annotation),
                                                 io::MissingFolders::Create);
            !written)
            return staged->failed(written.error());
    }
    if (!exists_)
        if (auto made = io::make_directories(staged_project + "/annotations"); !made)
            return staged->failed(made.error());
    if (auto committed = staged->commit(); !committed) return committed;
    if (labels) labels_ = *labels;
    exists_ = true;
    return Ok{};
}

Status Project::remove_annotation(const std::string& image_file) const {
    if (auto valid = check_image_name(image_file); !valid) return valid.error();
    const std::string path = annotation_path(image_file);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return make_error(ErrorKind::Io, path + ": cannot remove (" + std::strerror(errno) + ")");
    return Ok{};
}

ImageStatus Project::status(const std::string& image_file) const {
    if (!check_image_name(image_file)) return ImageStatus::NotStarted;
    const std::string path = annotation_path(image_file);
    std::ifstream file(path, std::ios::binary);
    if (!file) return ImageStatus::NotStarted;
    // Our writer puts "status" in the first lines; 1 KiB covers it.
    std::string head(1024, '\0');
    file.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(file.gcount()));
    // A cheap completeness check too: a cut file does not end with the closing brace.
    std::string tail(16, '\0');
    file.clear();
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    file.seekg(std::max<std::streamoff>(0, size - static_cast<std::streamoff>(tail.size())));
    file.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    tail.resize(static_cast<size_t>(file.gcount()));
    const size_t last = tail.find_last_not_of(" \t\r\n");
    if (last == std::string::npos || tail[last] != '}') return ImageStatus::NotStarted;
    if (head.find(kAnnotationSchema) != std::string::npos)
        if (const auto status = status_from_head(head)) return *status;
    // Written by another tool in another key order: parse it all (rare).
    auto bytes = io::read_whole_file(path);
    if (!bytes) return ImageStatus::NotStarted;
    auto annotation = annotation_from_json(*bytes, path);
    return annotation ? annotation->status : ImageStatus::NotStarted;
}

std::map<std::string, ImageStatus> Project::statuses() const {
    std::map<std::string, ImageStatus> result;
    for (const std::string& image : images_) result.emplace(image, status(image));
    return result;
}

std::optional<std::string> Project::next_unannotated(const std::string& after) const {
    if (images_.empty()) return std::nullopt;
    const auto found = std::find(images_.begin(), images_.end(), after);
    // Start just after `after`; `after` itself comes last (wrapping around).
    const size_t start =
        found == images_.end() ? 0 : static_cast<size_t>(found - images_.begin()) + 1;
    for (size_t i = 0; i < images_.size(); ++i) {
        const std::string& image = images_[(start + i) % images_.size()];
        if (status(image) != ImageStatus::Done) return image;
    }
    return std::nullopt;
}

}  // namespace ps::annotation
