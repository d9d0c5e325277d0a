// YOLO segmentation export: labels/<stem>.txt with one "class x1 y1 x2 y2 ..." line per
// polygon (pixel-corner coordinates divided by the image size), and classes.txt.
#include <cstdio>

#include "annotation/format_common.h"

namespace ps::annotation {

Status write_yolo(const Project&, const ExportSet& set, const std::string& out, const ExportOptions& options,
                  ExportSummary& summary) {
    std::string classes;
    for (const std::string& name : set.categories) classes += name + "\n";
    if (auto written = write_output(out + "/classes.txt", classes, summary); !written) return written;
    PolygonOptions polygon_options = options.polygon;
    polygon_options.convention = PixelConvention::Corners;
    for (const ExportImage& image : set.images) {
        std::string lines;
        const double width = image.annotation.width, height = image.annotation.height;
        for (const AnnotatedObject* object : image.objects) {
            // YOLO has no multi-part instances: each component is a line of its own.
            for (const Polygon& polygon : mask_to_polygons(rle_decode(object->mask), polygon_options)) {
                lines += std::to_string(set.category_index(object->label));
                for (size_t k = 0; k < std::max<size_t>(polygon.size(), 3); ++k) {
                    const cv::Point2d& p = polygon[std::min(k, polygon.size() - 1)];
                    char number[64];
                    std::snprintf(number, sizeof number, " %.6f %.6f", p.x / width, p.y / height);
                    lines += number;
                }
                lines += "\n";
            }
        }
        // Every image gets its file, empty when it has no object (a negative example to YOLO).
        if (auto written = write_output(out + "/labels/" + image.stem + ".txt", lines, summary); !written) return written;
    }
    return Ok{};
}

}  // namespace ps::annotation
