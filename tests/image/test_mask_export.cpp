// Export pixels and files: exact mask upscaling, straight-alpha cut-outs, overlay arithmetic and
// atomic RGBA PNG writing.
#include <QDir>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include <cmath>
#include <stdexcept>

#include "image/mask_export.h"
#include "io/image_writer.h"

namespace {

bool equal(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

cv::Mat block_mask(cv::Size size, cv::Rect block) {
    cv::Mat mask(size, CV_8UC1, cv::Scalar(0));
    mask(block).setTo(255);
    return mask;
}

cv::Mat random_rgb(cv::Size size) {
    cv::Mat rgb(size, CV_8UC3);
    cv::RNG rng(7);
    rng.fill(rgb, cv::RNG::UNIFORM, 0, 256);
    return rgb;
}

uchar blend(int base, int colour, double opacity) {
    return static_cast<uchar>(std::lround(base * (1 - opacity) + colour * opacity));
}

}  // namespace

class TestMaskExport : public QObject {
    Q_OBJECT

  private slots:
    // Bilinear then > 127 puts the edges of an integer upscale exactly where the block's edges
    // scale to. At 3x the four corner pixels fall out: their weight is (2/3)^2 * 255 = 113.
    void upscale_mask_is_exact_on_integer_factors_data() {
        QTest::addColumn<int>("factor");
        QTest::addColumn<bool>("corners_cut");
        QTest::newRow("2x") << 2 << false;  // corner weight (3/4)^2 * 255 = 143
        QTest::newRow("3x") << 3 << true;
        QTest::newRow("1x (same size)") << 1 << false;
    }
    void upscale_mask_is_exact_on_integer_factors() {
        QFETCH(int, factor);
        QFETCH(bool, corners_cut);
        const cv::Size size(20, 15);
        const cv::Rect block(3, 4, 9, 6);
        const cv::Mat small = block_mask(size, block);
        const cv::Rect scaled(block.tl() * factor, block.size() * factor);
        cv::Mat expected = block_mask(size * factor, scaled);
        if (corners_cut) {
            for (const cv::Point corner :
                 {scaled.tl(), scaled.br() - cv::Point(1, 1),
                  cv::Point(scaled.x, scaled.br().y - 1), cv::Point(scaled.br().x - 1, scaled.y)})
                expected.at<uchar>(corner) = 0;
        }
        QVERIFY(equal(ps::image::upscale_mask(small, size * factor), expected));
    }

    void upscale_mask_thresholds_to_0_or_255() {
        cv::Mat soft(4, 4, CV_8UC1, cv::Scalar(0));
        soft(cv::Rect(0, 0, 2, 4)).setTo(128);
        soft(cv::Rect(2, 0, 2, 4)).setTo(127);
        const cv::Mat expected = block_mask({4, 4}, cv::Rect(0, 0, 2, 4));
        QVERIFY(equal(ps::image::upscale_mask(soft, {4, 4}), expected));
    }

    void upscale_mask_refuses_bad_input() {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ps::image::upscale_mask(cv::Mat(), {4, 4}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::upscale_mask(cv::Mat(4, 4, CV_8UC3), {8, 8}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::upscale_mask(cv::Mat(4, 4, CV_8UC1), {0, 8}));
    }

    void cutout_alpha_is_the_mask_and_colour_is_unchanged() {
        const cv::Size size(31, 17);
        const cv::Mat rgb = random_rgb(size);
        cv::Mat mask(size, CV_8UC1);
        cv::randu(mask, 0, 256);  // soft values too: alpha is the mask, not a thresholded copy
        const cv::Mat rgba = ps::image::cutout_rgba(rgb, mask);
        QCOMPARE(rgba.type(), CV_8UC4);
        cv::Mat channels[4];
        cv::split(rgba, channels);
        QVERIFY(equal(channels[3], mask));
        cv::Mat colour;
        cv::merge(channels, 3, colour);
        QVERIFY(equal(colour, rgb));  // even where alpha is 0: straight, not premultiplied
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::cutout_rgba(rgb, cv::Mat(size * 2, CV_8UC1)));
    }

