// PNG export: encoded in memory by Qt's PNG plugin, then written with io::atomic_write.
#include "io/image_writer.h"

#include <QBuffer>
#include <QByteArray>
#include <QImage>
#include <QImageWriter>

#include <opencv2/core.hpp>

#include <string_view>

#include "io/atomic_file.h"

namespace ps::io {
namespace {

// QImage's default density is the screen's (96 dpi offscreen, other values on a desktop) in a
// GUI process and 100 dpi without one, and PNG stores it (pHYs): a fixed one makes the same
// pixels the same file in the app and the CLI. 3937 dots/m = 100 dpi, what the CLI always wrote.
void set_export_density(QImage& image) {
    image.setDotsPerMeterX(3937);
    image.setDotsPerMeterY(3937);
}

QImage::Format qt_format(int type) {
    switch (type) {
        case CV_8UC1:
            return QImage::Format_Grayscale8;
        case CV_8UC3:
            return QImage::Format_RGB888;
        // Format_RGBA8888 (not the _Premultiplied one) is straight alpha, what PNG stores, so
        // Qt writes the bytes without converting them.
        default:
            return QImage::Format_RGBA8888;
    }
}

}  // namespace

Result<std::string> encode_png(const cv::Mat& image, const std::string& label) {
    const int type = image.type();
    if (image.empty() || image.dims != 2 || (type != CV_8UC1 && type != CV_8UC3 && type != CV_8UC4))
        return make_error(ErrorKind::InvalidArgument,
                          label + ": cannot write " + cv::typeToString(type) +
                              " image as PNG, expected a non-empty CV_8UC1, CV_8UC3 (RGB) or "
                              "CV_8UC4 (RGBA) image");
    // Wraps the matrix's memory without copying; QImage honours the row stride.
    QImage view(image.data, image.cols, image.rows, static_cast<qsizetype>(image.step[0]),
                qt_format(type));
    set_export_density(view);
    QByteArray encoded;
    QBuffer buffer(&encoded);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "png");
    if (!writer.write(view))
        return make_error(ErrorKind::Io,
                          label + ": cannot write PNG: " + writer.errorString().toStdString());
    return encoded.toStdString();
}

namespace {

Status write_encoded(const std::string& path, const cv::Mat& image) {
    auto bytes = encode_png(image, path);
    if (!bytes) return bytes.error();
    return atomic_write(path, *bytes);
}

}  // namespace

Status write_png(const std::string& path, const cv::Mat& image) {
    if (image.empty() || image.dims != 2 || (image.type() != CV_8UC1 && image.type() != CV_8UC3))
        return make_error(ErrorKind::InvalidArgument,
                          path + ": cannot write " + cv::typeToString(image.type()) +
                              " image as PNG, expected a non-empty CV_8UC1 or CV_8UC3 (RGB) image");
    return write_encoded(path, image);
}

Status write_rgba_png(const std::string& path, const cv::Mat& rgba) {
    if (rgba.empty() || rgba.dims != 2 || rgba.type() != CV_8UC4)
        return make_error(ErrorKind::InvalidArgument,
                          path + ": cannot write " + cv::typeToString(rgba.type()) +
                              " image as RGBA PNG, expected a non-empty CV_8UC4 image");
    return write_encoded(path, rgba);
}

}  // namespace ps::io
