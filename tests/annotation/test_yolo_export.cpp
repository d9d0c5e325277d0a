// YOLO segmentation export: one line per object whatever its parts and holes, read back as
// Ultralytics reads it (cv::fillPoly of the denormalised points truncated to int, its
// polygon2mask) and as pycocotools reads pixel-corner polygons; specks left out.
#include <QtTest>

#include <QDir>
#include <QImage>
#include <QTemporaryDir>

#include <opencv2/imgproc.hpp>

#include "annotation/formats.h"
#include "annotation/polygon_merge.h"

using namespace ps::annotation;

Q_DECLARE_METATYPE(cv::Mat)

namespace {

constexpr int kWidth = 240, kHeight = 180;

cv::Mat blank() {
    return cv::Mat(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
}

double iou(const cv::Mat& a, const cv::Mat& b) {
    const int union_area = cv::countNonZero(a | b);
    return union_area == 0 ? 1.0 : double(cv::countNonZero(a & b)) / union_area;
}

cv::Mat two_blobs() {
    cv::Mat mask = blank();
    cv::circle(mask, {60, 60}, 30, 255, cv::FILLED);
    mask(cv::Rect(150, 100, 60, 50)) = 255;
    return mask;
}

cv::Mat three_blobs() {
    cv::Mat mask = blank();
    cv::circle(mask, {50, 50}, 25, 255, cv::FILLED);
    cv::circle(mask, {190, 45}, 20, 255, cv::FILLED);
    cv::ellipse(mask, {120, 135}, {45, 25}, 20, 0, 360, 255, cv::FILLED);
    return mask;
}

cv::Mat disc_with_holes() {
    cv::Mat mask = blank();
    cv::circle(mask, {120, 90}, 75, 255, cv::FILLED);
    cv::circle(mask, {90, 75}, 15, 0, cv::FILLED);
    cv::circle(mask, {155, 100}, 12, 0, cv::FILLED);
    mask(cv::Rect(105, 125, 25, 10)) = 0;
    return mask;
}

cv::Mat ring() {
    cv::Mat mask = blank();
    cv::circle(mask, {120, 90}, 75, 255, cv::FILLED);
    cv::circle(mask, {120, 90}, 45, 0, cv::FILLED);
    return mask;
}

// Two parts with holes, one with a 5x5 island in its hole (25 px: not a speck).
cv::Mat rings_and_island() {
    cv::Mat mask = blank();
    cv::circle(mask, {60, 90}, 45, 255, cv::FILLED);
    cv::circle(mask, {60, 90}, 25, 0, cv::FILLED);
    mask(cv::Rect(50, 80, 5, 5)) = 255;
    cv::circle(mask, {180, 90}, 40, 255, cv::FILLED);
    cv::circle(mask, {185, 85}, 15, 0, cv::FILLED);
    return mask;
}

// A disc of 7,845 px with a 10x10 part (kept), a 2x2 speck (under 16 px) and a 6x5 one
// (30 px, under 0.5% of the disc) beside it.
cv::Mat speckled_blob(bool with_specks) {
    cv::Mat mask = blank();
    cv::circle(mask, {100, 90}, 50, 255, cv::FILLED);
    mask(cv::Rect(170, 40, 10, 10)) = 255;
    if (with_specks) {
        mask(cv::Rect(157, 90, 2, 2)) = 255;
        mask(cv::Rect(100, 150, 6, 5)) = 255;
    }
    return mask;
}

void write_image(const QString& path) {
    QDir().mkpath(QFileInfo(path).path());
    QImage image(kWidth, kHeight, QImage::Format_RGB888);
    image.fill(QColor(40, 90, 160));
    QVERIFY(image.save(path));
}

AnnotatedObject object(const std::string& label, const cv::Mat& mask) {
    AnnotatedObject result;
    result.label = label;
    result.mask = rle_encode(mask);
    result.bbox = rle_bbox(result.mask);
    result.verified = true;
    result.model = "test";
    return result;
}

// Exports one image holding `masks` as objects (label "part" + index) and returns the lines of
// its label file.
QList<QByteArray> export_lines(const std::vector<cv::Mat>& masks) {
    QTemporaryDir dir;
    write_image(dir.filePath("image.png"));
    LabelSet labels;
    for (size_t i = 0; i < masks.size(); ++i)
        labels.labels.push_back({"part" + std::to_string(i), {255, 0, 0}, ""});
    auto project =
        Project::open(dir.filePath("project").toStdString(), labels, dir.path().toStdString());
    if (!project) qFatal("%s", project.message().c_str());
    ImageAnnotation annotation;
    annotation.image_file = "image.png";
    annotation.width = kWidth;
    annotation.height = kHeight;
    annotation.status = ImageStatus::Done;
    for (size_t i = 0; i < masks.size(); ++i)
        annotation.add(object("part" + std::to_string(i), masks[i]));
    if (!project->save(annotation)) qFatal("cannot save the annotation");
    const QString out = dir.filePath("yolo");
    auto summary = export_project(*project, ExportFormat::Yolo, out.toStdString());
    if (!summary) qFatal("%s", summary.message().c_str());
    QFile file(out + "/labels/image.txt");
    if (!file.open(QIODevice::ReadOnly)) qFatal("no label file");
    QList<QByteArray> lines = file.readAll().split('\n');
    if (!lines.isEmpty() && lines.back().isEmpty()) lines.pop_back();
    return lines;
}

// A label line's class and polygon in pixels (normalised coordinates times the image size).
struct Line {
    int class_index = -1;
    Polygon polygon;
    QString problem;
};

Line parse(const QByteArray& text) {
    Line line;
    const QList<QByteArray> numbers = text.split(' ');
    if (numbers.size() < 7 || numbers.size() % 2 == 0) {
        line.problem = QString("%1 numbers").arg(numbers.size());
        return line;
    }
    line.class_index = numbers[0].toInt();
    for (int i = 1; i < numbers.size(); i += 2) {
        for (int k : {i, i + 1}) {
            const int point = numbers[k].indexOf('.');
            if (point < 0 || numbers[k].size() - point - 1 != 6)
                line.problem = "not 6 decimals: " + numbers[k];
        }
        const double x = numbers[i].toDouble(), y = numbers[i + 1].toDouble();
        if (x < 0 || x > 1 || y < 0 || y > 1)
            line.problem = QString("outside [0, 1]: %1 %2").arg(x).arg(y);
        line.polygon.emplace_back(x * kWidth, y * kHeight);
    }
    return line;
}

// Ultralytics' polygon2mask (ultralytics/data/utils.py): the points cast to int32 (truncated),
// cv2.fillPoly.
cv::Mat ultralytics_raster(const Polygon& polygon) {
    std::vector<cv::Point> points;
    for (const cv::Point2d& p : polygon)
        points.emplace_back(static_cast<int>(p.x), static_cast<int>(p.y));
    cv::Mat mask = blank();
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{points}, 255);
    return mask;
}

}  // namespace

