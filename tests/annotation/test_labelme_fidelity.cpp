// LabelMe export read back by labelme itself (Debian's labelme 5.1 through
// tests/annotation/labelme_render.py): every object through labelme.utils.shape_to_mask, every file
// through labelme_json_to_dataset's label.png, on masks with holes, several parts, thin lines,
// the image border and overlaps. Prints min IoU, shapes, points and bytes per case.
#include <QtTest>

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "annotation/formats.h"

using namespace ps::annotation;

namespace {

constexpr int kWidth = 200, kHeight = 160;

cv::Mat blank() {
    return cv::Mat(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
}

struct CaseObject {
    std::string label;
    cv::Mat mask;
};
using Case = std::vector<CaseObject>;

cv::Mat disc_with_holes() {
    cv::Mat mask = blank();
    cv::circle(mask, {100, 80}, 62, 255, cv::FILLED);
    for (int i = 0; i < 12; ++i) {
        const double angle = i * CV_PI / 6;
        const cv::Point centre(100 + int(std::lround(38 * std::cos(angle))),
                               80 + int(std::lround(38 * std::sin(angle))));
        cv::circle(mask, centre, 3 + i % 3, 0, cv::FILLED);
    }
    mask(cv::Rect(97, 77, 6, 6)) = 0;
    return mask;
}

Case holes() {
    return {{"plate", disc_with_holes()}};
}

Case rings() {
    cv::Mat ring = blank(), island = blank(), thin = blank();
    cv::circle(ring, {55, 60}, 45, 255, cv::FILLED);
    cv::circle(ring, {55, 60}, 28, 0, cv::FILLED);
    cv::circle(island, {150, 100}, 40, 255, cv::FILLED);
    cv::circle(island, {150, 100}, 25, 0, cv::FILLED);
    cv::circle(island, {150, 100}, 10, 255, cv::FILLED);  // an island in the hole
    island(cv::Rect(147, 97, 6, 6)) = 0;                  // with a hole of its own
    cv::circle(thin, {60, 135}, 18, 255, 1);              // a 1-px ring
    return {{"ring", ring}, {"ring", island}, {"wire", thin}};
}

Case parts() {
    cv::Mat blobs = blank();
    cv::circle(blobs, {40, 40}, 25, 255, cv::FILLED);
    cv::ellipse(blobs, {130, 50}, {45, 20}, 30, 0, 360, 255, cv::FILLED);
    blobs(cv::Rect(60, 110, 50, 30)) = 255;
    blobs(cv::Rect(170, 130, 2, 2)) = 255;  // a speck
    blobs.at<uint8_t>(150, 20) = 255;       // a single pixel
    return {{"stone", blobs}};
}

Case thin() {
    cv::Mat horizontal = blank(), diagonal = blank(), slanted = blank(), bar = blank(),
            arc = blank();
    horizontal(cv::Rect(10, 10, 120, 1)) = 255;
    cv::line(diagonal, {10, 30}, {90, 110}, 255, 1);
    cv::line(slanted, {110, 30}, {190, 60}, 255, 1);
    cv::line(bar, {20, 150}, {180, 120}, 255, 2);
    cv::ellipse(arc, {140, 110}, {45, 30}, 0, 180, 360, 255, 1);
    arc(cv::Rect(95, 110, 2, 40)) = 255;  // a 2-px stem on the arc
    return {
        {"wire", horizontal}, {"wire", diagonal}, {"wire", slanted}, {"wire", bar}, {"wire", arc}};
}

Case border() {
    cv::Mat corner = blank(), right = blank(), bottom = blank();
    corner(cv::Rect(0, 0, 40, 30)) = 255;
    corner(cv::Rect(10, 8, 6, 6)) = 0;
    cv::circle(right, {195, 70}, 30, 255, cv::FILLED);
    bottom(cv::Rect(60, 159, 80, 1)) = 255;  // the last row only
    bottom(cv::Rect(60, 150, 1, 9)) = 255;
    return {{"box", corner}, {"box", right}, {"wire", bottom}};
}

// Later objects over earlier ones; an earlier object shows through a later object's hole.
Case overlap() {
    cv::Mat under = blank(), over = blank(), top = blank();
    cv::circle(under, {90, 80}, 55, 255, cv::FILLED);
    cv::circle(over, {110, 80}, 50, 255, cv::FILLED);
    cv::circle(over, {110, 80}, 22, 0, cv::FILLED);
    top(cv::Rect(100, 70, 20, 20)) = 255;
    return {{"cat", under}, {"dog", over}, {"cat", top}};
}

// Blobs with ragged outlines, pinholes and specks, like a model's masks.
Case ragged() {
    cv::RNG rng(14);
    Case result;
    for (int o = 0; o < 3; ++o) {
        cv::Mat mask = blank();
        const cv::Point centre(40 + 60 * o, 80);
        for (int k = 0; k < 25; ++k)
            cv::circle(mask, centre + cv::Point(rng.uniform(-25, 26), rng.uniform(-40, 41)),
                       rng.uniform(4, 14), 255, cv::FILLED);
        for (int k = 0; k < 40; ++k) {
            const cv::Point p = centre + cv::Point(rng.uniform(-35, 36), rng.uniform(-55, 56));
            if (p.inside(cv::Rect(0, 0, kWidth, kHeight))) mask.at<uint8_t>(p) = k % 2 ? 255 : 0;
        }
        result.push_back({"blob", mask});
    }
    return result;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
    const int union_area = cv::countNonZero(a | b);
    return union_area == 0 ? 1.0 : double(cv::countNonZero(a & b)) / union_area;
}

cv::Mat read_png(const QString& path, bool keep_indices = false) {
    QImage image(path);
    if (image.isNull()) return {};
    if (!(keep_indices && image.format() == QImage::Format_Indexed8))
        image = image.convertToFormat(QImage::Format_Grayscale8);
    cv::Mat mask(image.height(), image.width(), CV_8UC1);
    for (int y = 0; y < image.height(); ++y)
        std::copy_n(image.constScanLine(y), image.width(), mask.ptr<uint8_t>(y));
    return mask;
}

AnnotatedObject make_object(const CaseObject& source) {
    AnnotatedObject object;
    object.label = source.label;
    object.mask = rle_encode(source.mask);
    object.bbox = rle_bbox(object.mask);
    object.verified = true;
    object.model = "test";
    return object;
}

const std::vector<std::pair<const char*, Case (*)()>>& corpus() {
    static const std::vector<std::pair<const char*, Case (*)()>> cases = {
        {"holes", holes},   {"rings", rings},     {"parts", parts},   {"thin", thin},
        {"border", border}, {"overlap", overlap}, {"ragged", ragged},
    };
    return cases;
}

}  // namespace

class TestLabelMeFidelity : public QObject {
    Q_OBJECT

