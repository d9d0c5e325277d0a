// annotate_batch in-process with the golden tiny SAM: full-resolution masks from a downscaled
// engine, the resume rule, cancel between images, bad images written nowhere.
#include <QFile>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "annotation/project.h"
#include "batch/batch_annotator.h"
#include "batch/synthetic_dataset.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "golden_dir.h"

using namespace ps;

namespace {

constexpr const char* kCheckpoint = "sam_vit_tiny.pth";

long long encode_count(engine::Engine& engine) {
    return engine.metrics().snapshot().stage(engine::Stage::Encode).count;
}

QString joined(const std::vector<std::string>& lines) {
    QStringList list;
    for (const std::string& line : lines) list << QString::fromStdString(line);
    return list.join("; ");
}

}  // namespace

class TestBatchAnnotator : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void downscaled_engine_gives_full_resolution_masks();
    void resume_rule_skips_touched_images();
    void cancel_stops_between_images();
    void bad_prompts_write_nothing();
    void refuses_what_cannot_start();

  private:
    struct Setup {
        std::unique_ptr<QTemporaryDir> dir;
        QString images;
        SyntheticDataset dataset;
        std::unique_ptr<engine::Engine> engine;
        std::string model_id;
        std::optional<annotation::Project> project;
    };
    // A dataset of `count` images, an engine with the model loaded, a project over the images.
    Setup make_setup(int count, int downscale_max = 0);
};

void TestBatchAnnotator::initTestCase() {
    if (!QFile::exists(golden_dir() + "/" + kCheckpoint))
        QSKIP(qPrintable("golden checkpoint not found in " + golden_dir() +
                         " (set PHOTOSYNTH_GOLDEN)"));
}

TestBatchAnnotator::Setup TestBatchAnnotator::make_setup(int count, int downscale_max) {
    Setup setup;
    setup.dir = std::make_unique<QTemporaryDir>();
    setup.images = setup.dir->filePath("images");
    setup.dataset = write_synthetic_dataset(setup.images, count);
    engine::EngineSettings settings = cpu_test_settings();
    settings.downscale_max = downscale_max;
    setup.engine = std::make_unique<engine::Engine>(settings);
    auto model = setup.engine->load_model(golden_path(kCheckpoint)).result();
    if (model) setup.model_id = model->id;
    auto project = annotation::Project::open(setup.dir->filePath("project").toStdString(), {},
                                             setup.images.toStdString());
    if (project) setup.project.emplace(std::move(*project));
    return setup;
}

void TestBatchAnnotator::downscaled_engine_gives_full_resolution_masks() {
    // Work copies of at most 64 px: every prompt must be scaled down and every mask back up.
    Setup s = make_setup(4, 64);
    QVERIFY(!s.model_id.empty() && s.project);
    std::vector<batch::BatchProgress> reports;
    QThread* const caller = QThread::currentThread();
    bool on_caller_thread = true;
    batch::BatchOptions options;
    options.jobs = 3;
    options.on_progress = [&](const batch::BatchProgress& progress) {
        on_caller_thread = on_caller_thread && QThread::currentThread() == caller;
        reports.push_back(progress);
    };
    auto summary = batch::annotate_batch(*s.engine, s.model_id, s.images.toStdString(),
                                         s.dataset.points, *s.project, options);
    QVERIFY2(summary, summary ? "" : summary.message().c_str());
    QVERIFY2(summary->failures.empty(), qPrintable(joined(summary->failures)));
    QCOMPARE(summary->images_annotated, 4);
    QCOMPARE(encode_count(*s.engine), 4LL);  // each image once, every object from the cache
    // The embeddings stayed with their images and went with them: the shared cache, which a
    // batch never reuses, holds none (memory stays flat however many images a batch has).
    const engine::CacheTierStats cached = s.engine->metrics().snapshot().host_cache;
    QCOMPARE(cached.entries, 0LL);
    QCOMPARE(cached.bytes, 0LL);
    QVERIFY(on_caller_thread);
    QCOMPARE(int(reports.size()), 4);
    for (size_t i = 0; i < reports.size(); ++i) {
        QCOMPARE(reports[i].done, int(i) + 1);
        QCOMPARE(reports[i].total, 4);
        QCOMPARE(reports[i].outcome, batch::ImageOutcome::Annotated);
    }
    // Labels of the point file joined the project, each with its own colour.
    const annotation::LabelSet& labels = s.project->labels();
    QVERIFY(labels.find("square") && labels.find("disc"));
    QVERIFY(labels.find("square")->colour != labels.find("disc")->colour);

    int objects = 0;
    for (const auto& [name, expected] : s.dataset.points.images) {
        auto loaded = s.project->load(name);
        QVERIFY2(loaded && !loaded->problem, name.c_str());
        const annotation::ImageAnnotation& annotation = loaded->annotation;
        const cv::Size size = s.dataset.sizes.at(name);
        QCOMPARE(annotation.status, annotation::ImageStatus::InProgress);
        QCOMPARE(annotation.width, size.width);
        QCOMPARE(annotation.height, size.height);
        QCOMPARE(annotation.objects.size(), expected.size());
        for (size_t k = 0; k < expected.size(); ++k) {
            const annotation::AnnotatedObject& object = annotation.objects[k];
            QCOMPARE(object.label, expected[k].label);
            QVERIFY(same_prompts(object.prompts, expected[k].prompts));  // full-resolution pixels
            QCOMPARE(object.mask.width, size.width);
            QCOMPARE(object.mask.height, size.height);
            QVERIFY(annotation::rle_area(object.mask) > 0);
            QCOMPARE(object.bbox, annotation::rle_bbox(object.mask));
            QCOMPARE(object.model, std::string(kCheckpoint));
            QVERIFY(!object.verified);
            QVERIFY(object.predicted_iou != 0);
            ++objects;
        }
    }
    QCOMPARE(summary->objects, objects);
    QVERIFY(summary->ms_per_image > 0 && summary->ms_per_object > 0);
}