class TestYoloExport : public QObject {
    Q_OBJECT

  private slots:
    // `expected` is the mask less its specks; `specks` the pixels no reader may find.
    void one_line_per_object_data() {
        QTest::addColumn<cv::Mat>("mask");
        QTest::addColumn<cv::Mat>("expected");
        QTest::addColumn<cv::Mat>("specks");
        QTest::newRow("two blobs") << two_blobs() << two_blobs() << blank();
        QTest::newRow("three blobs") << three_blobs() << three_blobs() << blank();
        QTest::newRow("disc with holes") << disc_with_holes() << disc_with_holes() << blank();
        QTest::newRow("ring") << ring() << ring() << blank();
        QTest::newRow("rings and island") << rings_and_island() << rings_and_island() << blank();
        const cv::Mat specks = speckled_blob(true) & ~speckled_blob(false);
        QTest::newRow("speckled blob") << speckled_blob(true) << speckled_blob(false) << specks;
    }

    void one_line_per_object() {
        QFETCH(cv::Mat, mask);
        QFETCH(cv::Mat, expected);
        QFETCH(cv::Mat, specks);
        cv::Mat parts_labels;
        const int parts = cv::connectedComponents(mask, parts_labels, 8) - 1;
        const QList<QByteArray> lines = export_lines({mask});
        QVERIFY2(
            lines.size() == 1,
            qPrintable(QString("%1 lines for an object of %2 parts").arg(lines.size()).arg(parts)));
        const Line line = parse(lines[0]);
        QVERIFY2(line.problem.isEmpty(), qPrintable(line.problem));
        QCOMPARE(line.class_index, 0);

        const cv::Mat ultralytics = ultralytics_raster(line.polygon);
        const cv::Mat corners = polygons_to_mask({line.polygon}, kHeight, kWidth);
        const double ultralytics_iou = iou(ultralytics, expected),
                     corners_iou = iou(corners, expected);
        // For scale: cv::fillPoly of the parts one by one, without bridges (not a YOLO line).
        cv::Mat separately = blank();
        for (const Polygon& part : mask_to_polygons(expected))
            separately |= ultralytics_raster(part);
        qInfo(
            "%s: %d parts -> %lld line, %zu points; IoU %.4f (cv::fillPoly, Ultralytics; %.4f for "
            "the parts "
            "filled one by one), %.4f (pixel corners, pycocotools); fillPoly: %d px outside the "
            "mask, %d missed",
            QTest::currentDataTag(), parts, static_cast<long long>(lines.size()),
            line.polygon.size(), ultralytics_iou, iou(separately, expected), corners_iou,
            cv::countNonZero(ultralytics & ~expected), cv::countNonZero(expected & ~ultralytics));
        // cv::fillPoly fills the outline's pixels too: truncated pixel-corner coordinates put a
        // 1-px seam on the right and bottom of each part, and the bridges draw 1-px lines.
        QVERIFY2(ultralytics_iou >= 0.9,
                 qPrintable(QString("cv::fillPoly IoU %1").arg(ultralytics_iou)));
        QVERIFY2(corners_iou >= 0.98, qPrintable(QString("pixel-corner IoU %1").arg(corners_iou)));
        QCOMPARE(cv::countNonZero(ultralytics & specks), 0);
        QCOMPARE(cv::countNonZero(corners & specks), 0);
    }

