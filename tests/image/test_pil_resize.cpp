// Pillow-exact bilinear resize: golden vectors from Pillow 9.4 and cases known by construction.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>
#include <QtTest>

#include <opencv2/core.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "golden_dir.h"
#include "image/pil_resize.h"
#include "io/image_reader.h"

namespace {

// Empty when a and b hold the same bytes, else where they first differ.
QString first_mismatch(const cv::Mat& actual, const cv::Mat& expected) {
    if (actual.size() != expected.size() || actual.type() != expected.type())
        return QStringLiteral("got %1x%2 %3, expected %4x%5 %6")
            .arg(actual.cols)
            .arg(actual.rows)
            .arg(QString::fromStdString(cv::typeToString(actual.type())))
            .arg(expected.cols)
            .arg(expected.rows)
            .arg(QString::fromStdString(cv::typeToString(expected.type())));
    const int channels = actual.channels();
    for (int y = 0; y < actual.rows; ++y) {
        const uchar* a = actual.ptr<uchar>(y);
        const uchar* e = expected.ptr<uchar>(y);
        for (int i = 0; i < actual.cols * channels; ++i)
            if (a[i] != e[i])
                return QStringLiteral("first mismatch at x=%1 y=%2 channel %3: got %4, expected %5")
                    .arg(i / channels)
                    .arg(y)
                    .arg(i % channels)
                    .arg(a[i])
                    .arg(e[i]);
    }
    return {};
}

#define COMPARE_BYTES(actual, expected)                                \
    do {                                                               \
        const QString mismatch = first_mismatch((actual), (expected)); \
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));            \
    } while (false)

cv::Mat random_image(int width, int height, int type, uint64_t seed) {
    cv::Mat image(height, width, type);
    cv::RNG rng(seed);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    return image;
}

cv::Mat read_rgb(const QString& path) {
    auto image = ps::io::read_rgb_image(path.toStdString());
    if (!image.ok()) qWarning("%s", image.message().c_str());
    return image.ok() ? image.value() : cv::Mat();
}

// Reads one u8 H×W×3 tensor from a safetensors file: an 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets}}, then the data. A stand-in for the project's
// checkpoint reader, so that this test depends on the resize alone.
cv::Mat read_safetensors_rgb(const QString& path, const QString& name) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QByteArray bytes = file.readAll();
    if (bytes.size() < 8) return {};
    const qint64 header_bytes = qFromLittleEndian<qint64>(bytes.constData());
    if (header_bytes < 0 || header_bytes > bytes.size() - 8) return {};
    const QJsonObject tensor =
        QJsonDocument::fromJson(bytes.mid(8, header_bytes)).object().value(name).toObject();
    const QJsonArray shape = tensor.value("shape").toArray();
    const QJsonArray offsets = tensor.value("data_offsets").toArray();
    if (tensor.value("dtype").toString() != "U8" || shape.size() != 3 || shape[2].toInt() != 3 ||
        offsets.size() != 2)
        return {};
    const qint64 begin = 8 + header_bytes + offsets[0].toInteger();
    const qint64 end = 8 + header_bytes + offsets[1].toInteger();
    cv::Mat image(shape[0].toInt(), shape[1].toInt(), CV_8UC3);
    if (end > bytes.size() || end - begin != qint64(image.total() * 3)) return {};
    std::memcpy(image.data, bytes.constData() + begin, image.total() * 3);
    return image;
}

}  // namespace

class TestPilResize : public QObject {
    Q_OBJECT

