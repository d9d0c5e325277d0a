// Mask -> polygons -> mask: exact without simplification, IoU >= 0.98 with it, in both pixel
// conventions, on shapes with holes, thin (1-3 px) parts, several components and islands.
#include <QtTest>

#include <opencv2/imgproc.hpp>

#include <random>

#include "annotation/polygons.h"

using namespace ps::annotation;

Q_DECLARE_METATYPE(cv::Mat)
Q_DECLARE_METATYPE(ps::annotation::PixelConvention)

namespace {

double iou(const cv::Mat& a, const cv::Mat& b) {
    const int union_area = cv::countNonZero(a | b);
    return union_area == 0 ? 1.0 : double(cv::countNonZero(a & b)) / union_area;
}

cv::Mat blank(int height = 120, int width = 160) { return cv::Mat(height, width, CV_8UC1, cv::Scalar(0)); }

cv::Mat ring() {
    cv::Mat mask = blank();
    mask(cv::Rect(20, 20, 80, 60)) = 255;
    mask(cv::Rect(40, 35, 30, 25)) = 0;
    return mask;
}

// Two holes on the same rows (the right one bridges to the left one), an island in the left
// hole, and a hole that touches another diagonally.
cv::Mat holes_and_island() {
    cv::Mat mask = blank();
    mask(cv::Rect(10, 10, 140, 100)) = 255;
    mask(cv::Rect(20, 30, 40, 40)) = 0;
    mask(cv::Rect(30, 40, 10, 10)) = 255;  // island
    mask(cv::Rect(80, 30, 30, 40)) = 0;
    mask(cv::Rect(110, 70, 10, 10)) = 0;   // touches the second hole at one corner
    return mask;
}

// A blob with a 1-px horizontal line, a 2-px vertical bar, a 3-px diagonal and a 1-px diagonal
// (8-connected staircase) sticking out.
cv::Mat thin_parts() {
    cv::Mat mask = blank();
    cv::circle(mask, {60, 60}, 25, 255, cv::FILLED);
    mask(cv::Rect(85, 60, 60, 1)) = 255;
    mask(cv::Rect(58, 5, 2, 30)) = 255;
    cv::line(mask, {40, 80}, {10, 110}, 255, 3);
    for (int i = 0; i < 30; ++i) mask.at<uint8_t>(40 - i, 40 - i) = 255;
    return mask;
}

cv::Mat checkerboard() {
    cv::Mat mask = blank(20, 20);
    for (int y = 4; y < 16; ++y)
        for (int x = 4; x < 16; ++x)
            if ((x + y) % 2 == 0) mask.at<uint8_t>(y, x) = 255;
    return mask;
}

cv::Mat touching_borders() {
    cv::Mat mask = blank(50, 70);
    mask(cv::Rect(0, 0, 70, 50)) = 255;
    mask(cv::Rect(10, 10, 20, 20)) = 0;
    mask(cv::Rect(0, 40, 1, 1)) = 0;
    return mask;
}

cv::Mat random_blobs(unsigned seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> x(0, 199), y(0, 149), r(3, 30), angle(0, 179);
    cv::Mat mask = blank(150, 200);
    for (int i = 0; i < 12; ++i)
        cv::ellipse(mask, {x(random), y(random)}, {r(random), r(random)}, angle(random), 0, 360,
                    i % 3 == 2 ? 0 : 255, cv::FILLED);
    return mask;
}

}  // namespace

class TestPolygons : public QObject {
    Q_OBJECT

private slots:
    void round_trip_data() {
        QTest::addColumn<cv::Mat>("mask");
        QTest::addColumn<PixelConvention>("convention");
        const std::vector<std::pair<const char*, cv::Mat>> shapes = {
            {"ring", ring()},
            {"holes and island", holes_and_island()},
            {"thin parts", thin_parts()},
            {"checkerboard", checkerboard()},
            {"touching borders", touching_borders()},
            {"single pixel", [] { cv::Mat m = blank(5, 5); m.at<uint8_t>(2, 3) = 255; return m; }()},
            {"random 1", random_blobs(1)},
            {"random 2", random_blobs(2)},
            {"random 3", random_blobs(3)},
        };
        for (const auto& [name, mask] : shapes) {
            QTest::newRow((std::string(name) + ", corners").c_str()) << mask << PixelConvention::Corners;
            QTest::newRow((std::string(name) + ", centres").c_str()) << mask << PixelConvention::Centres;
        }
    }

    void round_trip() {
        QFETCH(cv::Mat, mask);
        QFETCH(PixelConvention, convention);
        cv::Mat labels;
        const int components = cv::connectedComponents(mask, labels, 8) - 1;

        PolygonOptions exact;
        exact.tolerance_px = 0;
        exact.convention = convention;
        const auto polygons = mask_to_polygons(mask, exact);
        QCOMPARE(int(polygons.size()), components);
        const cv::Mat back = polygons_to_mask(polygons, mask.rows, mask.cols, convention);
        QCOMPARE(cv::countNonZero(back != mask), 0);

        PolygonOptions simplified;
        simplified.convention = convention;
        const auto simple = mask_to_polygons(mask, simplified);
        QCOMPARE(int(simple.size()), components);
        size_t vertices = 0, exact_vertices = 0;
        for (const auto& p : simple) vertices += p.size();
        for (const auto& p : polygons) exact_vertices += p.size();
        QVERIFY(vertices <= exact_vertices);
        const double overlap = iou(polygons_to_mask(simple, mask.rows, mask.cols, convention), mask);
        QVERIFY2(overlap >= 0.98, qPrintable(QString("IoU %1").arg(overlap)));
    }

    void largest_component_first() {
        cv::Mat mask = blank();
        mask(cv::Rect(5, 5, 4, 4)) = 255;
        mask(cv::Rect(50, 50, 30, 30)) = 255;
        mask(cv::Rect(100, 5, 10, 10)) = 255;
        const auto polygons = mask_to_polygons(mask);
        QCOMPARE(polygons.size(), size_t(3));
        // Pixel-corner coordinates: the 30x30 square spans [50, 80].
        double x_max = 0;
        for (const auto& p : polygons[0]) x_max = std::max(x_max, p.x);
        QCOMPARE(x_max, 80.0);
    }

    void simplification_shrinks_a_disc() {
        cv::Mat mask = blank(400, 400);
        cv::circle(mask, {200, 200}, 150, 255, cv::FILLED);
        PolygonOptions exact;
        exact.tolerance_px = 0;
        const auto all = mask_to_polygons(mask, exact);
        const auto simple = mask_to_polygons(mask);
        QCOMPARE(simple.size(), size_t(1));
        QVERIFY2(simple[0].size() * 2 < all[0].size(), qPrintable(QString("%1 vs %2").arg(simple[0].size()).arg(all[0].size())));
    }

    void specks_below_min_area_dropped() {
        cv::Mat mask = blank();
        mask(cv::Rect(5, 5, 2, 2)) = 255;
        mask(cv::Rect(50, 50, 20, 20)) = 255;
        PolygonOptions options;
        options.min_area_px = 5;
        QCOMPARE(mask_to_polygons(mask, options).size(), size_t(1));
    }
};

QTEST_MAIN(TestPolygons)
#include "test_polygons.moc"