void TestBatchAnnotator::resume_rule_skips_touched_images() {
    Setup s = make_setup(4);
    QVERIFY(!s.model_id.empty() && s.project);
    const std::vector<std::string> names{"img_000.png", "img_001.png", "img_002.png",
                                         "img_003.png"};
    // img_000: a person marked it done with no objects. img_001: a person's object, in progress.
    annotation::ImageAnnotation done{names[0], 96, 64, annotation::ImageStatus::Done, {}, 1};
    QVERIFY(s.project->save(done));
    annotation::ImageAnnotation started{names[1], 109, 71, annotation::ImageStatus::InProgress,
                                        {},       1};
    annotation::AnnotatedObject hand;
    hand.label = "square";
    hand.mask = annotation::rle_encode(cv::Mat::ones(71, 109, CV_8UC1));
    hand.model = "brush";
    hand.verified = true;
    started.add(hand);
    QVERIFY(s.project->save(started));
    // img_002: a corrupt file, set aside and annotated afresh. img_003: untouched.
    {
        QFile corrupt(QString::fromStdString(s.project->annotation_path(names[2])));
        QVERIFY(corrupt.open(QIODevice::WriteOnly));
        corrupt.write("{\"schema\": \"photosynth-annotation/1\", \"stat");
    }
    auto summary = batch::annotate_batch(*s.engine, s.model_id, s.images.toStdString(),
                                         s.dataset.points, *s.project, {});
    QVERIFY2(summary, summary ? "" : summary.message().c_str());
    QCOMPARE(summary->images_skipped_done, 2);
    QCOMPARE(summary->images_annotated, 2);
    QCOMPARE(encode_count(*s.engine), 2LL);
    QCOMPARE(int(summary->set_aside.size()), 1);
    QVERIFY2(QString::fromStdString(summary->set_aside[0]).contains("img_002.png"),
             summary->set_aside[0].c_str());
    // The person's work is untouched.
    auto kept = s.project->load(names[1]);
    QVERIFY(kept);
    QCOMPARE(kept->annotation.objects.size(), size_t(1));
    QCOMPARE(kept->annotation.objects[0].model, std::string("brush"));
    QCOMPARE(s.project->status(names[0]), annotation::ImageStatus::Done);
    QCOMPARE(s.project->load(names[2])->annotation.objects.size(),
             s.dataset.points.images.at(names[2]).size());

    // A second run finds everything annotated: no encode, nothing rewritten.
    const long long encode_before = encode_count(*s.engine);
    auto again = batch::annotate_batch(*s.engine, s.model_id, s.images.toStdString(),
                                       s.dataset.points, *s.project, {});
    QVERIFY(again);
    QCOMPARE(again->images_skipped_done, 4);
    QCOMPARE(again->images_annotated, 0);
    QCOMPARE(encode_count(*s.engine), encode_before);
}

