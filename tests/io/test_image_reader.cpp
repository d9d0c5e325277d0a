// Image decoding to RGB (the generated corpus of good and bad files, limits from the
// environment, Qt's allocation limit) and PNG writing.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QImageWriter>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include <memory>
#include <vector>

#include "golden_dir.h"
#include "io/image_corpus.h"
#include "io/image_reader.h"
#include "io/image_writer.h"

namespace {

// The matrix's pixels, row by row, without padding.
QByteArray pixel_bytes(const cv::Mat& image) {
    QByteArray bytes;
    for (int y = 0; y < image.rows; ++y)
        bytes.append(reinterpret_cast<const char*>(image.ptr(y)),
                     static_cast<qsizetype>(image.cols * image.elemSize()));
    return bytes;
}

bool write_file(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// Empty when the pixel is within tolerance, else what differs.
QString probe_mismatch(const cv::Mat& rgb, const corpus::Probe& probe) {
    const cv::Vec3b got = rgb.at<cv::Vec3b>(probe.at.y(), probe.at.x());
    const int expected[] = {probe.rgb.red(), probe.rgb.green(), probe.rgb.blue()};
    for (int c = 0; c < 3; ++c)
        if (std::abs(int(got[c]) - expected[c]) > probe.tolerance)
            return QStringLiteral("pixel (%1, %2) is (%3, %4, %5), expected (%6, %7, %8) +-%9")
                .arg(probe.at.x())
                .arg(probe.at.y())
                .arg(got[0])
                .arg(got[1])
                .arg(got[2])
                .arg(expected[0])
                .arg(expected[1])
                .arg(expected[2])
                .arg(probe.tolerance);
    return {};
}

std::optional<QByteArray> env_value(const QByteArray& value) {
    return value.isNull() ? std::nullopt : std::optional<QByteArray>(value);
}

}  // namespace

class TestImageReader : public QObject {
    Q_OBJECT

  private:
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

  private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    // One row per generated file: it loads with the expected size and pixels, or fails with a
    // message naming the file and the problem.
    void corpus_data() {
        QTest::addColumn<corpus::File>("file");
        for (const corpus::File& file : corpus::all_files())
            QTest::newRow(qPrintable(file.tag)) << file;
    }
    void corpus() {
        QFETCH(corpus::File, file);
        // The pixel-limit rows must be refused on the header, before Qt tries to allocate.
        QTest::failOnWarning(QRegularExpression("allocation limit"));
        if (file.png_bit_depth >= 0) {  // guards the generator: Qt wrote the layout meant
            QCOMPARE(corpus::png_bit_depth(file.content), file.png_bit_depth);
            QCOMPARE(corpus::png_color_type(file.content), file.png_color_type);
        }
        const QString file_path = path(file.name);
        switch (file.setup) {
            case corpus::File::Setup::Write:
                QVERIFY(write_file(file_path, file.content));
                break;
            case corpus::File::Setup::Directory:
                QVERIFY(QDir().mkpath(file_path));
                break;
            case corpus::File::Setup::Missing:
                QVERIFY(!QFileInfo::exists(file_path));
                break;
        }
        // Every row sets or clears both limits, whatever the environment the tests run in.
        std::vector<std::unique_ptr<corpus::ScopedEnv>> env;
        for (const char* name : {"PHOTOSYNTH_MAX_FILE_MB", "PHOTOSYNTH_MAX_PIXELS"}) {
            QByteArray value;
            for (const auto& [key, row_value] : file.env)
                if (key == name) value = row_value;
            env.push_back(std::make_unique<corpus::ScopedEnv>(name, env_value(value)));
        }

        const auto decoded = ps::io::read_rgb_image(file_path.toStdString(),
                                                    ps::io::ImageReadOptions::from_environment());
        if (file.size.isValid()) {
            QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
            QCOMPARE(decoded->type(), CV_8UC3);
            QCOMPARE(QSize(decoded->cols, decoded->rows), file.size);
            for (const corpus::Probe& probe : file.probes) {
                const QString mismatch = probe_mismatch(decoded.value(), probe);
                QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
            }
        } else {
            QVERIFY(!decoded.ok());
            const QString message = QString::fromStdString(decoded.message());
            QVERIFY2(message.contains(file.name), qPrintable(message));
            for (const QString& fragment : file.fragments)
                QVERIFY2(message.contains(fragment), qPrintable(message));
            QCOMPARE(decoded.error().kind, file.kind);
        }
    }

