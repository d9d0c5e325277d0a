// Export files: PNG with alpha, written atomically through QSaveFile.
#include "io/export_writer.h"

#include <QImage>
#include <QImageWriter>
#include <QSaveFile>
#include <QString>

#include <opencv2/core.hpp>

namespace ps::io {

Status write_png_atomically(const std::string& path, const QImage& image) {
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly))
        return make_error(ErrorKind::Io,
                          path + ": cannot open for writing: " + file.errorString().toStdString());
    QImageWriter writer(&file, "png");
    if (!writer.write(image)) {
        file.cancelWriting();
        return make_error(ErrorKind::Io,
                          path + ": cannot write PNG: " + writer.errorString().toStdString());
    }
    if (!file.commit())
        return make_error(ErrorKind::Io,
                          path + ": cannot save: " + file.errorString().toStdString());
    return Ok{};
}

Status write_rgba_png(const std::string& path, const cv::Mat& rgba) {
    if (rgba.empty() || rgba.dims != 2 || rgba.type() != CV_8UC4)
        return make_error(ErrorKind::InvalidArgument,
                          path + ": cannot write " + cv::typeToString(rgba.type()) +
                              " image as RGBA PNG, expected a non-empty CV_8UC4 image");
    // Wraps the matrix's memory without copying. Format_RGBA8888 (not the _Premultiplied one)
    // is straight alpha, what PNG stores, so Qt writes the bytes without converting them.
    const QImage view(rgba.data, rgba.cols, rgba.rows, static_cast<qsizetype>(rgba.step[0]),
                      QImage::Format_RGBA8888);
    return write_png_atomically(path, view);
}

}  // namespace ps::io