  private slots:
    void labelme_reads_our_export_data() {
        QTest::addColumn<double>("tolerance");
        QTest::addColumn<double>("min_iou");        // per object, through shape_to_mask
        QTest::addColumn<double>("min_label_iou");  // per label value of label.png
        // At 1 px a label's IoU counts the error of every object edge, of both labels at a seam.
        QTest::newRow("exact polygons") << 0.0 << 1.0 << 1.0;
        QTest::newRow("simplified 0.5 px") << 0.5 << 0.99 << 0.99;
        QTest::newRow("simplified 1 px") << 1.0 << 0.99 << 0.98;
    }

    void labelme_reads_our_export() {
        QFETCH(double, tolerance);
        QFETCH(double, min_iou);
        QFETCH(double, min_label_iou);
        const QString python = "/usr/bin/python3";
        const QString script = QFINDTESTDATA("labelme_render.py");
        QProcess probe;
        probe.start(python, {"-c", "import labelme.utils, labelme.cli.json_to_dataset"});
        if (!probe.waitForFinished(60000) || probe.exitCode() != 0)
            QSKIP(
                "Debian's labelme is not installed for /usr/bin/python3 (scripts/install-deps.sh "
                "--test)");
        QVERIFY(!script.isEmpty());

        QTemporaryDir dir;
        dir.setAutoRemove(
            qEnvironmentVariableIsEmpty("PHOTOSYNTH_KEEP_TEST_FILES"));  // to look at the files
        LabelSet labels;
        auto project =
            Project::open(dir.filePath("project").toStdString(), labels, dir.path().toStdString());
        QVERIFY2(project.ok(), project.ok() ? "" : project.message().c_str());
        std::map<std::string, Case> cases;
        for (const auto& [name, make] : corpus()) {
            QImage image(kWidth, kHeight, QImage::Format_RGB888);
            image.fill(QColor(90, 120, 60));
            QVERIFY(image.save(dir.filePath(QString(name) + ".png")));
            ImageAnnotation annotation;
            annotation.image_file = std::string(name) + ".png";
            annotation.width = kWidth;
            annotation.height = kHeight;
            annotation.status = ImageStatus::Done;
            cases[name] = make();
            for (const CaseObject& object : cases[name]) annotation.add(make_object(object));
            QVERIFY(project->save(annotation).ok());
        }
        const QString out = dir.filePath("labelme");
        ExportOptions options;
        options.polygon.tolerance_px = tolerance;
        auto exported = export_project(*project, ExportFormat::LabelMe, out.toStdString(), options);
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.message().c_str());

