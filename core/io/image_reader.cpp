// Image files to 8-bit RGB matrices through Qt's image plugins, with size guards.
#include "io/image_reader.h"

#include <QBuffer>
#include <QByteArray>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QString>
#include <QtEndian>
#include <QtGlobal>

#include <opencv2/core.hpp>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <optional>

namespace ps::io {
namespace {

constexpr long long kBytesPerMegabyte = 1024LL * 1024;
// The widest format Qt's decoders produce for the formats we read: 16-bit PNG decodes to
// RGBX64/RGBA64. Budgeting 4 bytes a pixel would refuse 16-bit images between half of
// max_pixels and max_pixels after our own header check had let them through.
constexpr long long kDecodedBytesPerPixel = 8;
// Far above any real limit; keeps max_pixels * kDecodedBytesPerPixel from overflowing.
constexpr long long kMaxPixelsSetting = 1000LL * 1000 * 1000 * 1000;

std::string format_size(long long bytes) {
    if (bytes < kBytesPerMegabyte / 10) return std::to_string(bytes) + " bytes";
    return QString::number(static_cast<double>(bytes) / kBytesPerMegabyte, 'f', 1).toStdString() +
           " MB";
}

std::string format_megapixels(long long pixels) {
    if (pixels < 100 * 1000) return std::to_string(pixels) + " pixels";
    return QString::number(static_cast<double>(pixels) / 1e6, 'f', 1).toStdString() + " megapixels";
}

// A positive whole number from the environment, or nothing (with a warning when set but invalid).
std::optional<long long> positive_env_number(const char* name, long long max, const char* unit,
                                             long long fallback) {
    const QByteArray raw = qgetenv(name).trimmed();
    if (raw.isEmpty()) return std::nullopt;
    bool ok = false;
    const long long value = raw.toLongLong(&ok);
    if (ok && value > 0 && value <= max) return value;
    qWarning("%s=%s ignored: expected a positive whole number of %s; using %lld", name,
             raw.constData(), unit, fallback);
    return std::nullopt;
}

// Qt's allocation limit is process-wide and read by every decoding thread, so it is written only
// when it changes: threads that decode with the same options (the engine's) never write it.
void apply_allocation_limit(long long max_pixels) {
    // Qt rounds each request to the nearest megabyte; +1 keeps an image of exactly max_pixels in.
    const long long megabytes = max_pixels * kDecodedBytesPerPixel / kBytesPerMegabyte + 1;
    const int limit = static_cast<int>(std::min<long long>(megabytes, INT_MAX));
    static std::mutex mutex;
    const std::lock_guard<std::mutex> lock(mutex);
    if (QImageReader::allocationLimit() != limit) QImageReader::setAllocationLimit(limit);
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

enum class Ending { Complete, Truncated, Unknown };

uchar byte_at(const QByteArray& data, qsizetype pos) {
    return static_cast<uchar>(data[pos]);
}

// Walks the JPEG's marker segments to the first EOI (FF D9). Qt's JPEG plugin decodes a cut-off
// file with grey fill and reports success, so a missing EOI is the only sign. Walking, rather
// than looking at the last bytes, accepts what phones append after EOI (Samsung trailers, motion
// photo videos, zero padding) and is not fooled by an EXIF thumbnail's own EOI. Structure it
// does not understand is left for libjpeg to judge.
Ending jpeg_ending(const QByteArray& data) {
    const qsizetype size = data.size();
    qsizetype pos = 2;  // after SOI
    while (true) {
        if (pos >= size) return Ending::Truncated;
        if (byte_at(data, pos) != 0xff) return Ending::Unknown;
        while (pos < size && byte_at(data, pos) == 0xff) ++pos;  // fill bytes
        if (pos >= size) return Ending::Truncated;
        const uchar marker = byte_at(data, pos++);
        if (marker == 0xd9) return Ending::Complete;
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // no length field
        if (marker == 0x00) return Ending::Unknown;
        if (pos + 2 > size) return Ending::Truncated;
        const int length = (byte_at(data, pos) << 8) | byte_at(data, pos + 1);
        if (length < 2) return Ending::Unknown;
        pos += length;
        if (marker != 0xda) continue;
        // Entropy-coded data after SOS: FF is stuffed as FF 00, and restart markers (FF D0..D7)
        // belong to it; any other FF xx is the next marker.
        while (true) {
            if (pos >= size) return Ending::Truncated;
            const void* found = std::memchr(data.constData() + pos, 0xff, size - pos);
            if (found == nullptr) return Ending::Truncated;
            pos = static_cast<const char*>(found) - data.constData();
            if (pos + 1 >= size) return Ending::Truncated;
            const uchar next = byte_at(data, pos + 1);
            if (next == 0x00 || (next >= 0xd0 && next <= 0xd7)) {
                pos += 2;
            } else if (next == 0xff) {
                pos += 1;
            } else {
                break;
            }
        }
    }
}

// Walks the PNG's chunks to IEND. Qt does refuse a cut-off PNG, but only as "Unable to read image
// data"; the walk names the problem.
Ending png_ending(const QByteArray& data) {
    const qsizetype size = data.size();
    qsizetype pos = 8;  // after the signature
    while (true) {
        if (pos + 8 > size) return Ending::Truncated;
        const quint32 length = qFromBigEndian<quint32>(data.constData() + pos);
        if (length > 0x7fffffffu) return Ending::Unknown;  // invalid per the PNG specification
        const qsizetype end = pos + 12 + static_cast<qsizetype>(length);
        if (end > size) return Ending::Truncated;
        if (std::memcmp(data.constData() + pos + 4, "IEND", 4) == 0) return Ending::Complete;
        pos = end;
    }
}

bool is_jpeg(const QByteArray& data) {
    return data.startsWith("\xff\xd8");
}
bool is_png(const QByteArray& data) {
    return data.startsWith("\x89PNG\r\n\x1a\n");
}

std::optional<Error> truncation_error(const std::string& path, const QByteArray& data) {
    if (is_jpeg(data) && jpeg_ending(data) == Ending::Truncated)
        return make_error(ErrorKind::Format, path + ": truncated JPEG (no end-of-image marker)");
    if (is_png(data) && png_ending(data) == Ending::Truncated)
        return make_error(ErrorKind::Format, path + ": truncated PNG (no IEND chunk)");
    return std::nullopt;
}

struct PluginFormat {
    const char* name;     // Qt's format key, as QImageReader::supportedImageFormats() lists it
    const char* package;  // the Debian package that installs its plugin
};

// Formats that Qt decodes through a plugin, recognised by their signature: without the plugin
// Qt cannot tell them from any other unknown bytes. PNG and BMP are built into Qt Gui.
std::optional<PluginFormat> plugin_format(const QByteArray& data) {
    constexpr const char* kImageFormats = "qt6-image-formats-plugins";
    if (data.startsWith("RIFF") && data.mid(8, 4) == "WEBP")
        return PluginFormat{"webp", kImageFormats};
    if (data.startsWith(QByteArray("II*\0", 4)) || data.startsWith(QByteArray("MM\0*", 4)))
        return PluginFormat{"tiff", kImageFormats};
    if (data.startsWith("GIF87a") || data.startsWith("GIF89a"))
        return PluginFormat{"gif", "libqt6gui6"};
    if (is_jpeg(data)) return PluginFormat{"jpeg", "libqt6gui6"};
    return std::nullopt;
}

// `format`: what the reader recognised before decoding; after a failed read it may not say.
Error decode_error(const std::string& path, const QImageReader& reader, const QByteArray& format,
                   const QByteArray& data) {
    const std::string reason = reader.errorString().toStdString();
    if (reader.error() == QImageReader::UnsupportedFormatError) {
        const auto known = plugin_format(data);
        if (known && !QImageReader::supportedImageFormats().contains(known->name))
            return make_error(ErrorKind::Unsupported,
                              path + ": cannot decode: Qt's " + known->name +
                                  " image plugin is not installed (Debian package " +
                                  known->package + ")");
        return make_error(ErrorKind::Unsupported,
                          path + ": cannot decode: unrecognised or unsupported image format");
    }
    if (!format.isEmpty() && reader.error() == QImageReader::InvalidDataError)
        return make_error(ErrorKind::Format, path + ": cannot decode " + format.toStdString() +
                                                 ", the file is corrupt: " + reason);
    return make_error(error_kind(reader.error()), path + ": cannot decode image: " + reason);
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

ImageReadOptions ImageReadOptions::from_environment() {
    ImageReadOptions options;
    if (const auto megabytes =
            positive_env_number("PHOTOSYNTH_MAX_FILE_MB", LLONG_MAX / kBytesPerMegabyte,
                                "megabytes", kDefaultMaxFileMegabytes))
        options.max_file_bytes = *megabytes * kBytesPerMegabyte;
    if (const auto pixels = positive_env_number("PHOTOSYNTH_MAX_PIXELS", kMaxPixelsSetting,
                                                "pixels", kDefaultMaxPixels))
        options.max_pixels = *pixels;
    return options;
}

Result<cv::Mat> read_rgb_image(const std::string& path, const ImageReadOptions& options) {
    if (options.max_file_bytes <= 0 || options.max_pixels <= 0 ||
        options.max_pixels > kMaxPixelsSetting)
        return make_error(ErrorKind::InvalidArgument,
                          path + ": invalid read limits (max_file_bytes " +
                              std::to_string(options.max_file_bytes) + ", max_pixels " +
                              std::to_string(options.max_pixels) + ")");
    const QString qpath = QString::fromStdString(path);
    const QFileInfo info(qpath);
    if (!info.exists()) return make_error(ErrorKind::Io, path + ": file not found");
    if (info.isDir())
        return make_error(ErrorKind::Io, path + ": is a directory, not an image file");
    if (!info.isFile()) return make_error(ErrorKind::Io, path + ": not a regular file");
    if (info.size() == 0) return make_error(ErrorKind::Format, path + ": file is empty");
    if (info.size() > options.max_file_bytes)
        return make_error(ErrorKind::Hostile, path + ": file is " + format_size(info.size()) +
                                                  ", over the limit of " +
                                                  format_size(options.max_file_bytes));

    // The whole file is read once: the truncation check needs all of it, and Qt then decodes from
    // memory. Reading one byte past the limit catches a file that grew since the check above.
    QFile file(qpath);
    if (!file.open(QIODevice::ReadOnly))
        return make_error(ErrorKind::Io,
                          path + ": cannot open: " + file.errorString().toStdString());
    QByteArray data = file.read(options.max_file_bytes + 1);
    if (data.size() > options.max_file_bytes)
        return make_error(ErrorKind::Hostile, path + ": file is over the limit of " +
                                                  format_size(options.max_file_bytes));
    if (data.isEmpty()) return make_error(ErrorKind::Format, path + ": file is empty");
    if (auto truncated = truncation_error(path, data)) return *truncated;

    QBuffer buffer(&data);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setDecideFormatFromContent(true);  // a PNG named .jpg is still a PNG
    reader.setAutoTransform(true);            // EXIF orientation
    // The header's size is checked first; Qt's allocation limit also covers formats whose
    // plugin cannot tell the size before decoding.
    apply_allocation_limit(options.max_pixels);

    const QByteArray format = reader.format().toUpper();
    const QSize header_size = reader.size();
    if (header_size.isValid() &&
        static_cast<long long>(header_size.width()) * header_size.height() > options.max_pixels)
        return pixel_limit_error(path, header_size, options.max_pixels);

    QImage decoded;
    if (!reader.read(&decoded) || decoded.isNull()) return decode_error(path, reader, format, data);
    if (static_cast<long long>(decoded.width()) * decoded.height() > options.max_pixels)
        return pixel_limit_error(path, decoded.size(), options.max_pixels);
    return to_rgb_mat(decoded);
}

}  // namespace ps::io
