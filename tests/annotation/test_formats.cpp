// Export and import: project -> each format -> back (COCO RLE exactly; polygons within IoU 0.98
// on shapes with holes and thin parts), YOLO and PNG read back here, and Debian's labelme
// rendering our LabelMe files.
#include <QtTest>

#include <QBuffer>
#include <QDir>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <opencv2/imgproc.hpp>

#include <map>

#include "annotation/formats.h"

using namespace ps::annotation;

namespace {

constexpr int kWidth = 96, kHeight = 80;

cv::Mat blank() {
    return cv::Mat(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
}

cv::Mat ring() {
    cv::Mat mask = blank();
    cv::circle(mask, {30, 30}, 22, 255, cv::FILLED);
    cv::circle(mask, {28, 32}, 9, 0, cv::FILLED);
    mask(cv::Rect(22, 28, 3, 3)) = 255;  // an island in the hole
    return mask;
}

cv::Mat thin_parts() {
    cv::Mat mask = blank();
    mask(cv::Rect(60, 10, 25, 20)) = 255;
    mask(cv::Rect(50, 40, 40, 1)) = 255;  // 1-px line, apart: a second component
    mask(cv::Rect(70, 30, 2, 25)) = 255;  // 2-px bar joining it
    cv::line(mask, {60, 60}, {90, 75}, 255, 3);
    return mask;
}

cv::Mat small_square() {
    cv::Mat mask = blank();
    mask(cv::Rect(5, 60, 12, 12)) = 255;
    mask(cv::Rect(9, 64, 4, 4)) = 0;
    return mask;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
    const int union_area = cv::countNonZero(a | b);
    return union_area == 0 ? 1.0 : double(cv::countNonZero(a & b)) / union_area;
}

void write_image(const QString& path) {
    QDir().mkpath(QFileInfo(path).path());
    QImage image(kWidth, kHeight, QImage::Format_RGB888);
    image.fill(QColor(40, 90, 160));
    QVERIFY(image.save(path));
}

cv::Mat read_grey_png(const QString& path, bool keep_indices = false) {
    QImage image(path);
    if (image.isNull()) return {};
    if (!(keep_indices && image.format() == QImage::Format_Indexed8))
        image = image.convertToFormat(QImage::Format_Grayscale8);
    cv::Mat mask(image.height(), image.width(), CV_8UC1);
    for (int y = 0; y < image.height(); ++y)
        std::copy_n(image.constScanLine(y), image.width(), mask.ptr<uint8_t>(y));
    return mask;
}

AnnotatedObject object(const std::string& label, const cv::Mat& mask, bool verified = true,
                       bool hidden = false) {
    AnnotatedObject result;
    result.label = label;
    result.mask = rle_encode(mask);
    result.bbox = rle_bbox(result.mask);
    result.verified = verified;
    result.hidden = hidden;
    result.model = "test";
    return result;
}

// A project with two annotated images (one in a subfolder) and one left alone.
struct Fixture {
    QTemporaryDir dir;
    std::optional<Project> project;

    Fixture() {
        for (const char* name : {"one.png", "nested/two.png", "three.png"})
            write_image(dir.filePath(name));
        LabelSet labels;
        labels.labels = {
            {"cat", {255, 0, 0}, "1"}, {"dog", {0, 0, 255}, "2"}, {"tree", {0, 200, 0}, "3"}};
        auto opened =
            Project::open(dir.filePath("project").toStdString(), labels, dir.path().toStdString());
        if (!opened) qFatal("%s", opened.message().c_str());
        project = std::move(*opened);
        ImageAnnotation one;
        one.image_file = "one.png";
        one.width = kWidth;
        one.height = kHeight;
        one.status = ImageStatus::Done;
        one.add(object("dog", ring()));
        one.add(object("cat", thin_parts(), false));
        one.add(object("tree", small_square(), true, true));  // hidden
        ImageAnnotation two = one;
        two.image_file = "nested/two.png";
        two.objects.clear();
        two.next_object_id = 1;
        two.add(object("tree", thin_parts()));
        if (!project->save(one) || !project->save(two)) qFatal("cannot save the fixture");
    }

    // The exported objects of an image: label and mask, in object order.
    std::vector<std::pair<std::string, cv::Mat>> expected(const std::string& image,
                                                          bool hidden = false) const {
        std::vector<std::pair<std::string, cv::Mat>> objects;
        const auto loaded = project->load(image);
        for (const auto& o : loaded->annotation.objects)
            if (hidden || !o.hidden) objects.emplace_back(o.label, rle_decode(o.mask));
        return objects;
    }

    // A fresh project over the same images, to import into.
    Project fresh(const QString& name) const {
        auto opened = Project::open(dir.filePath(name).toStdString(), {}, dir.path().toStdString());
        if (!opened) qFatal("%s", opened.message().c_str());
        return std::move(*opened);
    }
};

void compare_imported(const Fixture& fixture, const Project& imported, double min_iou) {
    for (const std::string image : {"one.png", "nested/two.png"}) {
        const auto expected = fixture.expected(image);
        const auto loaded = imported.load(image);
        QVERIFY(loaded.ok());
        const auto& objects = loaded->annotation.objects;
        QCOMPARE(objects.size(), expected.size());
        for (size_t i = 0; i < objects.size(); ++i) {
            QCOMPARE(objects[i].label, expected[i].first);
            QVERIFY(!objects[i].verified);
            const double overlap = iou(rle_decode(objects[i].mask), expected[i].second);
            QVERIFY2(
                overlap >= min_iou,
                qPrintable(QString("%1 object %2: IoU %3").arg(image.c_str()).arg(i).arg(overlap)));
        }
    }
}

// pycocotools' rleFrPoly (cocoapi common/maskApi.c), re-written here as an independent reader
// of COCO polygons: the boundary is walked at 5x resolution, each column sampled at its centre,
// the crossings sorted column-major and turned into runs (even-odd).
cv::Mat coco_polygon_to_mask(const std::vector<double>& xy, int h, int w) {
    const double scale = 5;
    const size_t k = xy.size() / 2;
    std::vector<int> x(k + 1), y(k + 1), u, v;
    for (size_t j = 0; j < k; ++j)
        x[j] = int(scale * xy[j * 2] + .5), y[j] = int(scale * xy[j * 2 + 1] + .5);
    x[k] = x[0];
    y[k] = y[0];
    for (size_t j = 0; j < k; ++j) {
        int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
        const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
        const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if (flip) std::swap(xs, xe), std::swap(ys, ye);
        const double slope = dx >= dy ? double(ye - ys) / dx : double(xe - xs) / dy;
        if (dx >= dy) {
            for (int d = 0; d <= dx; ++d) {
                const int t = flip ? dx - d : d;
                u.push_back(t + xs);
                v.push_back(int(ys + slope * t + .5));
            }
        } else {
            for (int d = 0; d <= dy; ++d) {
                const int t = flip ? dy - d : d;
                v.push_back(t + ys);
                u.push_back(int(xs + slope * t + .5));
            }
        }
    }
    std::vector<uint32_t> positions;
    for (size_t j = 1; j < u.size(); ++j) {
        if (u[j] == u[j - 1]) continue;
        double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
        xd = (xd + .5) / scale - .5;
        if (std::floor(xd) != xd || xd < 0 || xd > w - 1) continue;
        double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
        yd = (yd + .5) / scale - .5;
        yd = std::ceil(std::clamp(yd, 0.0, double(h)));
        positions.push_back(uint32_t(int(xd) * h + int(yd)));
    }
    positions.push_back(uint32_t(h * w));
    std::sort(positions.begin(), positions.end());
    std::vector<uint32_t> counts;
    uint32_t previous = 0;
    for (size_t j = 0; j < positions.size(); ++j) {
        const uint32_t run = positions[j] - previous;
        previous = positions[j];
        if (j > 0 && run == 0) {  // two crossings at one place cancel: merge with the next run
            if (++j < positions.size())
                counts.back() += positions[j] - previous, previous = positions[j];
            continue;
        }
        counts.push_back(run);
    }
    auto rle = rle_from_counts(counts, h, w, "rleFrPoly");
    return rle ? rle_decode(*rle) : cv::Mat();
}

// Unsimplified polygons must give the masks back exactly, simplified ones within IoU 0.98.
void tolerance_table() {
    QTest::addColumn<double>("tolerance");
    QTest::addColumn<double>("min_iou");
    QTest::newRow("exact polygons") << 0.0 << 1.0;
    QTest::newRow("simplified") << 0.5 << 0.98;
}

QJsonObject read_json(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

}  // namespace

class TestFormats : public QObject {
    Q_OBJECT

  private slots:
    void coco_rle_round_trip_is_exact() {
        Fixture fixture;
        const QString out = fixture.dir.filePath("coco");
        auto summary = export_project(*fixture.project, ExportFormat::Coco, out.toStdString());
        QVERIFY2(summary.ok(), summary.ok() ? "" : summary.message().c_str());
        QCOMPARE(summary->images, 2);
        QCOMPARE(summary->objects, 3);  // the hidden one left out

        const QJsonObject coco = read_json(out + "/annotations.json");
        const QJsonArray categories = coco.value("categories").toArray();
        QCOMPARE(categories.size(), 3);
        QCOMPARE(categories[0].toObject().value("id").toInt(), 1);
        QCOMPARE(categories[0].toObject().value("name").toString(), QString("cat"));
        QCOMPARE(categories[2].toObject().value("name").toString(), QString("tree"));
        const QJsonArray images = coco.value("images").toArray();
        QCOMPARE(images[0].toObject().value("id").toInt(), coco_image_id("nested/two.png"));
        QCOMPARE(images[0].toObject().value("file_name").toString(), QString("nested/two.png"));
        const QJsonObject first = coco.value("annotations").toArray()[0].toObject();
        QCOMPARE(first.value("iscrowd").toInt(), 0);
        QCOMPARE(first.value("category_id").toInt(), 3);
        QCOMPARE(first.value("area").toDouble(), double(cv::countNonZero(thin_parts())));
        const cv::Rect box = cv::boundingRect(thin_parts());
        QCOMPARE(first.value("bbox").toArray(), (QJsonArray{box.x, box.y, box.width, box.height}));
        QVERIFY(first.value("segmentation").toObject().value("counts").isString());

        Project imported = fixture.fresh("imported");
        auto result = import_coco(imported, (out + "/annotations.json").toStdString());
        QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
        QCOMPARE(result->objects, 3);
        auto added = result->labels_added;
        std::sort(added.begin(), added.end());
        QCOMPARE(added, (std::vector<std::string>{"cat", "dog", "tree"}));
        QVERIFY(result->skipped.empty());
        for (const std::string image : {"one.png", "nested/two.png"}) {
            const auto expected = fixture.expected(image);
            const auto objects = imported.load(image)->annotation.objects;
            QCOMPARE(objects.size(), expected.size());
            for (size_t i = 0; i < objects.size(); ++i) {
                QCOMPARE(objects[i].label, expected[i].first);
                QVERIFY(objects[i].mask == rle_encode(expected[i].second));  // exactly
                QCOMPARE(objects[i].model, std::string("import:coco"));
            }
        }
        // Importing again adds nothing.
        auto again = import_coco(imported, (out + "/annotations.json").toStdString());
        QVERIFY(again.ok());
        QCOMPARE(again->objects, 0);

        // Image ids do not change when images are added.
        write_image(fixture.dir.filePath("aaa.png"));
        fixture.project->rescan();
        auto second = export_project(*fixture.project, ExportFormat::Coco, out.toStdString());
        QVERIFY(second.ok());
        QCOMPARE(read_json(out + "/annotations.json")
                     .value("images")
                     .toArray()[1]
                     .toObject()
                     .value("id")
                     .toInt(),
                 coco_image_id("one.png"));
    }

    void coco_polygons_round_trip() {
        Fixture fixture;
        const QString out = fixture.dir.filePath("coco-polygons");
        ExportOptions options;
        options.coco_polygons = true;
        QVERIFY(
            export_project(*fixture.project, ExportFormat::Coco, out.toStdString(), options).ok());
        const QJsonObject coco = read_json(out + "/annotations.json");
        const QJsonArray segmentation =
            coco.value("annotations").toArray()[0].toObject().value("segmentation").toArray();
        QCOMPARE(segmentation.size(), 2);  // two components of thin_parts
        Project imported = fixture.fresh("imported");
        auto result = import_coco(imported, (out + "/annotations.json").toStdString());
        QVERIFY(result.ok());
        compare_imported(fixture, imported, 0.98);
    }

    void coco_polygons_read_as_pycocotools_does_data() { tolerance_table(); }

    void coco_polygons_read_as_pycocotools_does() {
        QFETCH(double, tolerance);
        QFETCH(double, min_iou);
        Fixture fixture;
        const QString out = fixture.dir.filePath("coco-polygons");
        ExportOptions options;
        options.coco_polygons = true;
        options.include_hidden = true;
        options.polygon.tolerance_px = tolerance;
        QVERIFY(
            export_project(*fixture.project, ExportFormat::Coco, out.toStdString(), options).ok());
        const QJsonArray annotations =
            read_json(out + "/annotations.json").value("annotations").toArray();
        const auto expected = fixture.expected("one.png", true);
        int checked = 0;
        for (const QJsonValue& value : annotations) {
            const QJsonObject annotation = value.toObject();
            if (annotation.value("image_id").toInt() != coco_image_id("one.png")) continue;
            cv::Mat decoded = blank();
            for (const QJsonValue& polygon : annotation.value("segmentation").toArray()) {
                std::vector<double> xy;
                for (const QJsonValue& number : polygon.toArray()) xy.push_back(number.toDouble());
                decoded |=
                    coco_polygon_to_mask(xy, kHeight, kWidth);  // pycocotools merges the parts
            }
            const double overlap = iou(decoded, expected[size_t(checked)].second);
            QVERIFY2(overlap >= min_iou,
                     qPrintable(QString("object %1: IoU %2").arg(checked).arg(overlap)));
            ++checked;
        }
        QCOMPARE(checked, 3);
    }

    void coco_import_reads_counts_lists_and_reports_problems() {
        Fixture fixture;
        // one.png 96x80: an uncompressed RLE (iscrowd 1 style) of the first column's 10 top
        // pixels, a polygon square, a missing category and a bad RLE.
        const QJsonObject coco{
            {"images", QJsonArray{QJsonObject{{"id", 7},
                                              {"file_name", "somewhere/one.png"},
                                              {"width", kWidth},
                                              {"height", kHeight}}}},
            {"categories", QJsonArray{QJsonObject{{"id", 3}, {"name", "fish"}}}},
            {"annotations",
             QJsonArray{
                 QJsonObject{{"id", 1},
                             {"image_id", 7},
                             {"category_id", 3},
                             {"iscrowd", 1},
                             {"segmentation",
                              QJsonObject{{"size", QJsonArray{kHeight, kWidth}},
                                          {"counts", QJsonArray{0, 10, kHeight * kWidth - 10}}}}},
                 QJsonObject{
                     {"id", 2},
                     {"image_id", 7},
                     {"category_id", 3},
                     {"segmentation", QJsonArray{QJsonArray{10, 10, 20, 10, 20, 20, 10, 20}}}},
                 QJsonObject{{"id", 3},
                             {"image_id", 7},
                             {"category_id", 9},
                             {"segmentation", QJsonArray{}}},
                 QJsonObject{{"id", 4},
                             {"image_id", 7},
                             {"category_id", 3},
                             {"segmentation", QJsonObject{{"size", QJsonArray{kHeight, kWidth}},
                                                          {"counts", "0"}}}}}}};
        const QString path = fixture.dir.filePath("hand.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(coco).toJson());
        file.close();
        Project imported = fixture.fresh("imported");
        auto result = import_coco(imported, path.toStdString());
        QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
        QCOMPARE(result->objects, 2);
        QCOMPARE(result->skipped.size(), size_t(2));
        QVERIFY2(QString::fromStdString(result->skipped[0]).contains("annotation 3: no category"),
                 result->skipped[0].c_str());
        QVERIFY2(QString::fromStdString(result->skipped[1]).startsWith(path + ": annotation 4"),
                 result->skipped[1].c_str());
        const auto objects = imported.load("one.png")->annotation.objects;
        QCOMPARE(objects.size(), size_t(2));
        cv::Mat column = blank();
        column(cv::Rect(0, 0, 1, 10)) = 255;
        QVERIFY(objects[0].mask == rle_encode(column));
        cv::Mat square = blank();
        square(cv::Rect(10, 10, 10, 10)) = 255;  // pixel corners: [10, 20) both ways
        QVERIFY(objects[1].mask == rle_encode(square));
        QCOMPARE(imported.labels().labels.size(), size_t(1));
        QCOMPARE(imported.status("one.png"), ImageStatus::InProgress);
    }

    void hostile_polygons_and_sizes_are_skipped() {
        Fixture fixture;
        // Coordinates the rasteriser cannot walk (1e12: an outline of 5e12 steps; 1e300: past
        // long) and an image size whose mask cannot be allocated: messages, not a crash.
        const QJsonObject coco{
            {"images",
             QJsonArray{QJsonObject{
                 {"id", 7}, {"file_name", "one.png"}, {"width", kWidth}, {"height", kHeight}}}},
            {"categories", QJsonArray{QJsonObject{{"id", 3}, {"name", "fish"}}}},
            {"annotations",
             QJsonArray{
                 QJsonObject{{"id", 1},
                             {"image_id", 7},
                             {"category_id", 3},
                             {"segmentation", QJsonArray{QJsonArray{0, 0, 1e12, 0, 1e12, 1e12}}}},
                 QJsonObject{
                     {"id", 2},
                     {"image_id", 7},
                     {"category_id", 3},
                     {"segmentation", QJsonArray{QJsonArray{0, 0, 1e300, 0, 1e300, -1e300}}}},
                 QJsonObject{
                     {"id", 3},
                     {"image_id", 7},
                     {"category_id", 3},
                     {"segmentation", QJsonArray{QJsonArray{10, 10, 20, 10, 20, 20, 10, 20}}}}}}};
        const QString coco_path = fixture.dir.filePath("hostile.json");
        QFile file(coco_path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(coco).toJson());
        file.close();
        Project imported = fixture.fresh("imported");
        auto result = import_coco(imported, coco_path.toStdString());
        QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
        QCOMPARE(result->objects, 1);
        QCOMPARE(result->skipped.size(), size_t(2));
        for (const std::string& skipped : result->skipped)
            QVERIFY2(QString::fromStdString(skipped).contains("far outside"), skipped.c_str());

        // A size that is not the image file's (width and height swapped): skipped, not an
        // annotation the editor could only show read-only.
        QJsonObject swapped = coco;
        swapped["images"] = QJsonArray{QJsonObject{
            {"id", 7}, {"file_name", "three.png"}, {"width", kHeight}, {"height", kWidth}}};
        swapped["annotations"] = QJsonArray{
            QJsonObject{{"id", 3},
                        {"image_id", 7},
                        {"category_id", 3},
                        {"segmentation", QJsonArray{QJsonArray{10, 10, 20, 10, 20, 20}}}}};
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(QJsonDocument(swapped).toJson());
        file.close();
        auto mismatched = import_coco(imported, coco_path.toStdString());
        QVERIFY2(mismatched.ok(), mismatched.ok() ? "" : mismatched.message().c_str());
        QCOMPARE(mismatched->objects, 0);
        QCOMPARE(mismatched->skipped.size(), size_t(1));
        QVERIFY2(QString::fromStdString(mismatched->skipped[0])
                     .contains("differs from the image file's 96x80"),
                 mismatched->skipped[0].c_str());
        QVERIFY(imported.load("three.png")->annotation.objects.empty());

        QJsonObject huge = coco;
        huge["images"] = QJsonArray{QJsonObject{
            {"id", 7}, {"file_name", "one.png"}, {"width", 200000}, {"height", 200000}}};
        huge["annotations"] = QJsonArray{
            QJsonObject{{"id", 3},
                        {"image_id", 7},
                        {"category_id", 3},
                        {"segmentation", QJsonArray{QJsonArray{10, 10, 20, 10, 20, 20}}}}};
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(QJsonDocument(huge).toJson());
        file.close();
        auto refused = import_coco(imported, coco_path.toStdString());
        QVERIFY(!refused.ok());
        QVERIFY2(QString::fromStdString(refused.message()).contains("over the limit"),
                 refused.message().c_str());

        const QString labelme_dir = fixture.dir.filePath("labelme-hostile");
        QDir().mkpath(labelme_dir);
        auto write_labelme = [&](const QString& name, int width, int height,
                                 const QJsonArray& shapes) {
            QFile out(labelme_dir + "/" + name);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(QJsonDocument(QJsonObject{{"shapes", shapes},
                                                {"imagePath", "../one.png"},
                                                {"imageWidth", width},
                                                {"imageHeight", height}})
                          .toJson());
        };
        const QString tiny_png =
            QString::fromLatin1(QByteArray::fromStdString([] {
                                    QImage image(2, 2, QImage::Format_Grayscale8);
                                    image.fill(255);
                                    QByteArray bytes;
                                    QBuffer buffer(&bytes);
                                    buffer.open(QIODevice::WriteOnly);
                                    image.save(&buffer, "PNG");
                                    return bytes.toStdString();
                                }())
                                    .toBase64());
        write_labelme(
            "a.json", kWidth, kHeight,
            QJsonArray{QJsonObject{{"label", "far"},
                                   {"shape_type", "polygon"},
                                   {"points", QJsonArray{QJsonArray{0, 0}, QJsonArray{1e12, 0},
                                                         QJsonArray{1e12, 1e12}}}},
                       QJsonObject{{"label", "far"},
                                   {"shape_type", "mask"},
                                   {"mask", tiny_png},
                                   {"points", QJsonArray{QJsonArray{1e300, 1e300},
                                                         QJsonArray{1e300, 1e300}}}}});
        write_labelme(
            "b.json", 200000, 200000,
            QJsonArray{QJsonObject{
                {"label", "big"},
                {"shape_type", "polygon"},
                {"points", QJsonArray{QJsonArray{0, 0}, QJsonArray{9, 0}, QJsonArray{9, 9}}}}});
        Project second = fixture.fresh("second");
        auto labelme = import_labelme(second, labelme_dir.toStdString());
        QVERIFY2(labelme.ok(), labelme.ok() ? "" : labelme.message().c_str());
        QCOMPARE(labelme->objects, 0);
        QCOMPARE(labelme->skipped.size(), size_t(3));
        QVERIFY2(QString::fromStdString(labelme->skipped[0]).contains("far outside"),
                 labelme->skipped[0].c_str());
        QVERIFY2(QString::fromStdString(labelme->skipped[1]).contains("far outside"),
                 labelme->skipped[1].c_str());
        QVERIFY2(QString::fromStdString(labelme->skipped[2]).contains("over the limit"),
                 labelme->skipped[2].c_str());
    }

    void labelme_round_trip() {
        Fixture fixture;
        const QString out = fixture.dir.filePath("labelme");
        ExportOptions options;
        options.include_hidden = true;
        QVERIFY(export_project(*fixture.project, ExportFormat::LabelMe, out.toStdString(), options)
                    .ok());
        const QJsonObject json = read_json(out + "/nested/two.json");
        QCOMPARE(json.value("version").toString(), QString("5.1.1"));
        QCOMPARE(json.value("imagePath").toString(), QString("../../nested/two.png"));
        QVERIFY(json.value("imageData").isNull());
        QCOMPARE(json.value("imageHeight").toInt(), kHeight);
        QCOMPARE(json.value("imageWidth").toInt(), kWidth);
        const QJsonArray shapes = json.value("shapes").toArray();
        QCOMPARE(shapes.size(), 2);  // thin_parts: two components, one group
        for (const QJsonValue& shape : shapes) {
            QCOMPARE(shape.toObject().value("shape_type").toString(), QString("polygon"));
            QCOMPARE(shape.toObject().value("label").toString(), QString("tree"));
            QCOMPARE(shape.toObject().value("group_id").toInt(), 1);
            QVERIFY(shape.toObject().value("points").toArray().size() >= 3);
        }
        Project imported = fixture.fresh("imported");
        auto result = import_labelme(imported, out.toStdString());
        QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
        QCOMPARE(result->images, 2);
        QCOMPARE(result->objects, 4);
        auto objects = imported.load("one.png")->annotation.objects;
        QCOMPARE(objects.size(), size_t(3));
        QCOMPARE(objects[2].label, std::string("tree"));
        QVERIFY(iou(rle_decode(objects[2].mask), small_square()) >= 0.98);
        QVERIFY(imported.remove_annotation("one.png").ok());
        objects.clear();
        // Without the hidden object the rest matches the project.
        auto visible = export_project(*fixture.project, ExportFormat::LabelMe, out.toStdString());
        QVERIFY(visible.ok());
        Project second = fixture.fresh("second");
        QVERIFY(import_labelme(second, out.toStdString()).ok());
        compare_imported(fixture, second, 0.98);
    }

    void labelme_masks_and_rectangles() {
        Fixture fixture;
        const QString out = fixture.dir.filePath("labelme-masks");
        ExportOptions options;
        options.labelme_masks = true;
        options.polygon.tolerance_px = 3;  // coarse polygons: the mask shape carries the detail
        QVERIFY(export_project(*fixture.project, ExportFormat::LabelMe, out.toStdString(), options)
                    .ok());
        QJsonObject json = read_json(out + "/one.json");
        QJsonArray shapes = json.value("shapes").toArray();
        bool has_mask = false;
        for (const QJsonValue& shape : shapes)
            has_mask |= shape.toObject().value("shape_type") == "mask";
        QVERIFY(has_mask);
        // Keep only the mask shapes: they alone must give the exact masks back.
        QJsonArray masks_only;
        for (const QJsonValue& shape : shapes)
            if (shape.toObject().value("shape_type") == "mask") masks_only.append(shape);
        // Labels are trimmed and checked as COCO names are: " box " is "box"; one with a line
        // break is that shape's problem only.
        masks_only.append(QJsonObject{{"label", " box "},
                                      {"points", QJsonArray{QJsonArray{2, 3}, QJsonArray{11, 7}}},
                                      {"shape_type", "rectangle"},
                                      {"group_id", QJsonValue::Null}});
        masks_only.append(QJsonObject{
            {"label", "dot"}, {"points", QJsonArray{QJsonArray{5, 5}}}, {"shape_type", "point"}});
        masks_only.append(QJsonObject{{"label", "two\nlines"},
                                      {"points", QJsonArray{QJsonArray{1, 1}, QJsonArray{4, 4}}},
                                      {"shape_type", "rectangle"}});
        json["shapes"] = masks_only;
        QFile file(out + "/one.json");
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(json).toJson());
        file.close();
        Project imported = fixture.fresh("imported");
        auto result = import_labelme(imported, (out + "/one.json").toStdString());
        QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
        QCOMPARE(result->skipped.size(), size_t(2));
        QVERIFY2(QString::fromStdString(result->skipped[0]).contains("\"point\""),
                 result->skipped[0].c_str());
        QVERIFY2(QString::fromStdString(result->skipped[1]).contains("control character"),
                 result->skipped[1].c_str());
        const auto objects = imported.load("one.png")->annotation.objects;
        QCOMPARE(objects.back().label, std::string("box"));
        const auto expected = fixture.expected("one.png");
        QCOMPARE(objects.size(), expected.size() + 1);
        for (size_t i = 0; i < expected.size(); ++i)
            QVERIFY(objects[i].mask == rle_encode(expected[i].second));
        cv::Mat box = blank();
        box(cv::Rect(2, 3, 10, 5)) = 255;  // PIL's rectangle includes both corners
        QVERIFY(objects.back().mask == rle_encode(box));
    }

    void yolo_read_back() {
        Fixture fixture;
        const QString out = fixture.dir.filePath("yolo");
        auto summary = export_project(*fixture.project, ExportFormat::Yolo, out.toStdString());
        QVERIFY(summary.ok());
        QFile classes(out + "/classes.txt");
        QVERIFY(classes.open(QIODevice::ReadOnly));
        QCOMPARE(classes.readAll(), QByteArray("cat\ndog\ntree\n"));
        for (const auto& [image, stem] : std::vector<std::pair<std::string, QString>>{
                 {"one.png", "one"}, {"nested/two.png", "nested/two"}}) {
            QFile labels(out + "/labels/" + stem + ".txt");
            QVERIFY(labels.open(QIODevice::ReadOnly));
            std::map<int, cv::Mat> by_class;
            for (const QByteArray& line : labels.readAll().split('\n')) {
                if (line.isEmpty()) continue;
                const QList<QByteArray> numbers = line.split(' ');
                QVERIFY(numbers.size() >= 7 && numbers.size() % 2 == 1);
                Polygon polygon;
                for (int i = 1; i < numbers.size(); i += 2) {
                    const double x = numbers[i].toDouble(), y = numbers[i + 1].toDouble();
                    QVERIFY(x >= 0 && x <= 1 && y >= 0 && y <= 1);
                    polygon.emplace_back(x * kWidth, y * kHeight);
                }
                cv::Mat& mask = by_class[numbers[0].toInt()];
                if (mask.empty()) mask = blank();
                mask |= polygons_to_mask({polygon}, kHeight, kWidth);
            }
            std::map<int, cv::Mat> expected;
            for (const auto& [label, mask] : fixture.expected(image)) {
                const int index = fixture.project->labels().index_of(label);
                if (expected[index].empty()) expected[index] = blank();
                expected[index] |= mask;
            }
            QCOMPARE(by_class.size(), expected.size());
            for (const auto& [index, mask] : expected) {
                const double overlap = iou(by_class[index], mask);
                QVERIFY2(overlap >= 0.98,
                         qPrintable(QString("class %1: IoU %2").arg(index).arg(overlap)));
            }
        }
    }

    void png_masks_read_back() {
        Fixture fixture;
        const QString out = fixture.dir.filePath("png");
        auto summary = export_project(*fixture.project, ExportFormat::Png, out.toStdString());
        QVERIFY(summary.ok());
        QFile names(out + "/labels.txt");
        QVERIFY(names.open(QIODevice::ReadOnly));
        QCOMPARE(names.readAll(), QByteArray("_background_\ncat\ndog\ntree\n"));
        const cv::Mat dog = read_grey_png(out + "/masks/one_1_dog.png");
        QCOMPARE(cv::countNonZero(dog != ring()), 0);
        QCOMPARE(
            cv::countNonZero(read_grey_png(out + "/masks/nested/two_1_tree.png") != thin_parts()),
            0);
        QVERIFY(!QFile::exists(out + "/masks/one_3_tree.png"));  // hidden
        const QImage semantic(out + "/semantic/one.png");
        QCOMPARE(semantic.format(), QImage::Format_Indexed8);
        QCOMPARE(semantic.colorTable().value(2), qRgb(0, 0, 255));  // dog
        const cv::Mat indices = read_grey_png(out + "/semantic/one.png", true);
        cv::Mat expected = blank();
        expected.setTo(2, ring());
        expected.setTo(1, thin_parts());
        QCOMPARE(cv::countNonZero(indices != expected), 0);
        QCOMPARE(int(summary->files.size()), 1 + 2 + 1 + 2);
        for (const std::string& file : summary->files)
            QVERIFY(QFileInfo(QString::fromStdString(file)).isAbsolute());
    }

    void corrupt_annotation_is_skipped_not_moved() {
        Fixture fixture;
        const QString path = QString::fromStdString(fixture.project->annotation_path("one.png"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("{ broken");
        file.close();
        auto summary = export_project(*fixture.project, ExportFormat::Coco,
                                      fixture.dir.filePath("coco").toStdString());
        QVERIFY(summary.ok());
        QCOMPARE(summary->images, 1);
        QCOMPARE(summary->skipped.size(), size_t(1));
        QVERIFY2(QString::fromStdString(summary->skipped[0]).startsWith("one.png: " + path),
                 summary->skipped[0].c_str());
        QVERIFY(QFile::exists(path));
    }

    // An import that must change nothing (the CLI's default) reports a corrupt annotation file
    // of the image it would add to and leaves it where it is; the app's import sets it aside
    // and goes on, as opening the image in the editor does.
    void import_into_a_corrupt_annotation() {
        Fixture fixture;
        const QString annotation =
            QString::fromStdString(fixture.project->annotation_path("one.png"));
        const auto corrupt = [&] {
            QFile file(annotation);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
            return file.write("{ broken") == 8;
        };
        QVERIFY(corrupt());
        const QJsonObject coco{
            {"images",
             QJsonArray{QJsonObject{
                 {"id", 1}, {"file_name", "one.png"}, {"width", kWidth}, {"height", kHeight}}}},
            {"categories", QJsonArray{QJsonObject{{"id", 1}, {"name", "fish"}}}},
            {"annotations",
             QJsonArray{QJsonObject{
                 {"id", 1},
                 {"image_id", 1},
                 {"category_id", 1},
                 {"segmentation", QJsonArray{QJsonArray{10, 10, 20, 10, 20, 20, 10, 20}}}}}}};
        const QString path = fixture.dir.filePath("in.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(coco).toJson());
        file.close();
        const QStringList before = QDir(QFileInfo(annotation).path()).entryList(QDir::Files);

        auto strict = import_coco(*fixture.project, path.toStdString(), ImportMode::AllOrNothing);
        QVERIFY(strict.ok());
        QCOMPARE(strict->objects, 0);
        QCOMPARE(strict->skipped.size(), size_t(1));
        QVERIFY2(QString::fromStdString(strict->skipped[0]).contains(annotation),
                 strict->skipped[0].c_str());
        QCOMPARE(QDir(QFileInfo(annotation).path()).entryList(QDir::Files), before);
        QFile left(annotation);
        QVERIFY(left.open(QIODevice::ReadOnly));
        QCOMPARE(left.readAll(), QByteArray("{ broken"));
        left.close();

        auto permissive = import_coco(*fixture.project, path.toStdString());
        QVERIFY(permissive.ok());
        QCOMPARE(permissive->objects, 1);
        QVERIFY2(QString::fromStdString(permissive->skipped.at(0)).contains("set aside"),
                 permissive->skipped[0].c_str());
        QCOMPARE(fixture.project->load("one.png")->annotation.objects.size(), size_t(1));
    }

    void labelme_json_to_dataset_renders_our_file_data() { tolerance_table(); }

    void labelme_json_to_dataset_renders_our_file() {
        QFETCH(double, tolerance);
        QFETCH(double, min_iou);
        const QString tool = QStandardPaths::findExecutable("labelme_json_to_dataset");
        if (tool.isEmpty())
            QSKIP(
                "labelme_json_to_dataset is not on PATH: install Debian's labelme "
                "(scripts/install-deps.sh --test)");
        Fixture fixture;
        const QString out = fixture.dir.filePath("labelme");
        ExportOptions options;
        options.polygon.tolerance_px = tolerance;
        QVERIFY(export_project(*fixture.project, ExportFormat::LabelMe, out.toStdString(), options)
                    .ok());
        for (const auto& [image, stem] : std::vector<std::pair<std::string, QString>>{
                 {"one.png", "one"}, {"nested/two.png", "nested/two"}}) {
            QProcess process;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.insert("MPLBACKEND", "Agg");
            environment.insert("QT_QPA_PLATFORM", "offscreen");
            process.setProcessEnvironment(environment);
            const QString rendered =
                fixture.dir.filePath("rendered-" + QString(stem).replace('/', '-'));
            process.start(tool, {out + "/" + stem + ".json", "-o", rendered});
            QVERIFY(process.waitForFinished(120000));
            QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
            // labelme numbers the labels in sorted order from 1 and draws shapes in file order.
            const auto objects = fixture.expected(image);
            std::vector<std::string> names;
            for (const auto& [label, mask] : objects) names.push_back(label);
            std::sort(names.begin(), names.end());
            names.erase(std::unique(names.begin(), names.end()), names.end());
            cv::Mat expected = blank();
            for (const auto& [label, mask] : objects)
                expected.setTo(
                    int(std::find(names.begin(), names.end(), label) - names.begin()) + 1, mask);
            const cv::Mat label_png = read_grey_png(rendered + "/label.png", true);
            QCOMPARE(label_png.size(), expected.size());
            for (int value = 1; value <= int(names.size()); ++value) {
                const double overlap = iou(label_png == value, expected == value);
                QVERIFY2(overlap >= min_iou,
                         qPrintable(QString("%1 label %2: IoU %3, %4 pixels differ")
                                        .arg(image.c_str())
                                        .arg(names[value - 1].c_str())
                                        .arg(overlap)
                                        .arg(cv::countNonZero(label_png != expected))));
            }
        }
    }
};

QTEST_MAIN(TestFormats)
#include "test_formats.moc"