    // The formats Debian's qt6-image-formats-plugins brings (project.cpp and the app list them as
    // images): a lossless WebP and uncompressed TIFFs decode pixel for pixel.
    void webp_and_tiff_decode_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("format");
        QTest::addColumn<int>("quality");  // the writer's: 100 makes Qt's WebP writer lossless
        QTest::newRow("webp") << "pattern.webp" << QByteArray("webp") << 100;
        QTest::newRow("tif") << "pattern.tif" << QByteArray("tiff") << -1;
        QTest::newRow("tiff") << "pattern.tiff" << QByteArray("tiff") << -1;
    }
    void webp_and_tiff_decode() {
        QFETCH(QString, name);
        QFETCH(QByteArray, format);
        QFETCH(int, quality);
        QVERIFY2(
            QImageWriter::supportedImageFormats().contains(format),
            qPrintable("Qt has no " + format +
                       " plugin: install qt6-image-formats-plugins (scripts/install-deps.sh)"));
        // Every pixel differs from its neighbours, so a swapped channel or a row off by one shows.
        QImage pattern(7, 5, QImage::Format_RGB888);
        for (int y = 0; y < pattern.height(); ++y)
            for (int x = 0; x < pattern.width(); ++x)
                pattern.setPixelColor(x, y, QColor(x * 36, y * 60, 255 - x * 20 - y * 9));
        QImageWriter writer(path(name), format);
        writer.setQuality(quality);
        QVERIFY2(writer.write(pattern), qPrintable(writer.errorString()));

        const auto decoded = ps::io::read_rgb_image(path(name).toStdString());
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(QSize(decoded->cols, decoded->rows), pattern.size());
        for (int y = 0; y < pattern.height(); ++y)
            for (int x = 0; x < pattern.width(); ++x) {
                const QColor expected = pattern.pixelColor(x, y);
                const cv::Vec3b got = decoded->at<cv::Vec3b>(y, x);
                QVERIFY2(got[0] == expected.red() && got[1] == expected.green() &&
                             got[2] == expected.blue(),
                         qPrintable(QString("pixel (%1, %2)").arg(x).arg(y)));
            }
    }

    void limits_from_environment_data() {
        QTest::addColumn<QByteArray>("file_mb");  // null: unset
        QTest::addColumn<QByteArray>("pixels");
        QTest::addColumn<qlonglong>("max_file_bytes");
        QTest::addColumn<qlonglong>("max_pixels");
        QTest::addColumn<QString>("warning");  // empty: none expected
        const qlonglong mb = 1024 * 1024, default_bytes = 512 * mb, default_pixels = 300000000;
        QTest::newRow("unset") << QByteArray() << QByteArray() << default_bytes << default_pixels
                               << QString();
        QTest::newRow("set") << QByteArray("64") << QByteArray("1000000") << 64 * mb
                             << qlonglong(1000000) << QString();
        QTest::newRow("spaces around")
            << QByteArray(" 8\n") << QByteArray() << 8 * mb << default_pixels << QString();
        QTest::newRow("not a number")
            << QByteArray("lots") << QByteArray() << default_bytes << default_pixels
            << "PHOTOSYNTH_MAX_FILE_MB=lots ignored: expected a positive whole number of megabytes";
        QTest::newRow("negative") << QByteArray("-5") << QByteArray() << default_bytes
                                  << default_pixels << "PHOTOSYNTH_MAX_FILE_MB=-5 ignored";
        QTest::newRow("overflowing")
            << QByteArray("99999999999999999999") << QByteArray() << default_bytes << default_pixels
            << "PHOTOSYNTH_MAX_FILE_MB=9+ ignored";
        QTest::newRow("zero pixels") << QByteArray() << QByteArray("0") << default_bytes
                                     << default_pixels << "PHOTOSYNTH_MAX_PIXELS=0 ignored";
        QTest::newRow("pixels in exponent notation")
            << QByteArray() << QByteArray("3e8") << default_bytes << default_pixels
            << "PHOTOSYNTH_MAX_PIXELS=3e8 ignored: expected a positive whole number of pixels";
    }
    void limits_from_environment() {
        QFETCH(QByteArray, file_mb);
        QFETCH(QByteArray, pixels);
        QFETCH(qlonglong, max_file_bytes);
        QFETCH(qlonglong, max_pixels);
        QFETCH(QString, warning);
        const corpus::ScopedEnv file_env("PHOTOSYNTH_MAX_FILE_MB", env_value(file_mb));
        const corpus::ScopedEnv pixels_env("PHOTOSYNTH_MAX_PIXELS", env_value(pixels));
        // ignoreMessage also fails the test when the warning does not come.
        if (!warning.isEmpty()) QTest::ignoreMessage(QtWarningMsg, QRegularExpression(warning));
        const auto options = ps::io::ImageReadOptions::from_environment();
        QCOMPARE(options.max_file_bytes, max_file_bytes);
        QCOMPARE(options.max_pixels, max_pixels);
    }