  private slots:
    void golden_case_is_bit_exact_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<QSize>("input_size");
        QTest::addColumn<QSize>("output_size");
        QFile cases(golden_dir() + "/resize/cases.json");
        QVERIFY2(cases.open(QIODevice::ReadOnly), qPrintable(cases.fileName() + " is missing"));
        const QJsonArray rows =
            QJsonDocument::fromJson(cases.readAll()).object()["cases"].toArray();
        QVERIFY(rows.size() >= 8);
        for (const QJsonValue& row : rows) {
            const QJsonObject c = row.toObject();
            const QJsonArray in_size = c["in_size"].toArray(), out_size = c["out_size"].toArray();
            QTest::newRow(qPrintable(c["in"].toString()))
                << golden_dir() + "/resize/" + c["in"].toString()
                << golden_dir() + "/resize/" + c["out"].toString()
                << QSize(in_size[0].toInt(), in_size[1].toInt())
                << QSize(out_size[0].toInt(), out_size[1].toInt());
        }
    }
    void golden_case_is_bit_exact() {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        QFETCH(QSize, input_size);
        QFETCH(QSize, output_size);
        const cv::Mat source = read_rgb(input);
        const cv::Mat reference = read_rgb(expected);
        QVERIFY(!source.empty() && !reference.empty());
        QCOMPARE(QSize(source.cols, source.rows), input_size);
        COMPARE_BYTES(
            ps::image::pil_resize_bilinear(source, output_size.width(), output_size.height()),
            reference);
    }

    // SAM's ResizeLongestSide(1024).apply_image, as recorded by the official predictor.
    void sam_resize_longest_side_is_bit_exact_data() {
        QTest::addColumn<QString>("image");
        QTest::addColumn<QString>("intermediates");
        QTest::addColumn<QSize>("resized_size");
        QTest::newRow("coffee") << "images/coffee.png"
                                << "sam_vit_tiny__coffee.safetensors" << QSize(1024, 683);
        QTest::newRow("astronaut_crop")
            << "images/astronaut_crop.png"
            << "sam_vit_tiny__astronaut_crop.safetensors" << QSize(720, 1024);
    }
    void sam_resize_longest_side_is_bit_exact() {
        QFETCH(QString, image);
        QFETCH(QString, intermediates);
        QFETCH(QSize, resized_size);
        const cv::Mat source = read_rgb(golden_dir() + "/" + image);
        QVERIFY(!source.empty());
        const cv::Mat expected =
            read_safetensors_rgb(golden_dir() + "/" + intermediates, "resized_image");
        QVERIFY2(!expected.empty(), "resized_image: missing or not u8 HxWx3");

        const double scale = 1024.0 / std::max(source.rows, source.cols);
        const int width = static_cast<int>(source.cols * scale + 0.5);
        const int height = static_cast<int>(source.rows * scale + 0.5);
        QCOMPARE(QSize(width, height), resized_size);
        COMPARE_BYTES(ps::image::pil_resize_bilinear(source, width, height), expected);
    }

    void same_size_returns_identical_copy_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<QSize>("size");
        QTest::newRow("grey 1x1") << CV_8UC1 << QSize(1, 1);
        QTest::newRow("rgb 37x23") << CV_8UC3 << QSize(37, 23);
        QTest::newRow("rgba 5x64") << CV_8UC4 << QSize(5, 64);
    }
    void same_size_returns_identical_copy() {
        QFETCH(int, type);
        QFETCH(QSize, size);
        const cv::Mat source = random_image(size.width(), size.height(), type, 7);
        const cv::Mat resized = ps::image::pil_resize_bilinear(source, size.width(), size.height());
        COMPARE_BYTES(resized, source);
        QVERIFY(resized.data != source.data);
    }

    // The fixed-point weights of one output sample sum to 2^22 within a few units, far too
    // little to move a constant by one level.
    void constant_image_stays_constant_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("value");
        QTest::addColumn<QSize>("input_size");
        QTest::addColumn<QSize>("output_size");
        QTest::newRow("white rgb, shrink 97x61 -> 13x7")
            << CV_8UC3 << 255 << QSize(97, 61) << QSize(13, 7);
        QTest::newRow("rgb, enlarge 3x5 -> 50x77")
            << CV_8UC3 << 131 << QSize(3, 5) << QSize(50, 77);
        QTest::newRow("grey, big shrink 400x300 -> 3x2")
            << CV_8UC1 << 1 << QSize(400, 300) << QSize(3, 2);
        QTest::newRow("rgba, width only 64x9 -> 17x9")
            << CV_8UC4 << 254 << QSize(64, 9) << QSize(17, 9);
        QTest::newRow("black, height only 9x64 -> 9x200")
            << CV_8UC3 << 0 << QSize(9, 64) << QSize(9, 200);
    }
    void constant_image_stays_constant() {
        QFETCH(int, type);
        QFETCH(int, value);
        QFETCH(QSize, input_size);
        QFETCH(QSize, output_size);
        const cv::Mat source(input_size.height(), input_size.width(), type, cv::Scalar::all(value));
        const cv::Mat expected(output_size.height(), output_size.width(), type,
                               cv::Scalar::all(value));
        COMPARE_BYTES(
            ps::image::pil_resize_bilinear(source, output_size.width(), output_size.height()),
            expected);
    }

    // A single source column (row) has one tap of weight 1, so widening (heightening) it
    // repeats it exactly; the other axis is left to a pass that must not disturb it.
    void single_row_or_column_repeats_data() {
        QTest::addColumn<QSize>("input_size");
        QTest::addColumn<QSize>("output_size");
        QTest::newRow("1xN -> 9xN") << QSize(1, 23) << QSize(9, 23);
        QTest::newRow("Nx1 -> Nx9") << QSize(23, 1) << QSize(23, 9);
        QTest::newRow("1x1 -> 5x4") << QSize(1, 1) << QSize(5, 4);
        QTest::newRow("1x1 -> 1x1") << QSize(1, 1) << QSize(1, 1);
    }
    void single_row_or_column_repeats() {
        QFETCH(QSize, input_size);
        QFETCH(QSize, output_size);
        const cv::Mat source = random_image(input_size.width(), input_size.height(), CV_8UC3, 11);
        cv::Mat expected;
        cv::repeat(source, output_size.height() / input_size.height(),
                   output_size.width() / input_size.width(), expected);
        COMPARE_BYTES(
            ps::image::pil_resize_bilinear(source, output_size.width(), output_size.height()),
            expected);
    }

    // Two pixels down to one: both taps weigh 1/2 (2^21), so the result is (a + b + 1) / 2,
    // the mean rounded half up; in a 2x1 or 1x2 image.
    void two_pixels_average_rounding_half_up_data() {
        QTest::addColumn<bool>("vertical");
        QTest::addColumn<int>("a");
        QTest::addColumn<int>("b");
        QTest::newRow("2x1 odd sum") << false << 10 << 13;
        QTest::newRow("2x1 extremes") << false << 0 << 255;
        QTest::newRow("1x2 odd sum") << true << 200 << 3;
        QTest::newRow("1x2 even sum") << true << 7 << 9;
    }
    void two_pixels_average_rounding_half_up() {
        QFETCH(bool, vertical);
        QFETCH(int, a);
        QFETCH(int, b);
        cv::Mat source(vertical ? 2 : 1, vertical ? 1 : 2, CV_8UC1);
        source.at<uchar>(0) = static_cast<uchar>(a);
        source.at<uchar>(1) = static_cast<uchar>(b);
        const cv::Mat resized = ps::image::pil_resize_bilinear(source, 1, 1);
        QCOMPARE(int(resized.at<uchar>(0, 0)), (a + b + 1) / 2);
    }

    // Channels never mix: a 1- or 4-channel image gives, per channel, what a 3-channel image
    // holding those planes gives.
    void channels_are_resized_independently_data() {
        QTest::addColumn<QSize>("input_size");
        QTest::addColumn<QSize>("output_size");
        QTest::newRow("shrink both") << QSize(61, 47) << QSize(19, 12);
        QTest::newRow("enlarge both") << QSize(13, 9) << QSize(40, 31);
        QTest::newRow("width only") << QSize(30, 20) << QSize(45, 20);
        QTest::newRow("height only") << QSize(30, 20) << QSize(30, 7);
        QTest::newRow("mixed") << QSize(50, 8) << QSize(9, 33);
    }
    void channels_are_resized_independently() {
        QFETCH(QSize, input_size);
        QFETCH(QSize, output_size);
        const int width = output_size.width(), height = output_size.height();
        const cv::Mat rgba = random_image(input_size.width(), input_size.height(), CV_8UC4, 23);
        std::vector<cv::Mat> planes;
        cv::split(rgba, planes);
        cv::Mat rgb, alpha_rgb;
        cv::merge(std::vector<cv::Mat>{planes[0], planes[1], planes[2]}, rgb);
        cv::merge(std::vector<cv::Mat>{planes[3], planes[3], planes[3]}, alpha_rgb);

        std::vector<cv::Mat> from_rgb, from_alpha;
        cv::split(ps::image::pil_resize_bilinear(rgb, width, height), from_rgb);
        cv::split(ps::image::pil_resize_bilinear(alpha_rgb, width, height), from_alpha);
        std::vector<cv::Mat> from_rgba;
        cv::split(ps::image::pil_resize_bilinear(rgba, width, height), from_rgba);
        for (int c = 0; c < 3; ++c) {
            COMPARE_BYTES(ps::image::pil_resize_bilinear(planes[c], width, height), from_rgb[c]);
            COMPARE_BYTES(from_rgba[c], from_rgb[c]);
        }
        COMPARE_BYTES(from_rgba[3], from_alpha[0]);
    }

    // A view into a larger image (row stride != width) gives what its contiguous copy gives.
    void strided_view_matches_contiguous_copy() {
        const cv::Mat canvas = random_image(80, 60, CV_8UC3, 31);
        const cv::Mat view = canvas(cv::Rect(7, 5, 41, 33));
        QVERIFY(!view.isContinuous());
        COMPARE_BYTES(ps::image::pil_resize_bilinear(view, 17, 70),
                      ps::image::pil_resize_bilinear(view.clone(), 17, 70));
    }

    void invalid_arguments_throw_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<QSize>("input_size");
        QTest::addColumn<QSize>("output_size");
        QTest::newRow("empty input") << CV_8UC3 << QSize(0, 0) << QSize(4, 4);
        QTest::newRow("two channels") << CV_8UC2 << QSize(4, 4) << QSize(2, 2);
        QTest::newRow("16-bit") << CV_16UC3 << QSize(4, 4) << QSize(2, 2);
        QTest::newRow("float") << CV_32FC1 << QSize(4, 4) << QSize(2, 2);
        QTest::newRow("zero width") << CV_8UC3 << QSize(4, 4) << QSize(0, 2);
        QTest::newRow("negative height") << CV_8UC1 << QSize(4, 4) << QSize(2, -1);
    }
    void invalid_arguments_throw() {
        QFETCH(int, type);
        QFETCH(QSize, input_size);
        QFETCH(QSize, output_size);
        const cv::Mat source =
            input_size.isEmpty()
                ? cv::Mat()
                : cv::Mat(input_size.height(), input_size.width(), type, cv::Scalar::all(1));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            ps::image::pil_resize_bilinear(source, output_size.width(), output_size.height()));
    }
};

QTEST_GUILESS_MAIN(TestPilResize)
#include "test_pil_resize.moc"
