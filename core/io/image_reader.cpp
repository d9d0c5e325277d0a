// Image files to 8-bit RGB matrices and back, through Qt's image plugins, with size guards.
#include "io/image_reader.h"

#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QImageWriter>
#include <QSaveFile>
#include <QString>

#include <opencv2/core.hpp>

#include <algorithm>
#include <climits>
#include <cstring>

namespace ps::io {
namespace {

constexpr long long kBytesPerMegabyte = 1024LL * 1024;
// The widest format a Qt decoder commonly produces for 16-bit files (RGBA64).
constexpr long long kDecodedBytesPerPixel = 8;

std::string format_size(long long bytes) {
    if (bytes < kBytesPerMegabyte / 10) return std::to_string(bytes) + " bytes";
    return QString::number(static_cast<double>(bytes) / kBytesPerMegabyte, 'f', 1).toStdString() +
           " MB";
}

std::string format_megapixels(long long pixels) {
    return QString::number(static_cast<double>(pixels) / 1e6, 'f', 1).toStdString() + " megapixels";
}

ErrorKind error_kind(QImageReader::ImageReaderError error) {
    switch (error) {
        case QImageReader::FileNotFoundError:
        case QImageReader::DeviceError:
            return ErrorKind::Io;
        case QImageReader::UnsupportedFormatError:
            return ErrorKind::Unsupported;
        case QImageReader::InvalidDataError:
        case QImageReader::UnknownError:
            return ErrorKind::Format;
    }
    return ErrorKind::Format;
}

Error pixel_limit_error(const std::string& path, const QSize& size, long long max_pixels) {
    const long long pixels = static_cast<long long>(size.width()) * size.height();
    return make_error(ErrorKind::Hostile, path + ": image is " + std::to_string(size.width()) +
                                              "x" + std::to_string(size.height()) + " (" +
                                              format_megapixels(pixels) + "), over the limit of " +
                                              format_megapixels(max_pixels) +
                                              " (decompression bomb guard)");
}

// Qt converts straight-alpha images (8-, 16-bit, float, palette) to RGB888 by dropping alpha,
// without premultiplying, so a transparent pixel keeps its colour (measured on Qt 6.4; the
// RGBA rows of test_image_reader guard it). Premultiplied sources come back un-premultiplied.
cv::Mat to_rgb_mat(const QImage& decoded) {
    const QImage rgb = decoded.convertToFormat(QImage::Format_RGB888);
    cv::Mat out(rgb.height(), rgb.width(), CV_8UC3);
    const size_t row_bytes = static_cast<size_t>(rgb.width()) * 3;
    for (int y = 0; y < rgb.height(); ++y) std::memcpy(out.ptr(y), rgb.constScanLine(y), row_bytes);
    return out;
}

}  // namespace

Result<cv::Mat> read_rgb_image(const std::string& path, const ImageReadOptions& options) {
    const QString qpath = QString::fromStdString(path);
    const QFileInfo info(qpath);
    if (!info.exists()) return make_error(ErrorKind::Io, path + ": file not found");
    if (!info.isFile()) return make_error(ErrorKind::Io, path + ": not a regular file");
    if (info.size() == 0) return make_error(ErrorKind::Format, path + ": file is empty");
    if (info.size() > options.max_file_bytes)
        return make_error(ErrorKind::Hostile, path + ": file is " + format_size(info.size()) +
                                                  ", over the limit of " +
                                                  format_size(options.max_file_bytes));

    QImageReader reader(qpath);
    reader.setDecideFormatFromContent(true);  // a PNG named .jpg is still a PNG
    reader.setAutoTransform(true);            // EXIF orientation
    // The header's size is checked first; Qt's allocation limit also covers formats whose
    // plugin cannot tell the size before decoding.
    const long long limit_mb = (options.max_pixels / kBytesPerMegabyte + 1) * kDecodedBytesPerPixel;
    reader.setAllocationLimit(static_cast<int>(std::min<long long>(limit_mb, INT_MAX)));

    const QSize header_size = reader.size();
    if (header_size.isValid() &&
        static_cast<long long>(header_size.width()) * header_size.height() > options.max_pixels)
        return pixel_limit_error(path, header_size, options.max_pixels);

    QImage decoded;
    if (!reader.read(&decoded) || decoded.isNull()) {
        return make_error(error_kind(reader.error()),
                          path + ": cannot decode image: " + reader.errorString().toStdString());
    }
    if (static_cast<long long>(decoded.width()) * decoded.height() > options.max_pixels)
        return pixel_limit_error(path, decoded.size(), options.max_pixels);
    return to_rgb_mat(decoded);
}

Status write_png(const std::string& path, const cv::Mat& image) {
    if (image.empty() || image.dims != 2 || (image.type() != CV_8UC1 && image.type() != CV_8UC3))
        return make_error(ErrorKind::InvalidArgument,
                          path + ": cannot write " + cv::typeToString(image.type()) +
                              " image as PNG, expected a non-empty CV_8UC1 or CV_8UC3 (RGB) image");

    // Wraps the matrix's memory without copying; QImage honours the row stride.
    const QImage view(image.data, image.cols, image.rows, static_cast<qsizetype>(image.step[0]),
                      image.type() == CV_8UC1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);

    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly))
        return make_error(ErrorKind::Io,
                          path + ": cannot open for writing: " + file.errorString().toStdString());
    QImageWriter writer(&file, "png");
    if (!writer.write(view)) {
        file.cancelWriting();
        return make_error(ErrorKind::Io,
                          path + ": cannot write PNG: " + writer.errorString().toStdString());
    }
    if (!file.commit())
        return make_error(ErrorKind::Io,
                          path + ": cannot save: " + file.errorString().toStdString());
    return Ok{};
}

}  // namespace ps::io