        QStringList arguments{script, dir.filePath("rendered")};
        QDir().mkpath(dir.filePath("rendered"));
        for (const auto& [name, make] : corpus()) arguments << out + "/" + name + ".json";
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("MPLBACKEND", "Agg");
        process.setProcessEnvironment(environment);
        process.start(python, arguments);
        QVERIFY(process.waitForFinished(300000));
        QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());

        double worst = 1;
        long long all_bytes = 0, all_points = 0;
        int exact_objects = 0, objects = 0, exact_labels = 0;
        QStringList failures;  // every case is measured and printed before the verdict
        for (const auto& [name, make] : corpus()) {
            const QString json_path = out + "/" + name + ".json";
            QFile file(json_path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray bytes = file.readAll();
            const QJsonArray shapes =
                QJsonDocument::fromJson(bytes).object().value("shapes").toArray();
            long long points = 0;
            for (const QJsonValue& shape : shapes)
                points += shape.toObject().value("points").toArray().size();
            all_bytes += bytes.size();
            all_points += points;

            // Each object as labelme's shape_to_mask gathers it.
            const Case& objects_in_case = cases[name];
            double case_worst = 1;
            for (size_t i = 0; i < objects_in_case.size(); ++i) {
                const cv::Mat read =
                    read_png(dir.filePath(QString("rendered/%1_%2.png").arg(name).arg(i + 1)));
                const double overlap =
                    read.empty() ? 0.0 : iou(read, objects_in_case[i].mask);  // empty: missing
                case_worst = std::min(case_worst, overlap);
                exact_objects += overlap == 1.0;
                ++objects;
            }
            worst = std::min(worst, case_worst);

            // label.png: labelme numbers the labels in sorted order from 1, later shapes over
            // earlier.
            std::vector<std::string> names;
            for (const CaseObject& object : objects_in_case) names.push_back(object.label);
            std::sort(names.begin(), names.end());
            names.erase(std::unique(names.begin(), names.end()), names.end());
            cv::Mat expected = blank();
            for (const CaseObject& object : objects_in_case)
                expected.setTo(
                    int(std::find(names.begin(), names.end(), object.label) - names.begin()) + 1,
                    object.mask);
            const cv::Mat label_png =
                read_png(dir.filePath(QString("rendered/%1_dataset/label.png").arg(name)), true);
            QCOMPARE(label_png.size(), expected.size());
            const int wrong = cv::countNonZero(label_png != expected);
            exact_labels += wrong == 0;
            double label_worst = 1;
            for (int value = 1; value <= int(names.size()); ++value)
                label_worst = std::min(label_worst, iou(label_png == value, expected == value));
            qInfo(
                "%-8s tolerance %.1f px: min object IoU %.4f, label.png %d pixels differ (min "
                "label IoU %.4f), "
                "%d shapes, %lld points, %d bytes",
                name, tolerance, case_worst, wrong, label_worst, int(shapes.size()), points,
                int(bytes.size()));
            if (case_worst < min_iou)
                failures << QString("%1: an object read back at IoU %2").arg(name).arg(case_worst);
            if (label_worst < min_label_iou || (min_label_iou == 1.0 && wrong > 0))
                failures << QString("%1: label.png at IoU %2, %3 pixels differ")
                                .arg(name)
                                .arg(label_worst)
                                .arg(wrong);
        }
        qInfo(
            "all cases, tolerance %.1f px: %d/%d objects exact, min IoU %.4f, label.png exact for "
            "%d/%d files, "
            "%lld points, %lld bytes",
            tolerance, exact_objects, objects, worst, exact_labels, int(corpus().size()),
            all_points, all_bytes);
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join("; ")));

        // Our importer reads the same pieces back as labelme does.
        auto imported =
            Project::open(dir.filePath("imported").toStdString(), {}, dir.path().toStdString());
        QVERIFY(imported.ok());
        QVERIFY(import_labelme(*imported, out.toStdString()).ok());
        for (const auto& [name, make] : corpus()) {
            const auto loaded = imported->load(std::string(name) + ".png");
            QVERIFY(loaded.ok());
            QCOMPARE(loaded->annotation.objects.size(), cases[name].size());
            for (size_t i = 0; i < cases[name].size(); ++i) {
                const double overlap =
                    iou(rle_decode(loaded->annotation.objects[i].mask), cases[name][i].mask);
                QVERIFY2(overlap >= min_iou, qPrintable(QString("%1 object %2 imported at IoU %3")
                                                            .arg(name)
                                                            .arg(i + 1)
                                                            .arg(overlap)));
            }
        }
    }

    // Files from other tools mark holes with `_background_` shapes drawn after the object.
    void background_shapes_are_holes() {
        QTemporaryDir dir;
        QImage image(60, 50, QImage::Format_RGB888);
        image.fill(Qt::black);
        QVERIFY(image.save(dir.filePath("a.png")));
        auto square = [](int x0, int y0, int x1, int y1) {
            return QJsonArray{QJsonArray{x0, y0}, QJsonArray{x1, y0}, QJsonArray{x1, y1},
                              QJsonArray{x0, y1}};
        };
        auto shape = [](const char* label, const QJsonArray& points, const QJsonValue& group) {
            return QJsonObject{{"label", label},
                               {"points", points},
                               {"group_id", group},
                               {"shape_type", "polygon"}};
        };
        const QJsonArray shapes{shape("cat", square(5, 5, 30, 30), 1),
                                shape("dog", square(35, 5, 55, 30), 2),
                                shape("_background_", square(10, 10, 20, 20), 1)};
        const QJsonObject root{
            {"shapes", shapes}, {"imagePath", "a.png"}, {"imageWidth", 60}, {"imageHeight", 50}};
        QFile file(dir.filePath("a.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(root).toJson());
        file.close();
        auto project =
            Project::open(dir.filePath("project").toStdString(), {}, dir.path().toStdString());
        QVERIFY(project.ok());
        auto summary = import_labelme(*project, dir.filePath("a.json").toStdString());
        QVERIFY2(summary.ok(), summary.ok() ? "" : summary.message().c_str());
        QCOMPARE(summary->objects, 2);  // no "_background_" object
        const auto objects = project->load("a.png")->annotation.objects;
        cv::Mat cat(50, 60, CV_8UC1, cv::Scalar(0)), dog = cat.clone();
        cat(cv::Rect(5, 5, 26, 26)) = 255;
        cat(cv::Rect(10, 10, 11, 11)) = 0;
        dog(cv::Rect(35, 5, 21, 26)) = 255;
        QCOMPARE(objects[0].label, std::string("cat"));
        QCOMPARE(cv::countNonZero(rle_decode(objects[0].mask) != cat), 0);
        QCOMPARE(cv::countNonZero(rle_decode(objects[1].mask) != dog), 0);
    }
};

QTEST_MAIN(TestLabelMeFidelity)
#include "test_labelme_fidelity.moc"