    void overlay_colours_only_masked_pixels_data() {
        QTest::addColumn<double>("opacity");
        QTest::newRow("0.4") << 0.4;
        QTest::newRow("opaque") << 1.0;
        QTest::newRow("invisible") << 0.0;
    }
    void overlay_colours_only_masked_pixels() {
        QFETCH(double, opacity);
        const cv::Size size(40, 30);
        const cv::Scalar grey(100, 100, 100), red(250, 0, 0), blue(0, 0, 200);
        const cv::Mat rgb(size, CV_8UC3, grey);
        const cv::Rect red_block(5, 5, 10, 10), blue_block(25, 10, 8, 12);
        const cv::Mat out =
            ps::image::overlay(rgb, {block_mask(size, red_block), block_mask(size, blue_block)},
                               {red, blue}, opacity, false);

        cv::Mat expected = rgb.clone();
        expected(red_block).setTo(
            cv::Scalar(blend(100, 250, opacity), blend(100, 0, opacity), blend(100, 0, opacity)));
        expected(blue_block)
            .setTo(cv::Scalar(blend(100, 0, opacity), blend(100, 0, opacity),
                              blend(100, 200, opacity)));
        QVERIFY(equal(out, expected));
        QVERIFY(equal(rgb, cv::Mat(size, CV_8UC3, grey)));  // input untouched
    }

    // The outline is the 2-px band around the edge (one pixel in, one out), in the full colour.
    void outline_is_only_on_edges() {
        const cv::Size size(40, 30);
        const cv::Scalar grey(100, 100, 100), green(0, 200, 0);
        const cv::Rect block(10, 8, 12, 9);
        const cv::Mat out = ps::image::overlay(cv::Mat(size, CV_8UC3, grey),
                                               {block_mask(size, block)}, {green}, 0.5, true);

        cv::Mat expected(size, CV_8UC3, grey);
        expected(block).setTo(cv::Scalar(50, 150, 50));
        const cv::Rect outer(block.x - 1, block.y - 1, block.width + 2, block.height + 2);
        const cv::Rect inner(block.x + 1, block.y + 1, block.width - 2, block.height - 2);
        cv::Mat band = block_mask(size, outer);
        band(inner).setTo(0);
        expected.setTo(green, band);
        QVERIFY(equal(out, expected));
    }

    void overlay_refuses_bad_input() {
        const cv::Mat rgb(10, 10, CV_8UC3);
        const cv::Mat mask(10, 10, CV_8UC1, cv::Scalar(0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::overlay(rgb, {mask}, {}, 0.5, false));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::overlay(rgb, {mask}, {cv::Scalar()}, 1.5, false));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            ps::image::overlay(rgb, {cv::Mat(5, 10, CV_8UC1)}, {cv::Scalar()}, 0.5, false));
    }

    void rgba_png_round_trip_keeps_alpha() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const cv::Size size(23, 11);
        cv::Mat mask(size, CV_8UC1);
        cv::randu(mask, 0, 256);
        mask.col(0).setTo(0);  // fully transparent pixels keep their colour too
        const cv::Mat rgba = ps::image::cutout_rgba(random_rgb(size), mask);
        const std::string path = dir.filePath("cutout.png").toStdString();
        const ps::Status written = ps::io::write_rgba_png(path, rgba);
        QVERIFY2(written.ok(), written.ok() ? "" : written.message().c_str());

        QImage read(QString::fromStdString(path));
        QVERIFY(!read.isNull());
        QVERIFY(read.hasAlphaChannel());
        read = read.convertToFormat(QImage::Format_RGBA8888);
        const cv::Mat view(read.height(), read.width(), CV_8UC4, read.bits(),
                           static_cast<size_t>(read.bytesPerLine()));
        QVERIFY(equal(view, rgba));
    }

    void write_into_missing_folder_fails_and_leaves_nothing() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const cv::Mat rgba(4, 4, CV_8UC4, cv::Scalar(1, 2, 3, 4));
        const std::string path = dir.filePath("missing/cutout.png").toStdString();
        const ps::Status written = ps::io::write_rgba_png(path, rgba);
        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, ps::ErrorKind::Io);
        QVERIFY2(written.message().find("missing/cutout.png") != std::string::npos,
                 written.message().c_str());
        QVERIFY(QDir(dir.path())
                    .entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden)
                    .isEmpty());
    }

    void write_rgba_png_refuses_other_types() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("rgb.png").toStdString();
        const ps::Status written = ps::io::write_rgba_png(path, cv::Mat(4, 4, CV_8UC3));
        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, ps::ErrorKind::InvalidArgument);
        QVERIFY(!QFile::exists(QString::fromStdString(path)));
    }
};

QTEST_GUILESS_MAIN(TestMaskExport)
#include "test_mask_export.moc"
