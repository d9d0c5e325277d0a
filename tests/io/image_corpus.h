// Generates the image-reader test corpus: good files in every colour layout and bad files of
// every kind, each with the outcome read_rgb_image must give.
#pragma once

#include <QBuffer>
#include <QByteArray>
#include <QColor>
#include <QImage>
#include <QImageWriter>
#include <QList>
#include <QMetaType>
#include <QPair>
#include <QPoint>
#include <QRandomGenerator>
#include <QSize>
#include <QString>
#include <QStringList>
#include <QtEndian>

#include <initializer_list>
#include <optional>

#include "common/result.h"

namespace corpus {

// Sets (or unsets, with nullopt) an environment variable for one scope and restores it after, so
// that tests stay independent of their order.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, std::optional<QByteArray> value)
        : name_(name),
          previous_(qEnvironmentVariableIsSet(name) ? std::optional<QByteArray>(qgetenv(name))
                                                    : std::nullopt) {
        set(value);
    }
    ~ScopedEnv() { set(previous_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    void set(const std::optional<QByteArray>& value) {
        if (value) {
            qputenv(name_, *value);
        } else {
            qunsetenv(name_);
        }
    }
    const char* name_;
    std::optional<QByteArray> previous_;
};

inline QByteArray encode(const QImage& image, const char* format, int quality = -1) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, format);
    writer.setQuality(quality);
    if (!writer.write(image))
        qWarning("cannot encode %s: %s", format, qPrintable(writer.errorString()));
    return bytes;
}

inline QByteArray bytes_of(std::initializer_list<int> values) {
    QByteArray bytes;
    for (int v : values) bytes.append(char(v));
    return bytes;
}

// A 16-bit value whose 8-bit conversion is exactly v.
inline quint16 wide(int v) {
    return quint16(v * 257);
}

inline QImage filled(int width, int height, QImage::Format format, const QList<QColor>& colors) {
    QImage image(width, height, format);
    for (int i = 0; i < width * height; ++i) image.setPixelColor(i % width, i / width, colors[i]);
    return image;
}

// IHDR follows the 8-byte signature and the chunk's length and type: width, height, bit depth,
// colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA).
inline int png_bit_depth(const QByteArray& png) {
    return png.size() > 25 ? uchar(png[24]) : -1;
}
inline int png_color_type(const QByteArray& png) {
    return png.size() > 25 ? uchar(png[25]) : -1;
}

