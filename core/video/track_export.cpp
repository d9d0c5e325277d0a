// Track exports: PNG masks, YouTube-VIS JSON and RGBA cut-outs, streamed from the store.
#include "video/track_export.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/core.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "io/atomic_file.h"
#include "io/image_writer.h"
#include "io/staged_folder.h"

namespace ps::video {
namespace {

Status write_png_file(const std::string& path, const cv::Mat& image) {
    auto bytes = io::encode_png(image, path);
    if (!bytes) return bytes.error();
    return io::write_staged_file(path, *bytes, io::MissingFolders::Create);
}

std::string join(const std::string& folder, const std::string& name) {
    return (std::filesystem::path(folder) / name).string();
}

std::string json_string(const std::string& text) {
    const QByteArray array =
        QJsonDocument(QJsonArray{QString::fromStdString(text)}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2).toStdString();  // without the array's brackets
}

std::string number(double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.17g", value);
    return text;
}

// The masks of `object_id` that the store has, decoded lazily: nullopt when none.
Result<std::optional<cv::Mat>> decoded_mask(const TrackStore& store, long long frame,
                                            int object_id) {
    auto mask = store.get(frame, object_id);
    if (!mask) return mask.error();
    if (!mask->has_value()) return std::optional<cv::Mat>();
    return std::optional<cv::Mat>(annotation::rle_decode((*mask)->mask));
}

// Every frame where a listed object has a mask, ascending.
std::vector<long long> frames_with_masks(const TrackStore& store) {
    std::set<long long> frames;
    for (const TrackObject& object : store.objects())
        for (long long frame : store.frames(object.id)) frames.insert(frame);
    return {frames.begin(), frames.end()};
}

void report(const TrackExportProgress& progress, long long done, long long total) {
    if (progress) progress(done, total);
}

}  // namespace

Result<std::vector<TrackExportKind>> parse_track_exports(const std::string& list) {
    std::vector<TrackExportKind> kinds;
    size_t start = 0;
    while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string name = list.substr(start, comma - start);
        TrackExportKind kind;
        if (name == "masks") {
            kind = TrackExportKind::Masks;
        } else if (name == "vis") {
            kind = TrackExportKind::YouTubeVis;
        } else if (name == "cutout") {
            kind = TrackExportKind::Cutout;
        } else {
            return make_error(ErrorKind::InvalidArgument,
                              "unknown export '" + name + "' (masks, vis, cutout)");
        }
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
        start = comma + 1;
    }
    return kinds;
}

std::string track_export_name(TrackExportKind kind) {
    switch (kind) {
        case TrackExportKind::Masks:
            return "masks";
        case TrackExportKind::YouTubeVis:
            return "vis.json";
        case TrackExportKind::Cutout:
            return "cutout";
    }
    return {};
}

std::string track_frame_file(long long frame) {
    char name[32];
    std::snprintf(name, sizeof(name), "%06lld.png", frame);
    return name;
}

Result<TrackExportSummary> export_track_masks(const TrackStore& store, const std::string& folder,
                                              const TrackExportProgress& progress) {
    auto staged = io::StagedFolder::begin(folder);
    if (!staged) return staged.error();
    long long total = 0, done = 0;
    for (const TrackObject& object : store.objects())
        total += static_cast<long long>(store.frames(object.id).size());
    for (const TrackObject& object : store.objects()) {
        const std::string object_folder = join(staged->path(), std::to_string(object.id));
        for (long long frame : store.frames(object.id)) {
            auto mask = decoded_mask(store, frame, object.id);
            if (!mask) return staged->failed(mask.error());
            if (auto written = write_png_file(join(object_folder, track_frame_file(frame)), **mask);
                !written)
                return staged->failed(written.error());
            report(progress, ++done, total);
        }
    }
    if (auto committed = staged->commit(); !committed) return committed.error();
    return TrackExportSummary{done, staged->target()};
}

