// AnnotationSession without widgets: a bare EditDocument and a real engine over a project in a
// temporary folder. Objects at the work size are saved at full resolution with their prompts
// scaled, read back at the work size, and statuses follow the objects and "done".
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include "annotating/annotation_session.h"
#include "annotation/rle.h"
#include "editing/edit_document.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "image/mask_export.h"

using namespace ps;

namespace {

const cv::Size kFull(400, 300), kWork(100, 75);  // 4× on both axes

void write_image(const QString& path, cv::Size size) {
    QImage image(size.width, size.height, QImage::Format_RGB888);
    image.fill(Qt::darkGreen);
    QVERIFY(image.save(path));
}

// A work-size object: a 10×5 block at (20, 30), made by one click at its centre.
editing::SegmentObject block_object(int id) {
    editing::SegmentObject object;
    object.id = id;
    object.name = "object";
    object.mask = cv::Mat::zeros(kWork, CV_8UC1);
    object.mask(cv::Rect(20, 30, 10, 5)).setTo(255);
    object.prompts.points = {{25, 32.5, 1}};
    object.iou = 0.875f;
    object.segmenter = "sam_vit_b.pth";
    object.verified = true;
    return object;
}

bool wait_saved(const annotating::AnnotationSession& session) {
    return QTest::qWaitFor([&] { return !session.saving(); }, 10000);
}

}  // namespace

class TestAnnotationSession : public QObject {
    Q_OBJECT
  private slots:
    void init();
    void cleanup();
    void opens_a_project_with_default_labels();
    void saves_work_objects_at_full_resolution();
    void reads_saved_objects_back_at_work_size();
    void done_is_kept_and_skipped_by_next_unannotated();
    void image_outside_the_project_is_not_attached();

  private:
    void open_project();
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<editing::EditDocument> document_;
    std::unique_ptr<annotating::AnnotationSession> session_;
};

void TestAnnotationSession::init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    write_image(dir_->filePath("a.png"), kFull);
    write_image(dir_->filePath("b.png"), kFull);
    engine_ = std::make_unique<engine::Engine>(cpu_test_settings());
    document_ = std::make_unique<editing::EditDocument>();
    session_ = std::make_unique<annotating::AnnotationSession>(*engine_, *document_);
}

void TestAnnotationSession::cleanup() {
    session_.reset();  // flushes before the engine goes
    document_.reset();
    engine_.reset();
    dir_.reset();
}

void TestAnnotationSession::open_project() {
    QSignalSpy opened(session_.get(), &annotating::AnnotationSession::project_opened);
    session_->open_project(dir_->path());
    QVERIFY(opened.wait(10000));
    QVERIFY(session_->active());
}

void TestAnnotationSession::opens_a_project_with_default_labels() {
    open_project();
    QCOMPARE(session_->labels().labels.size(),
             annotating::AnnotationSession::default_labels().labels.size());
    QCOMPARE(session_->image_paths(),
             QStringList({dir_->filePath("a.png"), dir_->filePath("b.png")}));
    QCOMPARE(session_->image_file_for(dir_->filePath("b.png")), std::string("b.png"));
    QCOMPARE(session_->next_unannotated({}).value_or(""), std::string("a.png"));
    QCOMPARE(session_->status("a.png"), annotation::ImageStatus::NotStarted);
}

