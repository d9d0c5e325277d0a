// PNG masks export: one 0/255 PNG per object, one indexed PNG per image whose palette holds the
// label colours (index 0 background, index i label i of labels.txt).
#include "annotation/format_common.h"

namespace ps::annotation {

Status write_png_masks(const Project& project, const ExportSet& set, const std::string& out,
                       const ExportOptions&, ExportSummary& summary) {
    // labels.txt: line i names index i of the semantic PNGs, "_background_" first (as labelme's
    // label_names.txt).
    std::string names = "_background_\n";
    std::vector<std::array<uint8_t, 3>> palette{{0, 0, 0}};
    for (const std::string& name : set.categories) {
        names += name + "\n";
        const Label* label = project.labels().find(name);
        palette.push_back(label ? label->colour : std::array<uint8_t, 3>{128, 128, 128});
    }
    if (set.categories.size() > 255)
        return make_error(ErrorKind::Unsupported,
                          out + ": an indexed PNG holds at most 255 labels, the project has " +
                              std::to_string(set.categories.size()));
    if (auto written = write_output(out + "/labels.txt", names, summary); !written) return written;
    for (const ExportImage& image : set.images) {
        cv::Mat semantic(image.annotation.height, image.annotation.width, CV_8UC1, cv::Scalar(0));
        for (const AnnotatedObject* object : image.objects) {
            const cv::Mat mask = rle_decode(object->mask);
            const std::string path = out + "/masks/" + image.stem + "_" +
                                     std::to_string(object->id) + "_" +
                                     file_name_safe(object->label) + ".png";
            if (auto written = write_output(path, encode_png(mask), summary); !written)
                return written;
            // Objects later in the list are drawn over earlier ones, as in the editor.
            semantic.setTo(set.category_index(object->label) + 1, mask);
        }
        if (auto written = write_output(out + "/semantic/" + image.stem + ".png",
                                        encode_png(semantic, palette), summary);
            !written)
            return written;
    }
    return Ok{};
}

}  // namespace ps::annotation
