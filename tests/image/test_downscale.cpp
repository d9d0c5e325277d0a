// The interactive working copy: exact output sizes, no copy when small, area averaging, and
// PHOTOSYNTH_DOWNSCALE_MAX.
#include <QtTest>

#include <opencv2/core.hpp>

#include <stdexcept>

#include "image/downscale.h"

Q_DECLARE_METATYPE(cv::Size)

class TestDownscale : public QObject {
    Q_OBJECT

  private slots:
    void output_size_data() {
        QTest::addColumn<cv::Size>("input");
        QTest::addColumn<int>("max_long_side");
        QTest::addColumn<cv::Size>("expected");
        QTest::newRow("4:3 landscape") << cv::Size(8000, 6000) << 4096 << cv::Size(4096, 3072);
        QTest::newRow("3:4 portrait") << cv::Size(6000, 8000) << 4096 << cv::Size(3072, 4096);
        QTest::newRow("square") << cv::Size(5000, 5000) << 4096 << cv::Size(4096, 4096);
        QTest::newRow("one pixel over") << cv::Size(4097, 3) << 4096 << cv::Size(4096, 3);
        // 5461 * 4096 / 8192 = 2730.5: halves round up.
        QTest::newRow("exact half rounds up")
            << cv::Size(8192, 5461) << 4096 << cv::Size(4096, 2731);
        QTest::newRow("small half rounds up") << cv::Size(10, 3) << 5 << cv::Size(5, 2);
        QTest::newRow("below half rounds down") << cv::Size(100, 33) << 10 << cv::Size(10, 3);
        QTest::newRow("above half rounds up") << cv::Size(37, 100) << 10 << cv::Size(4, 10);
        QTest::newRow("thin strip keeps one pixel")
            << cv::Size(1, 10000) << 4096 << cv::Size(1, 4096);
    }
    void output_size() {
        QFETCH(cv::Size, input);
        QFETCH(int, max_long_side);
        QFETCH(cv::Size, expected);
        const cv::Mat rgb(input, CV_8UC3, cv::Scalar(1, 2, 3));
        const cv::Mat out = ps::image::downscale_for_interactive(rgb, max_long_side);
        QCOMPARE(out.cols, expected.width);
        QCOMPARE(out.rows, expected.height);
        QCOMPARE(out.type(), CV_8UC3);
    }

    void small_image_is_returned_unchanged_data() {
        QTest::addColumn<cv::Size>("input");
        QTest::addColumn<int>("max_long_side");
        QTest::newRow("long side at the limit") << cv::Size(4096, 100) << 4096;
        QTest::newRow("well within") << cv::Size(640, 480) << 4096;
        QTest::newRow("limit 0 is off") << cv::Size(10000, 20) << 0;
    }
    void small_image_is_returned_unchanged() {
        QFETCH(cv::Size, input);
        QFETCH(int, max_long_side);
        cv::Mat rgb(input, CV_8UC3);
        cv::randu(rgb, 0, 256);
        const cv::Mat out = ps::image::downscale_for_interactive(rgb, max_long_side);
        QCOMPARE(out.data, rgb.data);  // shares the pixels: no copy
        QCOMPARE(out.size(), rgb.size());
        QCOMPARE(out.type(), rgb.type());
    }

    void constant_image_stays_constant_data() {
        QTest::addColumn<cv::Size>("input");
        QTest::addColumn<int>("max_long_side");
        QTest::newRow("integer factor") << cv::Size(1000, 600) << 500;
        QTest::newRow("fractional factor") << cv::Size(1000, 750) << 333;
        QTest::newRow("portrait, fractional") << cv::Size(601, 1203) << 400;
    }
    void constant_image_stays_constant() {
        QFETCH(cv::Size, input);
        QFETCH(int, max_long_side);
        const cv::Scalar colour(17, 130, 250);
        const cv::Mat out =
            ps::image::downscale_for_interactive(cv::Mat(input, CV_8UC3, colour), max_long_side);
        QCOMPARE(std::max(out.cols, out.rows), max_long_side);
        cv::Mat difference;
        cv::absdiff(out, colour, difference);
        QCOMPARE(cv::norm(difference, cv::NORM_INF), 0.0);
    }

    // Halving averages each 2x2 block: the answer is known by construction.
    void area_resampling_averages_blocks() {
        const cv::Mat grey = (cv::Mat_<uchar>(2, 4) << 10, 20, 100, 100, 30, 40, 0, 200);
        const cv::Mat out = ps::image::downscale_for_interactive(grey, 2);
        QCOMPARE(out.size(), cv::Size(2, 1));
        QCOMPARE(int(out.at<uchar>(0, 0)), 25);
        QCOMPARE(int(out.at<uchar>(0, 1)), 100);
    }

    void invalid_arguments_throw_data() {
        QTest::addColumn<bool>("empty");
        QTest::addColumn<int>("max_long_side");
        QTest::newRow("negative limit") << false << -1;
        QTest::newRow("very negative limit") << false << -4096;
        QTest::newRow("empty image") << true << 4096;
    }
    void invalid_arguments_throw() {
        QFETCH(bool, empty);
        QFETCH(int, max_long_side);
        const cv::Mat rgb = empty ? cv::Mat() : cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::downscale_for_interactive(rgb, max_long_side));
    }
};

QTEST_GUILESS_MAIN(TestDownscale)
#include "test_downscale.moc"
