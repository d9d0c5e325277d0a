// export_project and the helpers every format shares (see format_common.h).
#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <set>

#include "annotation/format_common.h"
#include "io/atomic_file.h"
#include "io/staged_folder.h"
#include "io/temp_name.h"

namespace ps::annotation {

namespace {

// An image file's size as the editor shows it (EXIF rotation applied), from its header only;
// invalid when the file cannot be read.
QSize shown_size(const std::string& path) {
    QImageReader reader(QString::fromStdString(path));
    reader.setDecideFormatFromContent(true);
    QSize size = reader.size();
    if (size.isValid() && (reader.transformation() & QImageIOHandler::TransformationRotate90))
        size.transpose();
    return size;
}

}  // namespace

std::optional<ExportFormat> export_format_from_string(const std::string& name) {
    if (name == "coco") return ExportFormat::Coco;
    if (name == "yolo") return ExportFormat::Yolo;
    if (name == "labelme") return ExportFormat::LabelMe;
    if (name == "png") return ExportFormat::Png;
    return std::nullopt;
}

int coco_image_id(const std::string& image_file) {
    uint32_t hash = 2166136261u;  // FNV-1a 32-bit
    for (unsigned char c : image_file) {
        hash ^= c;
        hash *= 16777619u;
    }
    const int id = static_cast<int>(hash & 0x7fffffffu);
    return id == 0 ? 1 : id;  // COCO ids are positive
}

int ExportSet::category_index(const std::string& label) const {
    const auto it = std::find(categories.begin(), categories.end(), label);
    return it == categories.end() ? -1 : static_cast<int>(it - categories.begin());
}

std::string ExportSet::final_path(const std::string& staged_path) const {
    return io::rebase_path(staged_path, staging_dir, final_dir);
}

ExportSet collect_export(const Project& project, const ExportOptions& options) {
    ExportSet set;
    for (const Label& label : project.labels().labels) set.categories.push_back(label.name);
    std::set<std::string> stems;
    for (const std::string& image : project.annotated_images()) {
        auto annotation = project.read(image);
        if (!annotation) {
            set.skipped.push_back(image + ": " + annotation.message());
            continue;
        }
        ExportImage entry;
        entry.annotation = std::move(*annotation);
        const QFileInfo info(QString::fromStdString(image));
        entry.stem = (info.path() == "." ? info.completeBaseName()
                                         : info.path() + "/" + info.completeBaseName())
                         .toStdString();
        if (!stems.insert(entry.stem).second) {
            set.skipped.push_back(image + ": another image has the same name without extension (" +
                                  entry.stem + ")");
            continue;
        }
        set.images.push_back(std::move(entry));
    }
    // Pointers into the annotations once the vector no longer moves.
    for (ExportImage& entry : set.images) {
        for (const AnnotatedObject& object : entry.annotation.objects) {
            if (object.hidden && !options.include_hidden) continue;
            if (!object.verified && options.only_verified) continue;
            if (rle_area(object.mask) == 0) continue;  // nothing to export, and COCO forbids area 0
            entry.objects.push_back(&object);
            if (set.category_index(object.label) < 0) set.categories.push_back(object.label);
        }
    }
    return set;
}

Status write_output(const std::string& path, const std::string& bytes, ExportSummary& summary) {
    // Every export writes into its StagedFolder (export_project): no temporary file per file.
    if (auto written = io::write_staged_file(path, bytes, io::MissingFolders::Create); !written)
        return written;
    summary.files.push_back(path);
    return Ok{};
}

std::string encode_png(const cv::Mat& image, const std::vector<std::array<uint8_t, 3>>& palette) {
    CV_Assert(image.type() == CV_8UC1);
    QImage view(image.data, image.cols, image.rows, static_cast<qsizetype>(image.step[0]),
                palette.empty() ? QImage::Format_Grayscale8 : QImage::Format_Indexed8);
    if (!palette.empty()) {
        QList<QRgb> colours;
        for (const auto& colour : palette) colours.append(qRgb(colour[0], colour[1], colour[2]));
        view.setColorTable(colours);
    }
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    view.save(&buffer, "PNG");
    return bytes.toStdString();
}

cv::Mat decode_png_grey(const std::string& bytes) {
    QImage image;
    if (!image.loadFromData(QByteArray::fromStdString(bytes), "PNG")) return {};
    // Indexed images keep their indices (labelme's 0/1 masks, our semantic PNGs).
    if (image.format() != QImage::Format_Indexed8)
        image = image.convertToFormat(QImage::Format_Grayscale8);
    cv::Mat mask(image.height(), image.width(), CV_8UC1);
    for (int y = 0; y < image.height(); ++y)
        std::copy_n(image.constScanLine(y), image.width(), mask.ptr<uint8_t>(y));
    return mask;
}

std::string file_name_safe(const std::string& text) {
    std::string safe = text;
    for (char& c : safe)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            c = '_';
    return safe;
}

std::string json_bytes(const QJsonObject& object) {
    return QJsonDocument(object).toJson(QJsonDocument::Indented).toStdString();
}

Status check_polygon(const Polygon& polygon, int height, int width, const std::string& where) {
    // Vertices a few image sizes out are legal (the outline is clipped); farther is nonsense and
    // would overflow the rasterisers' integer coordinates.
    const double limit = std::min(2.0 * std::max(height, width) + 16.0, 1e9);
    // Far longer than any traced outline of the image (its perimeter times 64), with a floor for
    // small images.
    const double max_outline_px = std::max(64.0 * (double(height) + width), double(1 << 20));
    double outline_px = 0;
    for (size_t i = 0; i < polygon.size(); ++i) {
        const cv::Point2d& p = polygon[i];
        if (!std::isfinite(p.x) || !std::isfinite(p.y) || std::abs(p.x) > limit ||
            std::abs(p.y) > limit)
            return make_error(ErrorKind::Format,
                              where + ": a polygon point (" + std::to_string(p.x) + ", " +
                                  std::to_string(p.y) + ") lies far outside the " +
                                  std::to_string(width) + "x" + std::to_string(height) + " image");
        const cv::Point2d& q = polygon[(i + 1) % polygon.size()];
        outline_px += std::max(std::abs(q.x - p.x), std::abs(q.y - p.y));
    }
    if (outline_px > max_outline_px)
        return make_error(ErrorKind::Format, where + ": a polygon's outline is " +
                                                 std::to_string(std::llround(outline_px)) +
                                                 " px long, over the limit of " +
                                                 std::to_string(std::llround(max_outline_px)) +
                                                 " px for this image");
    return Ok{};
}

Result<ExportSummary> export_project(const Project& project, ExportFormat format,
                                     const std::string& out_dir, const ExportOptions& options) {
    if (out_dir.empty()) return make_error(ErrorKind::InvalidArgument, "no output folder given");
    // All or nothing: the files go to a staging folder beside out_dir, moved into it only once
    // all are written (a full disk or a kill half-way leaves the previous export as it was).
    auto staged = io::StagedFolder::begin(out_dir);
    if (!staged) return staged.error();
    const std::string out = staged->path();
    ExportSet set = collect_export(project, options);
    set.staging_dir = staged->path();
    set.final_dir = staged->target();
    ExportSummary summary;
    summary.skipped = set.skipped;
    for (const ExportImage& entry : set.images)
        if (!QFileInfo::exists(
                QString::fromStdString(project.image_path(entry.annotation.image_file))))
            summary.warnings.push_back(entry.annotation.image_file +
                                       ": the image file is missing from " + project.image_root());
    summary.images = static_cast<int>(set.images.size());
    for (const ExportImage& image : set.images)
        summary.objects += static_cast<int>(image.objects.size());
    Writer writer = nullptr;
    switch (format) {
        case ExportFormat::Coco:
            writer = write_coco;
            break;
        case ExportFormat::Yolo:
            writer = write_yolo;
            break;
        case ExportFormat::LabelMe:
            writer = write_labelme;
            break;
        case ExportFormat::Png:
            writer = write_png_masks;
            break;
    }
    if (auto written = writer(project, set, out, options, summary); !written)
        return staged->failed(written.error());
    if (auto committed = staged->commit(); !committed) return committed.error();
    for (std::string& file : summary.files) file = set.final_path(file);
    return summary;
}

std::optional<std::string> ImportSession::match_image(const std::string& name) const {
    QString normalised = QString::fromStdString(name);
    normalised.replace('\\', '/');
    const std::string relative = normalised.toStdString();
    const auto& images = project_.images();
    if (std::binary_search(images.begin(), images.end(), relative)) return relative;
    const std::string base = QFileInfo(normalised).fileName().toStdString();
    std::optional<std::string> found;
    for (const std::string& image : images) {
        if (QFileInfo(QString::fromStdString(image)).fileName().toStdString() != base) continue;
        if (found) return std::nullopt;  // ambiguous
        found = image;
    }
    return found;
}

void ImportSession::add(const std::string& image, int width, int height,
                        const std::vector<std::pair<std::string, Rle>>& objects,
                        const std::string& context) {
    auto current_annotation = current(image, context);
    if (!current_annotation) {
        summary_.skipped.push_back(current_annotation.message());
        return;
    }
    ImageAnnotation annotation = std::move(*current_annotation);
    // The other tool's size must be the image's: masks of another size would make an
    // annotation the editor can only show read-only, and exports with the wrong sizes.
    const QSize actual = shown_size(project_.image_path(image));
    if (actual.isValid() && (actual.width() != width || actual.height() != height)) {
        summary_.skipped.push_back(context + ": size " + std::to_string(width) + "x" +
                                   std::to_string(height) + " differs from the image file's " +
                                   std::to_string(actual.width()) + "x" +
                                   std::to_string(actual.height()) + " for " + image);
        return;
    }
    if (annotation.width == 0) {
        annotation.width = width;
        annotation.height = height;
    } else if (annotation.width != width || annotation.height != height) {
        summary_.skipped.push_back(context + ": size " + std::to_string(width) + "x" +
                                   std::to_string(height) + " differs from the project's " +
                                   std::to_string(annotation.width) + "x" +
                                   std::to_string(annotation.height) + " for " + image);
        return;
    }
    int added = 0;
    for (const auto& [label, mask] : objects) {
        const bool present = std::any_of(annotation.objects.begin(), annotation.objects.end(),
                                         [&label = label, &mask = mask](const AnnotatedObject& o) {
                                             return o.label == label && o.mask == mask;
                                         });
        if (present) continue;
        if (labels_.index_of(label) < 0) {
            // New labels get colours of a fixed cycle, so that repeated imports agree.
            static const std::array<std::array<uint8_t, 3>, 8> kColours = {{{230, 25, 75},
                                                                            {60, 180, 75},
                                                                            {255, 225, 25},
                                                                            {0, 130, 200},
                                                                            {245, 130, 48},
                                                                            {145, 30, 180},
                                                                            {70, 240, 240},
                                                                            {240, 50, 230}}};
            labels_.labels.push_back(
                {label, kColours[labels_.labels.size() % kColours.size()], ""});
            summary_.labels_added.push_back(label);
        }
        AnnotatedObject object;
        object.label = label;
        object.mask = mask;
        object.bbox = rle_bbox(mask);
        object.model = model_;
        annotation.add(std::move(object));
        ++added;
    }
    if (annotation.status == ImageStatus::NotStarted && !annotation.objects.empty())
        annotation.status = ImageStatus::InProgress;
    matched_.insert(image);
    if (added == 0) return;
    pending_[image] = std::move(annotation);
    pending_objects_ += added;
}

Result<ImageAnnotation> ImportSession::current(const std::string& image,
                                               const std::string& context) {
    if (auto pending = pending_.find(image); pending != pending_.end()) return pending->second;
    // An import that must change nothing when anything is wrong does not set a corrupt file
    // aside either: it reports it.
    if (mode_ == ImportMode::AllOrNothing) {
        auto stored = project_.read(image);
        if (!stored) return make_error(stored.error().kind, context + ": " + stored.message());
        return stored;
    }
    auto loaded = project_.load(image);
    if (!loaded) return make_error(loaded.error().kind, context + ": " + loaded.message());
    if (loaded->problem) summary_.skipped.push_back(*loaded->problem);
    return std::move(loaded->annotation);
}

Status ImportSession::finish() {
    if (mode_ == ImportMode::AllOrNothing && !summary_.skipped.empty()) {
        pending_.clear();
        summary_.labels_added.clear();
        return Ok{};
    }
    if (pending_.empty() && summary_.labels_added.empty()) {
        summary_.images = static_cast<int>(matched_.size());
        return Ok{};  // nothing new: a project that does not exist yet is not made for it
    }
    std::vector<ImageAnnotation> changed;
    for (auto& [image, annotation] : pending_) changed.push_back(std::move(annotation));
    pending_.clear();
    std::optional<LabelSet> labels;
    if (!summary_.labels_added.empty()) labels = labels_;
    if (auto saved = project_.save_all(changed, labels); !saved) return saved;
    summary_.images = static_cast<int>(matched_.size());
    summary_.objects = pending_objects_;
    return Ok{};
}

}  // namespace ps::annotation