Result<TrackExportSummary> export_track_youtube_vis(const TrackStore& store,
                                                    const std::string& json_path,
                                                    const YouTubeVisOptions& options,
                                                    const TrackExportProgress& progress) {
    const TrackSource source = store.source();
    const std::vector<TrackObject> objects = store.objects();
    auto file = io::AtomicFile::create(json_path);
    if (!file) return file.error();

    // Categories: each label once, numbered in order of first use.
    std::vector<std::string> categories;
    std::map<std::string, int> category_of;
    for (const TrackObject& object : objects) {
        const std::string name = object.label.empty() ? "object" : object.label;
        if (!category_of.count(name)) {
            categories.push_back(name);
            category_of[name] = static_cast<int>(categories.size());
        }
    }
    const std::string stem = std::filesystem::path(source.video).stem().string();
    std::string head =
        "{\"info\": {\"description\": \"photosynth-cli track\"}, \"licenses\": [],\n";
    head += "\"videos\": [{\"id\": 1, \"width\": " + std::to_string(source.width) +
            ", \"height\": " + std::to_string(source.height) +
            ", \"length\": " + std::to_string(source.frame_count) + ", \"file_names\": [";
    for (long long frame = 0; frame < source.frame_count; ++frame) {
        char name[32];
        std::snprintf(name, sizeof(name), "%05lld.jpg", frame);
        const std::string file_name = static_cast<size_t>(frame) < options.file_names.size()
                                          ? options.file_names[static_cast<size_t>(frame)]
                                          : stem + "/" + name;
        head += (frame ? ", " : "") + json_string(file_name);
    }
    head += "]}],\n\"categories\": [";
    for (size_t i = 0; i < categories.size(); ++i)
        head += std::string(i ? ", " : "") + "{\"id\": " + std::to_string(i + 1) +
                ", \"name\": " + json_string(categories[i]) + ", \"supercategory\": \"object\"}";
    head += "],\n\"annotations\": [";
    if (auto written = file->write(head); !written) return written.error();

    long long done = 0;
    for (size_t i = 0; i < objects.size(); ++i) {
        const TrackObject& object = objects[i];
        const int category = category_of[object.label.empty() ? "object" : object.label];
        std::string part = std::string(i ? ",\n" : "\n") + "{\"id\": " + std::to_string(object.id) +
                           ", \"video_id\": 1, \"category_id\": " + std::to_string(category) +
                           ", \"iscrowd\": 0, \"width\": " + std::to_string(source.width) +
                           ", \"height\": " + std::to_string(source.height) +
                           ", \"length\": 1, \"segmentations\": [";
        // Areas and boxes are a few numbers a frame: kept for after the segmentations, which
        // are written as they are read.
        std::vector<std::string> areas, boxes;
        areas.reserve(static_cast<size_t>(source.frame_count));
        boxes.reserve(static_cast<size_t>(source.frame_count));
        for (long long frame = 0; frame < source.frame_count; ++frame) {
            if (frame) part += ", ";
            auto mask = store.has(frame, object.id)
                            ? store.get(frame, object.id)
                            : Result<std::optional<TrackMask>>(std::nullopt);
            if (!mask) return mask.error();
            if (!mask->has_value() || annotation::rle_area((*mask)->mask) == 0) {
                part += "null";
                areas.push_back("null");
                boxes.push_back("null");
            } else {
                const annotation::Rle& rle = (*mask)->mask;
                part += "{\"size\": [" + std::to_string(rle.height) + ", " +
                        std::to_string(rle.width) + "], \"counts\": [";
                for (size_t k = 0; k < rle.counts.size(); ++k)
                    part += (k ? "," : "") + std::to_string(rle.counts[k]);
                part += "]}";
                areas.push_back(std::to_string(annotation::rle_area(rle)));
                const auto box = annotation::rle_bbox(rle);
                boxes.push_back("[" + number(box[0]) + ", " + number(box[1]) + ", " +
                                number(box[2]) + ", " + number(box[3]) + "]");
            }
            if (part.size() > (1 << 20)) {
                if (auto written = file->write(part); !written) return written.error();
                part.clear();
            }
        }
        part += "],\n \"areas\": [";
        for (size_t k = 0; k < areas.size(); ++k) part += (k ? ", " : "") + areas[k];
        part += "],\n \"bboxes\": [";
        for (size_t k = 0; k < boxes.size(); ++k) part += (k ? ", " : "") + boxes[k];
        part += "]}";
        if (auto written = file->write(part); !written) return written.error();
        report(progress, ++done, static_cast<long long>(objects.size()));
    }
    if (auto written = file->write(std::string("\n]}\n")); !written) return written.error();
    if (auto committed = file->commit(); !committed) return committed.error();
    return TrackExportSummary{1, json_path};
}

Result<TrackExportSummary> export_track_cutouts(const TrackStore& store, const TrackFrames& frames,
                                                const std::string& folder,
                                                const CutoutOptions& options,
                                                const TrackExportProgress& progress) {
    const TrackSource source = store.source();
    const std::vector<TrackObject> objects = store.objects();
    const std::vector<long long> frame_list = frames_with_masks(store);
    auto staged = io::StagedFolder::begin(folder);
    if (!staged) return staged.error();
    long long total = 0, done = 0;
    if (options.per_object) {
        for (const TrackObject& object : objects)
            total += static_cast<long long>(store.frames(object.id).size());
    } else {
        total = static_cast<long long>(frame_list.size());
    }
    // Frames outer, objects inner: each frame is decoded once, in order (a video's fast path).
    for (long long frame : frame_list) {
        auto rgb = frames(frame);
        if (!rgb) return staged->failed(rgb.error());
        if (rgb->type() != CV_8UC3 || rgb->cols != source.width || rgb->rows != source.height)
            return staged->failed(make_error(
                ErrorKind::Mismatch, source.video + ": frame " + std::to_string(frame) + " is " +
                                         std::to_string(rgb->cols) + "x" +
                                         std::to_string(rgb->rows) + ", the track store's " +
                                         std::to_string(source.width) + "x" +
                                         std::to_string(source.height)));
        cv::Mat union_alpha(source.height, source.width, CV_8UC1, cv::Scalar(0));
        for (const TrackObject& object : objects) {
            auto mask = decoded_mask(store, frame, object.id);
            if (!mask) return staged->failed(mask.error());
            if (!mask->has_value()) continue;
            if (!options.per_object) {
                union_alpha |= **mask;
                continue;
            }
            cv::Mat rgba;
            cv::merge(std::vector<cv::Mat>{*rgb, **mask}, rgba);
            const std::string path =
                join(join(staged->path(), std::to_string(object.id)), track_frame_file(frame));
            if (auto written = write_png_file(path, rgba); !written)
                return staged->failed(written.error());
            report(progress, ++done, total);
        }
        if (!options.per_object) {
            cv::Mat rgba;
            cv::merge(std::vector<cv::Mat>{*rgb, union_alpha}, rgba);
            if (auto written = write_png_file(join(staged->path(), track_frame_file(frame)), rgba);
                !written)
                return staged->failed(written.error());
            report(progress, ++done, total);
        }
    }
    if (auto committed = staged->commit(); !committed) return committed.error();
    return TrackExportSummary{done, staged->target()};
}

}  // namespace ps::video
