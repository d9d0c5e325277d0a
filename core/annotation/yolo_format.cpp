// YOLO segmentation export: labels/<stem>.txt with one "class x1 y1 x2 y2 ..." line per object
// (pixel-corner coordinates divided by the image size), and classes.txt.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

#include "annotation/format_common.h"
#include "annotation/polygon_merge.h"

namespace ps::annotation {
namespace {

// A part of an object (8-connected component) smaller than this, or than this fraction of the
// object's largest part, is a speck and is left out; the largest part always stays. Masks from
// SAM carry such specks (an astronaut image exported 20 lines for 2 objects, some of 4 points);
// written as lines of their own they were extra instances, bridged in they would add bridges
// and vertices for nothing. 16 px is a 4x4 square; 0.5% keeps a part of 1/200 of the object.
constexpr double kMinPartPx = 16;
constexpr double kMinPartFraction = 0.005;

// The mask (0 or not) as 0/255 without its specks.
cv::Mat without_specks(const cv::Mat& mask, double min_part_px, double min_part_fraction) {
    cv::Mat labels, stats, centroids;
    const int count =
        cv::connectedComponentsWithStats(mask != 0, labels, stats, centroids, 8, CV_32S);
    if (count <= 2) return mask != 0;
    int largest = 1;
    for (int label = 2; label < count; ++label)
        if (stats.at<int>(label, cv::CC_STAT_AREA) > stats.at<int>(largest, cv::CC_STAT_AREA))
            largest = label;
    const double min_area =
        std::max(min_part_px, min_part_fraction * stats.at<int>(largest, cv::CC_STAT_AREA));
    std::vector<uint8_t> keep(static_cast<size_t>(count), 0);
    for (int label = 1; label < count; ++label)
        keep[static_cast<size_t>(label)] =
            label == largest || stats.at<int>(label, cv::CC_STAT_AREA) >= min_area ? 255 : 0;
    cv::Mat kept(mask.size(), CV_8UC1);
    for (int y = 0; y < mask.rows; ++y) {
        const int* label = labels.ptr<int>(y);
        uint8_t* out = kept.ptr<uint8_t>(y);
        for (int x = 0; x < mask.cols; ++x) out[x] = keep[static_cast<size_t>(label[x])];
    }
    return kept;
}

}  // namespace

Status write_yolo(const Project&, const ExportSet& set, const std::string& out,
                  const ExportOptions& options, ExportSummary& summary) {
    std::string classes;
    for (const std::string& name : set.categories) classes += name + "\n";
    if (auto written = write_output(out + "/classes.txt", classes, summary); !written)
        return written;
    PolygonOptions polygon_options = options.polygon;
    polygon_options.convention = PixelConvention::Corners;
    for (const ExportImage& image : set.images) {
        std::string lines;
        const double width = image.annotation.width, height = image.annotation.height;
        for (const AnnotatedObject* object : image.objects) {
            // YOLO has one polygon per instance: an object of several parts becomes one outline
            // with bridges between its parts, as Ultralytics' COCO converter writes it.
            const cv::Mat mask =
                without_specks(rle_decode(object->mask), kMinPartPx, kMinPartFraction);
            const Polygon polygon = merge_polygons(mask_to_polygons(mask, polygon_options));
            if (polygon.empty()) continue;
            lines += std::to_string(set.category_index(object->label));
            for (size_t k = 0; k < std::max<size_t>(polygon.size(), 3); ++k) {
                const cv::Point2d& p = polygon[std::min(k, polygon.size() - 1)];
                char number[64];
                std::snprintf(number, sizeof number, " %.6f %.6f", p.x / width, p.y / height);
                lines += number;
            }
            lines += "\n";
        }
        // Every image gets its file, empty when it has no object (a negative example to YOLO).
        if (auto written = write_output(out + "/labels/" + image.stem + ".txt", lines, summary);
            !written)
            return written;
    }
    return Ok{};
}

}  // namespace ps::annotation
