// Image decoding to RGB (formats, EXIF orientation, hostile and broken files) and PNG writing.
#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QImageWriter>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

#include <opencv2/core.hpp>

#include "golden_dir.h"
#include "io/image_reader.h"

namespace {

// The matrix's pixels, row by row, without padding.
QByteArray pixel_bytes(const cv::Mat& image) {
    QByteArray bytes;
    for (int y = 0; y < image.rows; ++y)
        bytes.append(reinterpret_cast<const char*>(image.ptr(y)),
                     static_cast<qsizetype>(image.cols * image.elemSize()));
    return bytes;
}

QByteArray encode(const QImage& image, const char* format, int quality = -1) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, format);
    writer.setQuality(quality);
    if (!writer.write(image))
        qWarning("cannot encode %s: %s", format, qPrintable(writer.errorString()));
    return bytes;
}

bool write_file(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// IHDR follows the 8-byte signature and the chunk's length and type: width, height, bit depth,
// colour type (0 grey, 2 RGB, 3 palette, 6 RGBA).
int png_bit_depth(const QByteArray& png) {
    return png.size() > 25 ? uchar(png[24]) : -1;
}
int png_color_type(const QByteArray& png) {
    return png.size() > 25 ? uchar(png[25]) : -1;
}

// The PNG with its IHDR claiming another size, CRC fixed so that libpng believes it.
QByteArray with_claimed_size(QByteArray png, quint32 width, quint32 height) {
    qToBigEndian(width, png.data() + 16);
    qToBigEndian(height, png.data() + 20);
    quint32 crc = 0xffffffffu;  // CRC-32 of the chunk type and data, as PNG specifies
    for (int i = 12; i < 29; ++i) {
        crc ^= uchar(png[i]);
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    qToBigEndian(crc ^ 0xffffffffu, png.data() + 29);
    return png;
}

QByteArray rgb_bytes(std::initializer_list<int> values) {
    QByteArray bytes;
    for (int v : values) bytes.append(char(v));
    return bytes;
}

// A 16-bit value whose 8-bit conversion is exactly v.
quint16 wide(int v) {
    return quint16(v * 257);
}

// A JPEG APP1 segment holding a big-endian TIFF header and one IFD entry: Orientation (0x0112),
// type SHORT, count 1.
QByteArray exif_orientation_segment(int orientation) {
    const QByteArray payload = QByteArray("Exif\0\0", 6) +
                               QByteArray::fromHex(
                                   "4d4d002a00000008"  // "MM", 42, IFD at 8
                                   "0001"              // one entry
                                   "011200030000000100") +
                               char(orientation) +
                               QByteArray::fromHex(
                                   "0000"
                                   "00000000");
    const int length = payload.size() + 2;
    return QByteArray::fromHex("ffe1") + char(length >> 8) + char(length & 0xff) + payload;
}

QImage filled(int width, int height, QImage::Format format, const QList<QColor>& colors) {
    QImage image(width, height, format);
    for (int i = 0; i < width * height; ++i) image.setPixelColor(i % width, i / width, colors[i]);
    return image;
}

}  // namespace

class TestImageReader : public QObject {
    Q_OBJECT

  private:
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

  private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void decodes_png_to_rgb_data() {
        QTest::addColumn<QImage>("image");
        QTest::addColumn<int>("bit_depth");
        QTest::addColumn<int>("color_type");
        QTest::addColumn<QByteArray>("expected");

        const QByteArray rgb =
            rgb_bytes({255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 128, 64, 32, 250, 251, 252});
        QList<QColor> opaque;
        for (int i = 0; i < 6; ++i)
            opaque << QColor(uchar(rgb[3 * i]), uchar(rgb[3 * i + 1]), uchar(rgb[3 * i + 2]));
        QTest::newRow("rgb 8-bit") << filled(3, 2, QImage::Format_RGB888, opaque) << 8 << 2 << rgb;

        QImage grey(3, 2, QImage::Format_Grayscale8);
        const int levels[] = {0, 1, 77, 128, 254, 255};
        for (int i = 0; i < 6; ++i) grey.scanLine(i / 3)[i % 3] = uchar(levels[i]);
        QTest::newRow("grey 8-bit") << grey << 8 << 0
                                    << rgb_bytes({0, 0, 0, 1, 1, 1, 77, 77, 77, 128, 128, 128, 254,
                                                  254, 254, 255, 255, 255});

        // A transparent palette entry keeps its colour: alpha is dropped, not composited.
        QImage palette(3, 2, QImage::Format_Indexed8);
        palette.setColorTable({qRgb(200, 10, 20), qRgb(5, 150, 250), qRgba(40, 80, 120, 0)});
        const int indices[] = {0, 1, 2, 2, 1, 0};
        for (int i = 0; i < 6; ++i) palette.scanLine(i / 3)[i % 3] = uchar(indices[i]);
        QTest::newRow("palette with transparency")
            << palette << 8 << 3
            << rgb_bytes(
                   {200, 10, 20, 5, 150, 250, 40, 80, 120, 40, 80, 120, 5, 150, 250, 200, 10, 20});

        const QList<QColor> translucent = {QColor(200, 100, 50, 0),    QColor(10, 20, 30, 128),
                                           QColor(255, 255, 255, 255), QColor(0, 0, 0, 0),
                                           QColor(90, 91, 92, 1),      QColor(3, 4, 5, 254)};
        const QByteArray translucent_rgb =
            rgb_bytes({200, 100, 50, 10, 20, 30, 255, 255, 255, 0, 0, 0, 90, 91, 92, 3, 4, 5});
        QTest::newRow("rgba 8-bit, not premultiplied")
            << filled(3, 2, QImage::Format_ARGB32, translucent) << 8 << 6 << translucent_rgb;

        QImage grey16(3, 2, QImage::Format_Grayscale16);
        for (int i = 0; i < 6; ++i)
            reinterpret_cast<quint16*>(grey16.scanLine(i / 3))[i % 3] = wide(levels[i]);
        QTest::newRow("grey 16-bit") << grey16 << 16 << 0
                                     << rgb_bytes({0, 0, 0, 1, 1, 1, 77, 77, 77, 128, 128, 128, 254,
                                                   254, 254, 255, 255, 255});

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
        QTest::newRow("rgb 16-bit") << rgb16 << 16 << 2 << rgb;
        QTest::newRow("rgba 16-bit, not premultiplied") << rgba16 << 16 << 6 << translucent_rgb;
    }
    void decodes_png_to_rgb() {
        QFETCH(QImage, image);
        QFETCH(int, bit_depth);
        QFETCH(int, color_type);
        QFETCH(QByteArray, expected);
        const QByteArray png = encode(image, "png");
        // Guards the test itself: Qt must have written the variant this row is about.
        QCOMPARE(png_bit_depth(png), bit_depth);
        QCOMPARE(png_color_type(png), color_type);
        const QString file = path(QString(QTest::currentDataTag()).replace(' ', '_') + ".png");
        QVERIFY(write_file(file, png));

        const auto decoded = ps::io::read_rgb_image(file.toStdString());
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(decoded->type(), CV_8UC3);
        QCOMPARE(decoded->cols, image.width());
        QCOMPARE(decoded->rows, image.height());
        QCOMPARE(pixel_bytes(decoded.value()), expected);
    }

    void golden_photo_decodes() {
        const auto decoded = ps::io::read_rgb_image(golden_path("images/coffee.png"));
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(decoded->cols, 600);
        QCOMPARE(decoded->rows, 400);
        QCOMPARE(decoded->type(), CV_8UC3);
    }

    void format_is_decided_by_content_not_extension() {
        QImage image(4, 3, QImage::Format_RGB888);
        image.fill(QColor(9, 8, 7));
        const QString file = path("actually_a_png.jpg");
        QVERIFY(write_file(file, encode(image, "png")));
        const auto decoded = ps::io::read_rgb_image(file.toStdString());
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(decoded->at<cv::Vec3b>(2, 3), cv::Vec3b(9, 8, 7));
    }

    // Orientation 6 means "rotate 90 degrees clockwise to display": a stored pixel (x, y) of a
    // W x H image shows at (H - 1 - y, x) of an H x W one.
    void jpeg_exif_orientation_is_applied() {
        // 48 x 32 in 16 x 16 blocks, so JPEG's chroma subsampling keeps the colours flat.
        QImage stored(48, 32, QImage::Format_RGB888);
        stored.fill(QColor(128, 128, 128));
        for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x) {
                stored.setPixelColor(x, y, QColor(255, 0, 0));       // top-left
                stored.setPixelColor(32 + x, y, QColor(0, 255, 0));  // top-right
            }
        QByteArray jpeg = encode(stored, "jpeg", 100);
        QVERIFY(jpeg.startsWith("\xff\xd8"));
        QVERIFY(!jpeg.contains("Exif"));
        jpeg.insert(2, exif_orientation_segment(6));
        const QString file = path("rotated.jpg");
        QVERIFY(write_file(file, jpeg));

        const auto decoded = ps::io::read_rgb_image(file.toStdString());
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(decoded->cols, 32);
        QCOMPARE(decoded->rows, 48);
        auto near = [&](int x, int y, cv::Vec3b expected) {
            const cv::Vec3b got = decoded->at<cv::Vec3b>(y, x);
            for (int c = 0; c < 3; ++c)
                if (std::abs(int(got[c]) - int(expected[c])) > 8) return false;
            return true;
        };
        QVERIFY2(near(31, 0, {255, 0, 0}), "stored top-left (red) should show top-right");
        QVERIFY2(near(31, 47, {0, 255, 0}), "stored top-right (green) should show bottom-right");
        QVERIFY2(near(0, 0, {128, 128, 128}), "stored bottom-left (grey) should show top-left");
    }

    void broken_or_hostile_file_is_an_error_data() {
        QTest::addColumn<QString>("file_name");
        QTest::addColumn<bool>("create");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<qlonglong>("max_file_bytes");
        QTest::addColumn<qlonglong>("max_pixels");
        QTest::addColumn<QString>("fragment");
        QTest::addColumn<int>("kind");

        const ps::io::ImageReadOptions defaults;
        QImage noise(64, 64, QImage::Format_RGB888);
        QRandomGenerator rng(1234);
        for (int y = 0; y < noise.height(); ++y)
            rng.fillRange(reinterpret_cast<quint32*>(noise.scanLine(y)), 48);
        const QByteArray png = encode(noise, "png");
        QByteArray random_bytes(4096, 0);
        rng.fillRange(reinterpret_cast<quint32*>(random_bytes.data()), random_bytes.size() / 4);

        auto row = [&](const char* tag, const QString& name, bool create, const QByteArray& content,
                       qlonglong max_bytes, qlonglong max_pixels, const QString& fragment,
                       ps::ErrorKind kind) {
            QTest::newRow(tag) << name << create << content << max_bytes << max_pixels << fragment
                               << int(kind);
        };
        row("empty file", "empty.png", true, {}, defaults.max_file_bytes, defaults.max_pixels,
            "empty", ps::ErrorKind::Format);
        row("truncated png", "truncated.png", true, png.left(png.size() / 2),
            defaults.max_file_bytes, defaults.max_pixels, "cannot decode", ps::ErrorKind::Format);
        row("random bytes", "noise.png", true, random_bytes, defaults.max_file_bytes,
            defaults.max_pixels, "cannot decode", ps::ErrorKind::Unsupported);
        row("text named jpg", "notes.jpg", true, "just some text\n", defaults.max_file_bytes,
            defaults.max_pixels, "cannot decode", ps::ErrorKind::Unsupported);
        row("nonexistent", "missing.png", false, {}, defaults.max_file_bytes, defaults.max_pixels,
            "not found", ps::ErrorKind::Io);
        row("over max_file_bytes", "big.png", true, png, 1000, defaults.max_pixels,
            "over the limit of 1000 bytes", ps::ErrorKind::Hostile);
        row("header claims 50000x50000", "claims_huge.png", true,
            with_claimed_size(png, 50000, 50000), defaults.max_file_bytes, defaults.max_pixels,
            "decompression bomb guard", ps::ErrorKind::Hostile);
        row("over max_pixels", "bomb.png", true, png, defaults.max_file_bytes, 64 * 64 - 1,
            "decompression bomb guard", ps::ErrorKind::Hostile);
    }
    void broken_or_hostile_file_is_an_error() {
        QFETCH(QString, file_name);
        QFETCH(bool, create);
        QFETCH(QByteArray, content);
        QFETCH(qlonglong, max_file_bytes);
        QFETCH(qlonglong, max_pixels);
        QFETCH(QString, fragment);
        QFETCH(int, kind);
        const QString file = path(file_name);
        if (create) QVERIFY(write_file(file, content));

        ps::io::ImageReadOptions options;
        options.max_file_bytes = max_file_bytes;
        options.max_pixels = max_pixels;
        const auto decoded = ps::io::read_rgb_image(file.toStdString(), options);
        QVERIFY(!decoded.ok());
        const QString message = QString::fromStdString(decoded.message());
        QVERIFY2(message.contains(file_name), qPrintable(message));
        QVERIFY2(message.contains(fragment), qPrintable(message));
        QCOMPARE(int(decoded.error().kind), kind);
    }

    // Just under both limits still decodes, so the limits are not off by one.
    void image_at_the_limits_decodes() {
        QImage image(64, 64, QImage::Format_RGB888);
        image.fill(Qt::white);
        const QByteArray png = encode(image, "png");
        const QString file = path("at_limits.png");
        QVERIFY(write_file(file, png));
        ps::io::ImageReadOptions options;
        options.max_file_bytes = png.size();
        options.max_pixels = 64 * 64;
        const auto decoded = ps::io::read_rgb_image(file.toStdString(), options);
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
    }

    void write_png_round_trips_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<bool>("strided");
        QTest::addColumn<int>("color_type");
        QTest::newRow("grey") << CV_8UC1 << false << 0;
        QTest::newRow("rgb") << CV_8UC3 << false << 2;
        QTest::newRow("rgb view with row padding") << CV_8UC3 << true << 2;
    }
    void write_png_round_trips() {
        QFETCH(int, type);
        QFETCH(bool, strided);
        QFETCH(int, color_type);
        cv::Mat canvas(20, 31, type);
        cv::RNG(99).fill(canvas, cv::RNG::UNIFORM, 0, 256);
        const cv::Mat image = strided ? canvas(cv::Rect(3, 2, 13, 7)) : canvas;
        const QString file = path(QString("round_trip_%1.png").arg(QTest::currentDataTag()));
        const ps::Status written = ps::io::write_png(file.toStdString(), image);
        QVERIFY2(written.ok(), written.ok() ? "" : written.message().c_str());

        QFile png(file);
        QVERIFY(png.open(QIODevice::ReadOnly));
        QCOMPARE(png_color_type(png.read(32)), color_type);
        const auto decoded = ps::io::read_rgb_image(file.toStdString());
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        cv::Mat expected = image;
        if (type == CV_8UC1) cv::merge(std::vector<cv::Mat>{image, image, image}, expected);
        QCOMPARE(pixel_bytes(decoded.value()), pixel_bytes(expected));
    }

    void write_png_into_missing_directory_fails_cleanly() {
        QTemporaryDir scratch;
        QVERIFY(scratch.isValid());
        const QString file = scratch.filePath("no_such_dir/out.png");
        const ps::Status written =
            ps::io::write_png(file.toStdString(), cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(5)));
        QVERIFY(!written.ok());
        QVERIFY2(QString::fromStdString(written.message()).contains(file),
                 written.message().c_str());
        QCOMPARE(written.error().kind, ps::ErrorKind::Io);
        QVERIFY(!QFile::exists(file));
        QVERIFY(QDir(scratch.path())
                    .entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden)
                    .isEmpty());
    }

    void write_png_rejects_unsupported_matrix_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<bool>("empty");
        QTest::newRow("empty") << CV_8UC3 << true;
        QTest::newRow("four channels") << CV_8UC4 << false;
        QTest::newRow("16-bit") << CV_16UC1 << false;
    }
    void write_png_rejects_unsupported_matrix() {
        QFETCH(int, type);
        QFETCH(bool, empty);
        const QString file =
            path(QString("rejected_%1.png").arg(QTest::currentDataTag()).replace(' ', '_'));
        const cv::Mat image = empty ? cv::Mat() : cv::Mat(4, 4, type, cv::Scalar::all(1));
        const ps::Status written = ps::io::write_png(file.toStdString(), image);
        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, ps::ErrorKind::InvalidArgument);
        QVERIFY(!QFile::exists(file));
    }
};

QTEST_GUILESS_MAIN(TestImageReader)
#include "test_image_reader.moc"