// One chunk: length, type, data, CRC-32 of type and data as the PNG specification gives it.
inline QByteArray png_chunk(const char* type, const QByteArray& data) {
    const QByteArray typed = QByteArray(type, 4) + data;
    quint32 crc = 0xffffffffu;
    for (char c : typed) {
        crc ^= uchar(c);
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    QByteArray chunk(4, 0);
    qToBigEndian(quint32(data.size()), chunk.data());
    chunk += typed;
    QByteArray crc_bytes(4, 0);
    qToBigEndian(crc ^ 0xffffffffu, crc_bytes.data());
    return chunk + crc_bytes;
}

// A PNG written by hand, for layouts Qt's writer never produces (grey+alpha) and for headers that
// lie. `rows`: filter byte 0 then the raw samples of each row; may be short of what IHDR claims.
inline QByteArray png_file(quint32 width, quint32 height, int bit_depth, int color_type,
                           const QByteArray& rows) {
    QByteArray header(13, 0);
    qToBigEndian(width, header.data());
    qToBigEndian(height, header.data() + 4);
    header[8] = char(bit_depth);
    header[9] = char(color_type);
    // qCompress gives a zlib stream behind a 4-byte length that PNG does not want.
    return QByteArray("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", header) +
           png_chunk("IDAT", qCompress(rows).mid(4)) + png_chunk("IEND", {});
}

// A JPEG APP1 segment holding a big-endian TIFF header, one IFD entry (Orientation 0x0112, SHORT,
// count 1) and, after the IFD, `trailing` bytes such as a thumbnail.
inline QByteArray exif_segment(int orientation, const QByteArray& trailing = {}) {
    const QByteArray payload = QByteArray("Exif\0\0", 6) +
                               QByteArray::fromHex(
                                   "4d4d002a00000008"  // "MM", 42, IFD at 8
                                   "0001"              // one entry
                                   "011200030000000100") +
                               char(orientation) + QByteArray::fromHex("000000000000") + trailing;
    const int length = payload.size() + 2;
    return QByteArray::fromHex("ffe1") + char(length >> 8) + char(length & 0xff) + payload;
}

inline QByteArray with_exif(QByteArray jpeg, int orientation, const QByteArray& trailing = {}) {
    return jpeg.insert(2, exif_segment(orientation, trailing));
}

// 16x16 solid CMYK (51, 102, 204, 51) = (20%, 40%, 80%, 20%), made once with Pillow 9.4:
//   Image.new("CMYK", (16, 16), (51, 102, 204, 51)).save(f, "JPEG", quality=95)
// Neither Qt 6.4 nor OpenCV can write CMYK. Pillow stores it inverted with an Adobe APP14
// marker (ffee ... "Adobe"), as Photoshop does; right: RGB = 255 (1 - C)(1 - K) = (163, 122, 41);
// read as non-inverted it would be near (92, 133, 214).
inline QByteArray cmyk_jpeg() {
    return QByteArray::fromHex(
        "ffd8ffee000e41646f626500640000000000ffdb004300020101010101020101010202020202040302020202"
        "0504040304060506060605060606070908060709070606080b08090a0a0a0a0a06080b0c0b0a0c090a0a0aff"
        "c000140800100010044311004d11005911004b1100ffc4001f00000105010101010101000000000000000001"
        "02030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613"
        "516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a"
        "434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495"
        "969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3"
        "e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda000e0443004d0059004b00003f00fd30af64afccbafd30a28a"
        "28a28a28a28a28afffd9");
}

struct Probe {
    QPoint at;
    QColor rgb;
    int tolerance = 0;  // per channel
};

// One file of the corpus and what reading it must give: the size and probed pixels when `size`
// is valid, else an error whose message holds the file name and every fragment.
struct File {
    enum class Setup { Write, Directory, Missing };
    QString tag;
    QString name;
    QByteArray content;
    Setup setup = Setup::Write;
    QList<QPair<QByteArray, QByteArray>> env;  // set while reading
    int png_bit_depth = -1;                    // guards the generator: what Qt wrote
    int png_color_type = -1;
    QSize size;
    QList<Probe> probes;
    QStringList fragments;
    ps::ErrorKind kind = ps::ErrorKind::Runtime;
};

inline File loads(const char* tag, const QString& name, const QByteArray& content, QSize size,
                  const QList<Probe>& probes) {
    File file{tag, name, content};
    file.size = size;
    file.probes = probes;
    return file;
}

inline File fails(const char* tag, const QString& name, const QByteArray& content,
                  const QStringList& fragments, ps::ErrorKind kind) {
    File file{tag, name, content};
    file.fragments = fragments;
    file.kind = kind;
    return file;
}

inline File png_loads(const char* tag, const QByteArray& png, int bit_depth, int color_type,
                      int width, int height, const QByteArray& rgb) {
    QList<Probe> every_pixel;  // lossless: every pixel exact
    for (int i = 0; i < width * height; ++i)
        every_pixel << Probe{
            {i % width, i / width},
            QColor(uchar(rgb[3 * i]), uchar(rgb[3 * i + 1]), uchar(rgb[3 * i + 2]))};
    File file = loads(tag, QString(tag).replace(' ', '_').remove(',') + ".png", png,
                      QSize(width, height), every_pixel);
    file.png_bit_depth = bit_depth;
    file.png_color_type = color_type;
    return file;
}

// The lossless rows: every colour layout a PNG can have, 3x2 pixels, exact values.
inline QList<File> png_layouts() {
    const QByteArray rgb =
        bytes_of({255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 128, 64, 32, 250, 251, 252});
    QList<QColor> opaque;
    for (int i = 0; i < 6; ++i)
        opaque << QColor(uchar(rgb[3 * i]), uchar(rgb[3 * i + 1]), uchar(rgb[3 * i + 2]));
    const int levels[] = {0, 1, 77, 128, 254, 255};
    const QByteArray grey_rgb =
        bytes_of({0, 0, 0, 1, 1, 1, 77, 77, 77, 128, 128, 128, 254, 254, 254, 255, 255, 255});
    const QList<QColor> translucent = {QColor(200, 100, 50, 0),    QColor(10, 20, 30, 128),
                                       QColor(255, 255, 255, 255), QColor(0, 0, 0, 0),
                                       QColor(90, 91, 92, 1),      QColor(3, 4, 5, 254)};
    const QByteArray translucent_rgb =
        bytes_of({200, 100, 50, 10, 20, 30, 255, 255, 255, 0, 0, 0, 90, 91, 92, 3, 4, 5});

    QImage grey(3, 2, QImage::Format_Grayscale8), grey16(3, 2, QImage::Format_Grayscale16);
    for (int i = 0; i < 6; ++i) {
        grey.scanLine(i / 3)[i % 3] = uchar(levels[i]);
        reinterpret_cast<quint16*>(grey16.scanLine(i / 3))[i % 3] = wide(levels[i]);
    }
    // A transparent palette entry keeps its colour: alpha is dropped, not composited.
    QImage palette(3, 2, QImage::Format_Indexed8);
    palette.setColorTable({qRgb(200, 10, 20), qRgb(5, 150, 250), qRgba(40, 80, 120, 0)});
    const int indices[] = {0, 1, 2, 2, 1, 0};
    for (int i = 0; i < 6; ++i) palette.scanLine(i / 3)[i % 3] = uchar(indices[i]);
    QImage rgb16(3, 2, QImage::Format_RGBX64), rgba16(3, 2, QImage::Format_RGBA64);
    for (int i = 0; i < 6; ++i) {
        const QColor o = opaque[i], t = translucent[i];
        rgb16.setPixelColor(
            i % 3, i / 3,
            QColor(QRgba64::fromRgba64(wide(o.red()), wide(o.green()), wide(o.blue()), 65535)));
        rgba16.setPixelColor(i % 3, i / 3,
                             QColor(QRgba64::fromRgba64(wide(t.red()), wide(t.green()),
                                                        wide(t.blue()), wide(t.alpha()))));
    }
    // Qt writes no grey+alpha PNG, so that one is written by hand: (grey, alpha) pairs.
    const QByteArray grey_alpha_rows =
        bytes_of({0, 0, 0, 1, 255, 77, 128, /* row 2 */ 0, 128, 1, 254, 0, 255, 255});

    return {
        png_loads("rgb 8-bit", encode(filled(3, 2, QImage::Format_RGB888, opaque), "png"), 8, 2, 3,
                  2, rgb),
        png_loads("grey 8-bit", encode(grey, "png"), 8, 0, 3, 2, grey_rgb),
        png_loads("indexed with transparency", encode(palette, "png"), 8, 3, 3, 2,
                  bytes_of({200, 10, 20, 5, 150, 250, 40, 80, 120, 40, 80, 120, 5, 150, 250, 200,
                            10, 20})),
        png_loads("rgba 8-bit, not premultiplied",
                  encode(filled(3, 2, QImage::Format_ARGB32, translucent), "png"), 8, 6, 3, 2,
                  translucent_rgb),
        png_loads("grey+alpha 8-bit", png_file(3, 2, 8, 4, grey_alpha_rows), 8, 4, 3, 2, grey_rgb),
        png_loads("grey 16-bit", encode(grey16, "png"), 16, 0, 3, 2, grey_rgb),
        png_loads("rgb 16-bit", encode(rgb16, "png"), 16, 2, 3, 2, rgb),
        png_loads("rgba 16-bit, not premultiplied", encode(rgba16, "png"), 16, 6, 3, 2,
                  translucent_rgb),
    };
}

// 48 x 32 with a red top-left, green top-right and blue bottom-left 16 x 16 block on grey; the
// blocks align with JPEG's chroma subsampling so that their colours stay flat.
inline QByteArray corners_jpeg() {
    QImage stored(48, 32, QImage::Format_RGB888);
    stored.fill(QColor(128, 128, 128));
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
            stored.setPixelColor(x, y, Qt::red);
            stored.setPixelColor(32 + x, y, Qt::green);
            stored.setPixelColor(x, 16 + y, Qt::blue);
        }
    return encode(stored, "jpeg", 100);
}