void TestBatchAnnotator::cancel_stops_between_images() {
    Setup s = make_setup(5);
    QVERIFY(!s.model_id.empty() && s.project);
    std::atomic<bool> cancel{false};
    batch::BatchOptions options;
    options.jobs = 1;
    options.cancel = &cancel;
    options.on_progress = [&](const batch::BatchProgress&) { cancel = true; };
    auto summary = batch::annotate_batch(*s.engine, s.model_id, s.images.toStdString(),
                                         s.dataset.points, *s.project, options);
    QVERIFY(summary);
    QVERIFY(summary->cancelled);
    QCOMPARE(summary->images_annotated, 1);
    QCOMPARE(summary->images_not_reached, 4);
    QCOMPARE(encode_count(*s.engine), 1LL);
    for (const auto& [name, objects] : s.dataset.points.images) {
        const bool first = name == "img_000.png";
        QCOMPARE(QFile::exists(QString::fromStdString(s.project->annotation_path(name))), first);
    }
}

void TestBatchAnnotator::bad_prompts_write_nothing() {
    Setup s = make_setup(3);
    QVERIFY(!s.model_id.empty() && s.project);
    batch::PointFile points = s.dataset.points;
    points.images["img_001.png"][0].prompts.points[0].x = 500;  // the image is 109 px wide
    points.images["img_002.png"].push_back({"disc", {{{10, 10, true}}, std::nullopt}});
    points.images["img_002.png"].back().prompts.box = std::array<double, 4>{0, 0, 20, 300};
    points.images["missing.png"] = {{"disc", {{{1, 1, true}}, std::nullopt}}};
    auto summary = batch::annotate_batch(*s.engine, s.model_id, s.images.toStdString(), points,
                                         *s.project, {});
    QVERIFY(summary);
    QCOMPARE(summary->images_annotated, 1);
    QCOMPARE(int(summary->failures.size()), 3);
    // Sorted by image name, each naming the image, the object and the problem.
    const QString first = QString::fromStdString(summary->failures[0]);
    QVERIFY2(first.startsWith("img_001.png: object 1 (square): point (500, ") &&
                 first.endsWith(") is outside the 109×71 image"),
             qPrintable(first));
    QVERIFY2(
        QString::fromStdString(summary->failures[1])
            .startsWith(
                "img_002.png: object 4 (disc): box [0, 0, 20, 300] is outside the 122×78 image"),
        summary->failures[1].c_str());
    QVERIFY2(QString::fromStdString(summary->failures[2]).startsWith("missing.png: "),
             summary->failures[2].c_str());
    // Prompts are checked before encoding: only the good image was encoded.
    QCOMPARE(encode_count(*s.engine), 1LL);
    for (const char* name : {"img_001.png", "img_002.png", "missing.png"})
        QVERIFY2(!QFile::exists(QString::fromStdString(s.project->annotation_path(name))), name);
    QVERIFY(QFile::exists(QString::fromStdString(s.project->annotation_path("img_000.png"))));
}

void TestBatchAnnotator::refuses_what_cannot_start() {
    Setup s = make_setup(1);
    QVERIFY(!s.model_id.empty() && s.project);
    auto unknown_model = batch::annotate_batch(*s.engine, "no-such-model", s.images.toStdString(),
                                               s.dataset.points, *s.project, {});
    QVERIFY(!unknown_model);
    QVERIFY2(
        QString::fromStdString(unknown_model.message()).contains("no loaded model no-such-model"),
        unknown_model.message().c_str());
    const QString elsewhere = s.dir->filePath("elsewhere");
    QVERIFY(QDir().mkpath(elsewhere));
    auto outside = batch::annotate_batch(*s.engine, s.model_id, elsewhere.toStdString(),
                                         s.dataset.points, *s.project, {});
    QVERIFY(!outside);
    QVERIFY2(
        QString::fromStdString(outside.message()).contains("not inside the project's image folder"),
        outside.message().c_str());
    batch::BatchOptions no_jobs;
    no_jobs.jobs = 0;
    QVERIFY(!batch::annotate_batch(*s.engine, s.model_id, s.images.toStdString(), s.dataset.points,
                                   *s.project, no_jobs));
    QCOMPARE(encode_count(*s.engine), 0LL);
}

QTEST_GUILESS_MAIN(TestBatchAnnotator)
#include "test_batch_annotator.moc"