    void objects_keep_their_order_and_class() {
        const std::vector<cv::Mat> masks = {three_blobs(), ring(), speckled_blob(true),
                                            rings_and_island()};
        const QList<QByteArray> lines = export_lines(masks);
        QVERIFY2(
            lines.size() == int(masks.size()),
            qPrintable(QString("%1 lines for %2 objects").arg(lines.size()).arg(masks.size())));
        for (int i = 0; i < lines.size(); ++i) {
            const Line line = parse(lines[i]);
            QVERIFY2(line.problem.isEmpty(), qPrintable(line.problem));
            QCOMPARE(line.class_index, i);
            const cv::Mat expected = i == 2 ? speckled_blob(false) : masks[size_t(i)];
            QVERIFY(iou(polygons_to_mask({line.polygon}, kHeight, kWidth), expected) >= 0.98);
        }
    }

    // Unsimplified parts merged: the pixel-corner reading is the union of the parts, exactly
    // (each bridge is walked once each way and cancels).
    void merged_parts_read_back_exactly_data() {
        QTest::addColumn<cv::Mat>("mask");
        QTest::newRow("two blobs") << two_blobs();
        QTest::newRow("three blobs") << three_blobs();
        QTest::newRow("rings and island") << rings_and_island();
        QTest::newRow("speckled blob") << speckled_blob(true);
    }

    void merged_parts_read_back_exactly() {
        QFETCH(cv::Mat, mask);
        PolygonOptions exact;
        exact.tolerance_px = 0;
        const std::vector<Polygon> parts = mask_to_polygons(mask, exact);
        QVERIFY(parts.size() > 1);
        const Polygon merged = merge_polygons(parts);
        size_t vertices = 0;
        for (const Polygon& part : parts) vertices += part.size();
        QVERIFY(merged.size() >= vertices);
        QCOMPARE(cv::countNonZero(polygons_to_mask({merged}, kHeight, kWidth) != mask), 0);
    }

    void bridges_join_nearest_parts() {
        // Three squares in a row, listed out of order: the chain goes left to middle to right,
        // so no edge is longer than the 20 px gap between neighbours.
        cv::Mat left = blank(), middle = blank(), right = blank();
        left(cv::Rect(10, 80, 20, 20)) = 255;
        middle(cv::Rect(50, 80, 20, 20)) = 255;
        right(cv::Rect(90, 80, 20, 20)) = 255;
        PolygonOptions exact;
        exact.tolerance_px = 0;
        const Polygon merged =
            merge_polygons({mask_to_polygons(left, exact)[0], mask_to_polygons(right, exact)[0],
                            mask_to_polygons(middle, exact)[0]});
        double longest = 0;
        for (size_t i = 0; i < merged.size(); ++i) {
            const cv::Point2d d = merged[(i + 1) % merged.size()] - merged[i];
            longest = std::max(longest, std::hypot(d.x, d.y));
        }
        QVERIFY2(longest <= 20.0 + 1e-9, qPrintable(QString("longest edge %1 px").arg(longest)));
        QCOMPARE(cv::countNonZero(polygons_to_mask({merged}, kHeight, kWidth) !=
                                  (left | middle | right)),
                 0);

        QVERIFY(merge_polygons({}).empty());
        const Polygon square = mask_to_polygons(left, exact)[0];
        QVERIFY(merge_polygons({square, {}}) == square);
    }
};

QTEST_MAIN(TestYoloExport)
#include "test_yolo_export.moc"