// The corner pixels of a displayed image, clockwise from top-left, within JPEG's error.
inline QList<Probe> corners(QSize size, const QList<QColor>& clockwise) {
    const int right = size.width() - 1, bottom = size.height() - 1;
    return {{{0, 0}, clockwise[0], 8},
            {{right, 0}, clockwise[1], 8},
            {{right, bottom}, clockwise[2], 8},
            {{0, bottom}, clockwise[3], 8}};
}

// JPEG rows: orientation, CMYK, what phones append after the image, and cut-off files.
inline QList<File> jpegs() {
    const QColor red(255, 0, 0), green(0, 255, 0), blue(0, 0, 255), grey(128, 128, 128);
    const QByteArray jpeg = corners_jpeg();
    const QSize landscape(48, 32), portrait(32, 48);
    // A noisy photo, so that a cut lands in the entropy-coded data, not the headers.
    QImage noise(64, 64, QImage::Format_RGB888);
    QRandomGenerator rng(1234);
    for (int y = 0; y < noise.height(); ++y)
        rng.fillRange(reinterpret_cast<quint32*>(noise.scanLine(y)), 48);
    const QByteArray photo = encode(noise, "jpeg", 90);
    const qsizetype cut = photo.size() * 6 / 10;
    const QByteArray no_eoi = "truncated JPEG (no end-of-image marker)";

    const QByteArray with_thumbnail = with_exif(photo, 1, jpeg);
    QByteArray motion_trailer = QByteArray::fromHex("00000018667479706d703432");  // MP4 "ftyp"
    motion_trailer += QByteArray(2000, '\x5a');
    return {
        loads("jpeg, no orientation", "upright.jpg", jpeg, landscape,
              corners(landscape, {red, green, grey, blue})),
        // 6: rotate 90 degrees clockwise to display; stored (x, y) shows at (H - 1 - y, x).
        loads("jpeg, exif orientation 6", "rotated_6.jpg", with_exif(jpeg, 6), portrait,
              corners(portrait, {blue, red, green, grey})),
        // 8: rotate 90 degrees anticlockwise; stored (x, y) shows at (y, W - 1 - x).
        loads("jpeg, exif orientation 8", "rotated_8.jpg", with_exif(jpeg, 8), portrait,
              corners(portrait, {green, grey, blue, red})),
        loads("jpeg, exif orientation 3", "rotated_3.jpg", with_exif(jpeg, 3), landscape,
              corners(landscape, {grey, blue, red, green})),
        loads("cmyk jpeg, adobe inverted", "cmyk.jpg", cmyk_jpeg(), QSize(16, 16),
              {{{8, 8}, QColor(163, 122, 41), 8}, {{0, 15}, QColor(163, 122, 41), 8}}),
        loads("jpeg, zero padding after EOI", "padded.jpg", jpeg + QByteArray(512, 0) + "\r\n",
              landscape, corners(landscape, {red, green, grey, blue})),
        loads("jpeg, motion-photo video after EOI", "motion.jpg", jpeg + motion_trailer, landscape,
              corners(landscape, {red, green, grey, blue})),
        fails("truncated jpeg", "truncated.jpg", photo.left(cut), {no_eoi}, ps::ErrorKind::Format),
        // As a card that lost power leaves it: the right length, zeros after the cut.
        fails("truncated jpeg, zero-filled", "zero_filled.jpg",
              photo.left(cut) + QByteArray(photo.size() - cut, 0), {no_eoi}, ps::ErrorKind::Format),
        // The thumbnail's own EOI must not count as the image's.
        fails("truncated jpeg with exif thumbnail", "thumbnail.jpg",
              with_thumbnail.left(with_thumbnail.size() - (photo.size() - cut)), {no_eoi},
              ps::ErrorKind::Format),
    };
}

