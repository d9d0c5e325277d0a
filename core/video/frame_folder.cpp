// A folder of image frames: the image files in natural order of names ("frame2" before
// "frame10", as people number frames), each decoded on demand by the one image reader.
#include <QImageIOHandler>
#include <QImageReader>
#include <QString>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "io/image_reader.h"
#include "video/frame_reader.h"

namespace ps::video {
namespace {

bool is_frame_file(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
           ext == ".tiff" || ext == ".webp";
}

// Runs of digits compare by value (leading zeros ignored, then the shorter run first), the rest
// byte by byte.
bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
        const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
        if (da && db) {
            size_t ie = i, je = j;
            while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
            while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
            size_t is = i, js = j;
            while (is + 1 < ie && a[is] == '0') ++is;
            while (js + 1 < je && b[js] == '0') ++js;
            if (ie - is != je - js) return ie - is < je - js;
            const int c = a.compare(is, ie - is, b, js, je - js);
            if (c != 0) return c < 0;
            if (ie - i != je - j) return ie - i < je - j;  // "01" after "1"
            i = ie;
            j = je;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

// The decoded size from the header alone (EXIF rotations by 90° swap it); empty if unknown.
cv::Size header_size(const std::string& path) {
    QImageReader reader(QString::fromStdString(path));
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (!size.isValid()) return {};
    if (reader.transformation() & QImageIOHandler::TransformationRotate90)
        return {size.height(), size.width()};
    return {size.width(), size.height()};
}

class FolderFrames : public FrameReader {
  public:
    FolderFrames(std::filesystem::path folder, std::vector<std::string> names)
        : folder_(std::move(folder)), names_(std::move(names)) {}

    Result<cv::Mat> read(int64_t index) override {
        return io::read_rgb_image((folder_ / names_[static_cast<size_t>(index)]).string());
    }
    std::vector<std::string> names() const override { return names_; }

  private:
    std::filesystem::path folder_;
    std::vector<std::string> names_;
};

}  // namespace

Result<OpenedFrames> open_frame_folder(const std::string& path) {
    const std::filesystem::path folder(path);
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
        std::error_code file_ec;
        if (entry.is_regular_file(file_ec) && is_frame_file(entry.path()))
            names.push_back(entry.path().filename().string());
    }
    if (ec) return make_error(ErrorKind::Io, path + ": cannot list the folder: " + ec.message());
    if (names.empty()) {
        return make_error(ErrorKind::InvalidArgument,
                          path + ": no image frames (png, jpg, jpeg, bmp, tif, tiff, webp)");
    }
    std::sort(names.begin(), names.end(), natural_less);
    // The first frame decoded (a broken first file fails here); the others' sizes from their
    // headers, so that a wrong-sized frame is named now rather than midway through tracking.
    auto first = io::read_rgb_image((folder / names.front()).string());
    if (!first) return first.error();
    for (size_t i = 1; i < names.size(); ++i) {
        const cv::Size size = header_size((folder / names[i]).string());
        if (!size.empty() && size != first->size()) {
            return make_error(ErrorKind::InvalidArgument,
                              (folder / names[i]).string() + ": frame is " +
                                  std::to_string(size.width) + "x" + std::to_string(size.height) +
                                  ", " + names.front() + " is " + std::to_string(first->cols) +
                                  "x" + std::to_string(first->rows));
        }
    }
    OpenedFrames out;
    out.info.frames = static_cast<int64_t>(names.size());
    out.info.width = first->cols;
    out.info.height = first->rows;
    out.info.label = folder.filename().empty() ? folder.parent_path().filename().string()
                                               : folder.filename().string();
    out.reader = std::make_unique<FolderFrames>(folder, std::move(names));
    return out;
}

}  // namespace ps::video
