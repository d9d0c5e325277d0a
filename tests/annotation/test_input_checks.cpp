// Label text and missing images at the annotation borders (issue 14 item 5): a newline in a label
// would split classes.txt / labels.txt, and an annotation whose image is gone was exported
// silently.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include "annotation/formats.h"
#include "annotation/project.h"
#include "annotation/rle.h"

using namespace ps::annotation;

class TestInputChecks : public QObject {
    Q_OBJECT
  private slots:
    void init();
    void annotation_file_label_with_newline_is_refused();
    void coco_category_with_newline_is_refused();
    void label_set_refuses_control_characters_and_long_names_data();
    void label_set_refuses_control_characters_and_long_names();
    void export_warns_about_a_missing_image();

  private:
    std::unique_ptr<QTemporaryDir> dir_;
    std::optional<Project> project_;
};

namespace {

constexpr int kWidth = 40, kHeight = 30;

AnnotatedObject square(const std::string& label) {
    cv::Mat mask(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
    mask(cv::Rect(5, 5, 10, 10)).setTo(255);
    AnnotatedObject object;
    object.label = label;
    object.mask = rle_encode(mask);
    object.bbox = rle_bbox(object.mask);
    object.model = "test";
    object.verified = true;
    return object;
}

ImageAnnotation annotation_of(const std::string& image, const std::string& label) {
    ImageAnnotation annotation;
    annotation.image_file = image;
    annotation.width = kWidth;
    annotation.height = kHeight;
    annotation.status = ImageStatus::Done;
    annotation.add(square(label));
    return annotation;
}

}  // namespace

void TestInputChecks::init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QImage image(kWidth, kHeight, QImage::Format_RGB888);
    image.fill(Qt::darkGreen);
    QVERIFY(image.save(dir_->filePath("one.png")));
    LabelSet labels;
    labels.labels = {{"cat", {255, 0, 0}, "1"}};
    auto opened =
        Project::open(dir_->filePath("project").toStdString(), labels, dir_->path().toStdString());
    QVERIFY2(opened, opened ? "" : opened.message().c_str());
    project_ = std::move(*opened);
}

void TestInputChecks::annotation_file_label_with_newline_is_refused() {
    QVERIFY(project_->save(annotation_of("one.png", "ca\nt")));
    // The export leaves that image out (exit 1 in the CLI), and classes.txt stays one per line.
    QTemporaryDir out;
    const auto summary = export_project(*project_, ExportFormat::Yolo, out.path().toStdString());
    QVERIFY2(summary, summary ? "" : summary.message().c_str());
    QCOMPARE(summary->skipped.size(), size_t(1));
    QVERIFY2(QString::fromStdString(summary->skipped[0]).contains("contains a control character"),
             summary->skipped[0].c_str());
    QFile classes(out.filePath("classes.txt"));
    QVERIFY(classes.open(QIODevice::ReadOnly));
    QCOMPARE(classes.readAll(), QByteArray("cat\n"));
    // Opened in the app, the file is reported (and set aside) like any corrupt annotation.
    const auto loaded = project_->load("one.png");
    QVERIFY2(loaded, loaded ? "" : loaded.message().c_str());
    QVERIFY(loaded->problem);
    QVERIFY2(QString::fromStdString(*loaded->problem).contains("contains a control character"),
             loaded->problem->c_str());
    QVERIFY(loaded->annotation.objects.empty());
}

void TestInputChecks::coco_category_with_newline_is_refused() {
    const QString coco = dir_->filePath("coco.json");
    QFile file(coco);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"images": [{"id": 1, "file_name": "one.png", "width": 40, "height": 30}],
                  "annotations": [], "categories": [{"id": 1, "name": "ca\nt"}]})");
    file.close();
    const auto imported = import_coco(*project_, coco.toStdString());
    QVERIFY2(!imported, "a COCO category with a newline was imported");
    QVERIFY2(
        QString::fromStdString(imported.message()).contains("category 1: label \"ca\\u000at\""),
        imported.message().c_str());
}

void TestInputChecks::label_set_refuses_control_characters_and_long_names_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("newline") << "ca\nt"
                             << "contains a control character";
    QTest::newRow("tab") << "ca\tt"
                         << "contains a control character";
    QTest::newRow("257 characters") << QString(257, 'x') << "has 257 characters, more than 256";
    QTest::newRow("spaces around") << " cat "
                                   << "has white space around it";
}

void TestInputChecks::label_set_refuses_control_characters_and_long_names() {
    QFETCH(QString, name);
    QFETCH(QString, expected);
    LabelSet labels = project_->labels();
    labels.labels.push_back({name.toStdString(), {0, 0, 255}, ""});
    const auto saved = project_->set_labels(labels);
    QVERIFY2(!saved, "a bad label name was saved");
    QVERIFY2(QString::fromStdString(saved.message()).contains(expected), saved.message().c_str());
}

void TestInputChecks::export_warns_about_a_missing_image() {
    QVERIFY(project_->save(annotation_of("one.png", "cat")));
    QVERIFY(project_->save(annotation_of("ghost.png", "cat")));  // no ghost.png on disk
    QTemporaryDir out;
    const auto summary = export_project(*project_, ExportFormat::Coco, out.path().toStdString());
    QVERIFY2(summary, summary ? "" : summary.message().c_str());
    QCOMPARE(summary->images, 2);  // still exported: the annotation may outlive a moved image
    QCOMPARE(summary->warnings.size(), size_t(1));
    QVERIFY2(QString::fromStdString(summary->warnings[0])
                 .startsWith("ghost.png: the image file is missing from "),
             summary->warnings[0].c_str());
}

QTEST_GUILESS_MAIN(TestInputChecks)
#include "test_input_checks.moc"