// Files that are not images, not whole, or too big, and a PNG named .jpg (decided by content).
inline QList<File> other_files() {
    QImage noise(64, 64, QImage::Format_RGB888);
    QRandomGenerator rng(99);
    for (int y = 0; y < noise.height(); ++y)
        rng.fillRange(reinterpret_cast<quint32*>(noise.scanLine(y)), 48);
    const QByteArray png = encode(noise, "png");
    QByteArray bad_crc = png;
    bad_crc[bad_crc.indexOf("IDAT") + 100] = char(bad_crc[bad_crc.indexOf("IDAT") + 100] ^ 0x40);
    QByteArray random_bytes(4096, 0);
    rng.fillRange(reinterpret_cast<quint32*>(random_bytes.data()), random_bytes.size() / 4);
    QImage small(4, 3, QImage::Format_RGB888);
    small.fill(QColor(9, 8, 7));
    const QByteArray small_png = encode(small, "png");

    // A valid image padded to 2 MB: only the file-size limit can refuse it.
    File too_big = fails("over PHOTOSYNTH_MAX_FILE_MB", "big.png",
                         small_png + QByteArray(2 * 1024 * 1024 - small_png.size(), 0),
                         {"file is 2.0 MB, over the limit of 1.0 MB"}, ps::ErrorKind::Hostile);
    too_big.env = {{"PHOTOSYNTH_MAX_FILE_MB", "1"}};
    File too_many_pixels =
        fails("over PHOTOSYNTH_MAX_PIXELS", "many_pixels.png", png,
              {"64x64 (4096 pixels), over the limit of 4095 pixels"}, ps::ErrorKind::Hostile);
    too_many_pixels.env = {{"PHOTOSYNTH_MAX_PIXELS", "4095"}};
    File directory = fails("directory", "folder.png", {}, {"is a directory"}, ps::ErrorKind::Io);
    directory.setup = File::Setup::Directory;
    File missing = fails("nonexistent", "missing.png", {}, {"file not found"}, ps::ErrorKind::Io);
    missing.setup = File::Setup::Missing;

    return {
        loads("png named .jpg", "actually_a_png.jpg", small_png, QSize(4, 3),
              {{{3, 2}, QColor(9, 8, 7)}}),
        fails("zero bytes", "empty.png", {}, {"file is empty"}, ps::ErrorKind::Format),
        fails("truncated png", "truncated.png", png.left(png.size() / 2),
              {"truncated PNG (no IEND chunk)"}, ps::ErrorKind::Format),
        fails("png with a bad IDAT checksum", "bad_crc.png", bad_crc, {"PNG, the file is corrupt"},
              ps::ErrorKind::Format),
        fails("text renamed .png", "notes.png", "just some text\n",
              {"unrecognised or unsupported image format"}, ps::ErrorKind::Unsupported),
        fails("random bytes", "noise.png", random_bytes,
              {"unrecognised or unsupported image format"}, ps::ErrorKind::Unsupported),
        // A complete, valid-looking 100000 x 100000 PNG of 100 bytes: refused on its header,
        // before the 40 GB it claims could be allocated.
        fails("png header claims 100000x100000", "claims_huge.png",
              png_file(100000, 100000, 8, 2, QByteArray(100, 0)),
              {"100000x100000 (10000.0 megapixels)", "over the limit of 300.0 megapixels"},
              ps::ErrorKind::Hostile),
        too_many_pixels,
        too_big,
        directory,
        missing,
    };
}

inline QList<File> all_files() {
    return png_layouts() + jpegs() + other_files();
}

}  // namespace corpus

Q_DECLARE_METATYPE(corpus::File)