void TestAnnotationSession::saves_work_objects_at_full_resolution() {
    open_project();
    const QString path = dir_->filePath("a.png");
    session_->prefetch(path);
    session_->attach_image(path, kFull, kWork);
    QVERIFY(session_->image_attached());
    document_->insert_object(block_object(document_->next_object_id()));
    QVERIFY(wait_saved(*session_));

    auto project = annotation::Project::open(dir_->path().toStdString());
    if (!project) QFAIL(project.message().c_str());
    auto loaded = project->load("a.png");
    QVERIFY(loaded.ok());
    const annotation::ImageAnnotation& saved = loaded->annotation;
    QCOMPARE(saved.width, kFull.width);
    QCOMPARE(saved.status, annotation::ImageStatus::InProgress);
    QCOMPARE(int(saved.objects.size()), 1);
    const annotation::AnnotatedObject& object = saved.objects.front();
    // The 10×5 work block is 40×20 at full resolution, at (80, 120), upscaled as every work mask
    // is (image::upscale_mask rounds its corners); the click scales with it.
    const cv::Mat expected = image::upscale_mask(block_object(1).mask, kFull);
    QCOMPARE(cv::countNonZero(annotation::rle_decode(object.mask) != expected), 0);
    QCOMPARE(object.bbox, (std::array<double, 4>{80, 120, 40, 20}));
    QCOMPARE(int(object.prompts.points.size()), 1);
    QCOMPARE(object.prompts.points[0].x, 100.0);
    QCOMPARE(object.prompts.points[0].y, 130.0);
    QVERIFY(object.prompts.points[0].positive);
    QVERIFY(!object.prompts.box);
    QCOMPARE(object.model, std::string("sam_vit_b.pth"));
    QCOMPARE(object.predicted_iou, 0.875);
    QVERIFY(object.verified);
    QCOMPARE(session_->status("a.png"), annotation::ImageStatus::InProgress);
}

void TestAnnotationSession::reads_saved_objects_back_at_work_size() {
    open_project();
    const QString path = dir_->filePath("a.png");
    session_->attach_image(path, kFull, kWork);
    editing::SegmentObject made = block_object(document_->next_object_id());
    made.prompts.box = std::array<double, 4>{18, 28, 32, 37};
    document_->insert_object(made);
    QVERIFY(wait_saved(*session_));

    // As the window does when it opens the image again: detach, clear, attach.
    session_->detach_image();
    document_->clear();
    session_->prefetch(path);
    session_->attach_image(path, kFull, kWork);
    QCOMPARE(int(document_->objects().size()), 1);
    const editing::SegmentObject& back = document_->objects().front();
    QCOMPARE(back.id, made.id);
    QCOMPARE(back.name, QString("object"));
    QCOMPARE(back.mask.size(), kWork);
    QCOMPARE(cv::countNonZero(back.mask != made.mask), 0);
    QCOMPARE(int(back.prompts.points.size()), 1);
    QCOMPARE(back.prompts.points[0].x, 25.0);
    QCOMPARE(back.prompts.points[0].y, 32.5);
    QVERIFY(back.prompts.box);
    QCOMPARE(*back.prompts.box, *made.prompts.box);
    QVERIFY(!session_->saving());  // an unchanged document saves nothing
}

void TestAnnotationSession::done_is_kept_and_skipped_by_next_unannotated() {
    open_project();
    session_->attach_image(dir_->filePath("a.png"), kFull, kWork);
    QSignalSpy statuses(session_.get(), &annotating::AnnotationSession::statuses_changed);
    session_->mark_done();
    QVERIFY(wait_saved(*session_));
    QVERIFY(!statuses.isEmpty());
    QCOMPARE(session_->status("a.png"), annotation::ImageStatus::Done);
    QCOMPARE(session_->next_unannotated("b.png").value_or(""), std::string("b.png"));
    QCOMPARE(session_->next_unannotated("a.png").value_or(""), std::string("b.png"));
    // An object added afterwards leaves the person's "done" as it is.
    document_->insert_object(block_object(document_->next_object_id()));
    QVERIFY(wait_saved(*session_));
    QCOMPARE(session_->current_annotation().status, annotation::ImageStatus::Done);
}

void TestAnnotationSession::image_outside_the_project_is_not_attached() {
    open_project();
    QTemporaryDir elsewhere;
    write_image(elsewhere.filePath("c.png"), kFull);
    session_->attach_image(elsewhere.filePath("c.png"), kFull, kWork);
    QVERIFY(!session_->image_attached());
    document_->insert_object(block_object(document_->next_object_id()));
    QVERIFY(!session_->saving());
}

QTEST_MAIN(TestAnnotationSession)
#include "test_annotation_session.moc"