    // 8 bytes a pixel (16-bit decodes to RGBA64) rounded down to megabytes, +1 for Qt's rounding.
    void allocation_limit_follows_max_pixels_data() {
        QTest::addColumn<qlonglong>("max_pixels");
        QTest::addColumn<int>("megabytes");
        QTest::newRow("default 300 MP, raised from Qt's default") << qlonglong(300000000) << 2289;
        QTest::newRow("4096 pixels, lowered") << qlonglong(4096) << 1;
        QTest::newRow("ceiling") << qlonglong(1000000000000) << 7629395;
    }
    void allocation_limit_follows_max_pixels() {
        QFETCH(qlonglong, max_pixels);
        QFETCH(int, megabytes);
        const int original = QImageReader::allocationLimit();
        const QString file = path("allocation.png");
        QVERIFY(write_file(file, corpus::png_file(2, 2, 8, 0, QByteArray(6, 0))));
        ps::io::ImageReadOptions options;
        options.max_pixels = max_pixels;
        const auto decoded = ps::io::read_rgb_image(file.toStdString(), options);
        const int applied = QImageReader::allocationLimit();
        QImageReader::setAllocationLimit(original);
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(applied, megabytes);
    }

    // Exactly at the limits still decodes, so they are not off by one; the 16-bit row decodes to
    // 134 MB of RGBX64, over Qt's default allocation limit of 128 MB.
    void image_at_the_limits_decodes_data() {
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("format");
        QTest::addColumn<bool>("file_size_at_limit");
        QTest::newRow("8-bit at both limits") << 64 << 64 << int(QImage::Format_RGB888) << true;
        QTest::newRow("16-bit at the pixel limit")
            << 4200 << 4000 << int(QImage::Format_RGBX64) << false;
    }
    void image_at_the_limits_decodes() {
        QFETCH(int, width);
        QFETCH(int, height);
        QFETCH(int, format);
        QFETCH(bool, file_size_at_limit);
        QImage image(width, height, QImage::Format(format));
        image.fill(QColor(10, 200, 30));
        const QByteArray png = corpus::encode(image, "png");
        const QString file = path("at_limits.png");
        QVERIFY(write_file(file, png));
        ps::io::ImageReadOptions options;
        if (file_size_at_limit) options.max_file_bytes = png.size();
        options.max_pixels = qlonglong(width) * height;
        const auto decoded = ps::io::read_rgb_image(file.toStdString(), options);
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(decoded->at<cv::Vec3b>(height - 1, width - 1), cv::Vec3b(10, 200, 30));
    }

    void golden_photo_decodes() {
        const auto decoded = ps::io::read_rgb_image(golden_path("images/coffee.png"));
        QVERIFY2(decoded.ok(), decoded.ok() ? "" : decoded.message().c_str());
        QCOMPARE(decoded->cols, 600);
        QCOMPARE(decoded->rows, 400);
        QCOMPARE(decoded->type(), CV_8UC3);
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
        QCOMPARE(corpus::png_color_type(png.read(32)), color_type);
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
