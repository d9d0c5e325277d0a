// Annotation projects on disk: the schema round trip of every field, atomic saves, corrupt files
// set aside with their bytes kept, progress, next unannotated image, images apart from the
// project.
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <opencv2/imgproc.hpp>

#include "annotation/project.h"
#include "dead_process.h"

using namespace ps::annotation;

namespace {

void touch_image(const QString& path) {
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("not decoded by the project");
}

LabelSet animals() {
    LabelSet labels;
    labels.labels = {
        {"cat", {255, 0, 0}, "1"}, {"dog", {0, 128, 255}, "2"}, {"bird \"tweety\"", {1, 2, 3}, ""}};
    return labels;
}

AnnotatedObject object_with(const std::string& label, cv::Rect area, int height = 48,
                            int width = 64) {
    cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
    mask(area) = 255;
    AnnotatedObject object;
    object.label = label;
    object.mask = rle_encode(mask);
    object.bbox = rle_bbox(object.mask);
    return object;
}

ImageAnnotation full_annotation() {
    ImageAnnotation annotation;
    annotation.image_file = "sub dir/é.png";
    annotation.width = 64;
    annotation.height = 48;
    annotation.status = ImageStatus::InProgress;
    AnnotatedObject a = object_with("cat", {3, 4, 10, 20});
    a.prompts.points = {{1.25, 2.5, true}, {30.125, 40.0625, false}};
    a.prompts.box = std::array<double, 4>{0.5, 1.5, 20.25, 30.75};
    a.model = "sam_vit_b.pth";
    a.predicted_iou = 0.9317502498626709;
    a.verified = true;
    annotation.add(a);
    AnnotatedObject b = object_with("bird \"tweety\"", {0, 0, 64, 48});
    b.model = "brush";
    b.hidden = true;
    annotation.add(b);
    annotation.remove(annotation.add(object_with("dog", {1, 1, 1, 1})));  // id 3 used, then deleted
    return annotation;
}

}  // namespace

class TestProject : public QObject {
    Q_OBJECT

  private slots:
    void schema_round_trip_keeps_every_field() {
        const ImageAnnotation original = full_annotation();
        const std::string json = annotation_to_json(original);
        QVERIFY(json.find("\"schema\": \"photosynth-annotation/1\"") != std::string::npos);
        auto back = annotation_from_json(json, "x.json");
        QVERIFY2(back.ok(), back.ok() ? "" : back.message().c_str());
        QCOMPARE(back->image_file, original.image_file);
        QCOMPARE(back->width, 64);
        QCOMPARE(back->height, 48);
        QCOMPARE(back->status, ImageStatus::InProgress);
        QCOMPARE(back->next_object_id, 4);  // ids are never reused
        QCOMPARE(back->objects.size(), size_t(2));
        for (size_t i = 0; i < 2; ++i) {
            const AnnotatedObject& a = original.objects[i];
            const AnnotatedObject& b = back->objects[i];
            QCOMPARE(b.id, a.id);
            QCOMPARE(b.label, a.label);
            QVERIFY(b.mask == a.mask);
            QCOMPARE(b.bbox, a.bbox);
            QCOMPARE(b.prompts.points.size(), a.prompts.points.size());
            for (size_t k = 0; k < a.prompts.points.size(); ++k) {
                QCOMPARE(b.prompts.points[k].x, a.prompts.points[k].x);
                QCOMPARE(b.prompts.points[k].y, a.prompts.points[k].y);
                QCOMPARE(b.prompts.points[k].positive, a.prompts.points[k].positive);
            }
            QCOMPARE(b.prompts.box.has_value(), a.prompts.box.has_value());
            if (a.prompts.box) QCOMPARE(*b.prompts.box, *a.prompts.box);
            QCOMPARE(b.model, a.model);
            QCOMPARE(b.predicted_iou, a.predicted_iou);  // exact: shortest round-trip doubles
            QCOMPARE(b.verified, a.verified);
            QCOMPARE(b.hidden, a.hidden);
        }
        QCOMPARE(back->objects[0].bbox, (std::array<double, 4>{3, 4, 10, 20}));
        QCOMPARE(annotation_to_json(*back), json);
    }

    void labels_round_trip() {
        auto back = labels_from_json(labels_to_json(animals()), "labels.json");
        QVERIFY(back.ok());
        QCOMPARE(back->labels.size(), size_t(3));
        for (size_t i = 0; i < 3; ++i) {
            QCOMPARE(back->labels[i].name, animals().labels[i].name);
            QCOMPARE(back->labels[i].colour, animals().labels[i].colour);
            QCOMPARE(back->labels[i].hotkey, animals().labels[i].hotkey);
        }
        auto duplicate = labels_from_json("[{\"name\": \"a\"}, {\"name\": \"a\"}]", "labels.json");
        QVERIFY(!duplicate.ok());
        QVERIFY(duplicate.message().find("labels.json") == 0);
    }

    void malformed_files_are_named_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("problem");
        const QString head =
            "{\"schema\": \"photosynth-annotation/1\", \"status\": \"done\", \"width\": 4, "
            "\"height\": 2, \"next_object_id\": 2, ";
        QTest::newRow("truncated") << head.left(40) << "not valid JSON";
        QTest::newRow("other schema") << "{\"schema\": \"something/1\"}"
                                      << "\"schema\"";
        QTest::newRow("bad status")
            << QString(head).replace("done", "finished") + "\"objects\": []}"
            << "\"status\"";
        QTest::newRow("mask size") << head +
                                          "\"objects\": [{\"id\": 1, \"label\": \"a\", \"mask\": "
                                          "{\"size\": [3, 4], \"counts\": \"<0\"}}]}"
                                   << "object 1: mask size [3, 4]";
        QTest::newRow("bad counts") << head +
                                           "\"objects\": [{\"id\": 1, \"label\": \"a\", \"mask\": "
                                           "{\"size\": [2, 4], \"counts\": \"9\"}}]}"
                                    << "object 1 \"mask\": RLE runs cover 9 pixels";
        QTest::newRow("duplicate id") << head +
                                             "\"objects\": [{\"id\": 1, \"label\": \"a\", "
                                             "\"mask\": {\"size\": [2, 4], \"counts\": \"8\"}},"
                                             "{\"id\": 1, \"label\": \"b\", \"mask\": {\"size\": "
                                             "[2, 4], \"counts\": \"8\"}}]}"
                                      << "appears twice";
        // Hostile sizes and ids: a mask of the size would be allocated whole on load, an id of
        // INT_MAX overflows the next id.
        QTest::newRow("huge size")
            << QString(head).replace("\"width\": 4, \"height\": 2",
                                     "\"width\": 100000, \"height\": 100000") +
                   "\"objects\": []}"
            << "[100000, 100000] is over the limit";
        QTest::newRow("huge mask size")
            << head +
                   "\"objects\": [{\"id\": 1, \"label\": \"a\", \"mask\": {\"size\": [2000000, "
                   "2000000], \"counts\": []}}]}"
            << "object 1 \"mask\": size [2000000, 2000000] is over the limit";
        QTest::newRow("id at INT_MAX")
            << head +
                   "\"objects\": [{\"id\": 2147483647, \"label\": \"a\", \"mask\": {\"size\": [2, "
                   "4], \"counts\": \"8\"}}]}"
            << "\"id\" must be a whole number from 1 to 1073741824";
        QTest::newRow("next id at INT_MAX")
            << QString(head).replace("\"next_object_id\": 2", "\"next_object_id\": 2147483647") +
                   "\"objects\": []}"
            << "\"next_object_id\" must be";
    }

    void malformed_files_are_named() {
        QFETCH(QString, json);
        QFETCH(QString, problem);
        auto parsed = annotation_from_json(json.toStdString(), "dir/a.png.json");
        QVERIFY(!parsed.ok());
        const QString message = QString::fromStdString(parsed.message());
        QVERIFY2(message.startsWith("dir/a.png.json: "), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }

    void save_and_load_through_the_project() {
        QTemporaryDir dir;
        touch_image(dir.filePath("sub dir/é.png"));
        touch_image(dir.filePath("a.jpg"));
        auto project = Project::open(dir.path().toStdString(), animals());
        QVERIFY2(project.ok(), project.ok() ? "" : project.message().c_str());
        QCOMPARE(project->images(), (std::vector<std::string>{"a.jpg", "sub dir/é.png"}));
        const ImageAnnotation original = full_annotation();
        QVERIFY(project->save(original).ok());
        QVERIFY(QFile::exists(dir.filePath(".photosynth/annotations/sub dir/é.png.json")));
        // No temporary file is left beside it.
        QCOMPARE(QDir(dir.filePath(".photosynth/annotations/sub dir"))
                     .entryList(QDir::Files | QDir::Hidden)
                     .size(),
                 1);
        auto loaded = project->load("sub dir/é.png");
        QVERIFY(loaded.ok());
        QVERIFY(!loaded->problem);
        QCOMPARE(annotation_to_json(loaded->annotation), annotation_to_json(original));
        QCOMPARE(project->status("sub dir/é.png"), ImageStatus::InProgress);
        QCOMPARE(project->status("a.jpg"), ImageStatus::NotStarted);
        QCOMPARE(project->annotated_images(), (std::vector<std::string>{"sub dir/é.png"}));

        // Reopened: labels kept, labels_if_new ignored.
        auto again = Project::open(dir.path().toStdString(), LabelSet{});
        QVERIFY(again.ok());
        QCOMPARE(again->labels().labels.size(), size_t(3));
        QCOMPARE(again->labels().labels[2].name, std::string("bird \"tweety\""));

        QVERIFY(project->remove_annotation("sub dir/é.png").ok());
        QCOMPARE(project->status("sub dir/é.png"), ImageStatus::NotStarted);
        auto empty = project->load("sub dir/é.png");
        QVERIFY(empty.ok());
        QVERIFY(empty->annotation.objects.empty());
    }

    // An import's many files: all written or none, and what a killed save_all() left is
    // finished (after its commit marker) or removed (before it) by the next open().
    void save_all_is_all_or_nothing() {
        QTemporaryDir dir;
        for (const char* name : {"a.png", "b.png", "c.png", "d.png"})
            touch_image(dir.filePath(name));
        auto project = Project::open(dir.path().toStdString(), animals());
        QVERIFY(project.ok());
        auto annotation_of = [](const std::string& image, cv::Rect area) {
            ImageAnnotation annotation;
            annotation.image_file = image;
            annotation.width = 64;
            annotation.height = 48;
            annotation.add(object_with("cat", area));
            return annotation;
        };
        QVERIFY(project->save(annotation_of("a.png", {1, 1, 5, 5})).ok());
        QFile a_file(dir.filePath(".photosynth/annotations/a.png.json"));
        QVERIFY(a_file.open(QIODevice::ReadOnly));
        const QByteArray a_before = a_file.readAll();
        a_file.close();
        const QStringList entries_before =
            QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden);

        // One bad annotation among good ones: nothing written.
        ImageAnnotation bad = annotation_of("b.png", {2, 2, 5, 5});
        bad.objects[0].mask = rle_encode(cv::Mat(10, 10, CV_8UC1, cv::Scalar(0)));
        const auto refused = project->save_all({annotation_of("a.png", {9, 9, 5, 5}), bad});
        QVERIFY(!refused.ok());
        QVERIFY2(refused.message().find("b.png.json: object 1: mask size") != std::string::npos,
                 refused.message().c_str());
        QVERIFY(a_file.open(QIODevice::ReadOnly));
        QCOMPARE(a_file.readAll(), a_before);
        a_file.close();
        QCOMPARE(project->status("b.png"), ImageStatus::NotStarted);
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden), entries_before);

        // Good ones, with new labels: every file replaced or added at once.
        LabelSet more = animals();
        more.labels.push_back({"fox", {9, 9, 9}, ""});
        QVERIFY(project
                    ->save_all({annotation_of("a.png", {9, 9, 5, 5}),
                                annotation_of("b.png", {2, 2, 5, 5})},
                               more)
                    .ok());
        QCOMPARE(project->labels().labels.size(), size_t(4));
        QCOMPARE(project->load("a.png")->annotation.objects[0].bbox[0], 9.0);
        QCOMPARE(project->load("b.png")->annotation.objects.size(), size_t(1));
        QCOMPARE(Project::open(dir.path().toStdString())->labels().labels.size(), size_t(4));
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden), entries_before);

        // What two killed processes left: one committed (its marker written), one not.
        const long dead = dead_pid();
        const QString committed = dir.filePath(QString("..photosynth.tmp-%1-Abc123").arg(dead));
        const QString uncommitted = dir.filePath(QString("..photosynth.tmp-%1-Xyz789").arg(dead));
        auto stage = [](const QString& staging, const ImageAnnotation& annotation) {
            QVERIFY(QDir().mkpath(staging + "/annotations"));
            QFile file(staging + "/annotations/" + QString::fromStdString(annotation.image_file) +
                       ".json");
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray::fromStdString(annotation_to_json(annotation)));
        };
        stage(committed, annotation_of("c.png", {3, 3, 5, 5}));
        stage(committed, annotation_of("a.png", {20, 20, 5, 5}));
        stage(uncommitted, annotation_of("d.png", {4, 4, 5, 5}));
        QFile marker(committed + ".commit");
        QVERIFY(marker.open(QIODevice::WriteOnly));
        marker.close();
        auto reopened = Project::open(dir.path().toStdString());
        QVERIFY(reopened.ok());
        QCOMPARE(reopened->load("c.png")->annotation.objects.size(), size_t(1));
        QCOMPARE(reopened->load("a.png")->annotation.objects[0].bbox[0], 20.0);
        QCOMPARE(reopened->status("d.png"), ImageStatus::NotStarted);
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden), entries_before);
    }

    // An import into a project that does not exist yet makes it with its first save_all():
    // opening writes nothing, so a failure or a kill before then leaves no project.
    void creation_on_first_save() {
        QTemporaryDir dir;
        touch_image(dir.filePath("a.png"));
        auto project =
            Project::open(dir.path().toStdString(), animals(), {}, Creation::OnFirstSave);
        QVERIFY(project.ok());
        QVERIFY(!project->exists());
        QCOMPARE(project->images(), std::vector<std::string>{"a.png"});
        QVERIFY(!QFileInfo::exists(dir.filePath(".photosynth")));
        ImageAnnotation annotation;
        annotation.image_file = "a.png";
        annotation.width = 64;
        annotation.height = 48;
        annotation.add(object_with("dog", {1, 2, 3, 4}));
        QVERIFY(!project->save(annotation).ok());  // only save_all() makes the project
        QVERIFY(!QFileInfo::exists(dir.filePath(".photosynth")));
        QVERIFY(project->save_all({annotation}).ok());
        QVERIFY(project->exists());
        auto reopened = Project::open(dir.path().toStdString());
        QVERIFY(reopened.ok());
        QCOMPARE(reopened->labels().labels.size(), size_t(3));
        QCOMPARE(reopened->load("a.png")->annotation.objects[0].label, std::string("dog"));
        QVERIFY(reopened->save(annotation).ok());
    }

    void save_refuses_bad_annotations() {
        QTemporaryDir dir;
        auto project = Project::open(dir.path().toStdString());
        QVERIFY(project.ok());
        ImageAnnotation annotation = full_annotation();
        annotation.image_file = "../escape.png";
        QVERIFY(!project->save(annotation).ok());
        annotation.image_file = "x.png";
        annotation.objects[0].mask = rle_encode(cv::Mat(10, 10, CV_8UC1, cv::Scalar(0)));
        const auto saved = project->save(annotation);
        QVERIFY(!saved.ok());
        QVERIFY2(saved.message().find("mask size [10, 10]") != std::string::npos,
                 saved.message().c_str());
        QVERIFY(!QFile::exists(dir.filePath(".photosynth/annotations/x.png.json")));
    }

    void corrupt_file_is_set_aside() {
        QTemporaryDir dir;
        touch_image(dir.filePath("a.png"));
        auto project = Project::open(dir.path().toStdString(), animals());
        QVERIFY(project.ok());
        const QString path = QString::fromStdString(project->annotation_path("a.png"));
        const QByteArray garbage = QByteArray(
            "{\"schema\": \"photosynth-annotation/1\", \"status\": \"done\", \"objects\": [{\"id");
        for (int round = 0; round < 2; ++round) {  // the second one must not overwrite the first
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(garbage + QByteArray::number(round));
            file.close();
            QCOMPARE(project->status("a.png"), ImageStatus::NotStarted);
            auto loaded = project->load("a.png");
            QVERIFY(loaded.ok());
            QVERIFY(loaded->problem.has_value());
            const QString problem = QString::fromStdString(*loaded->problem);
            QVERIFY2(problem.contains(path) && problem.contains("not valid JSON"),
                     qPrintable(problem));
            const QString aside = QString::fromStdString(loaded->set_aside_path);
            QVERIFY2(problem.contains(aside), qPrintable(problem));
            QVERIFY2(QFileInfo(aside).fileName().startsWith("a.png.json.corrupt-"),
                     qPrintable(aside));
            QVERIFY(!QFile::exists(path));
            QFile kept(aside);
            QVERIFY(kept.open(QIODevice::ReadOnly));
            QCOMPARE(kept.readAll(), garbage + QByteArray::number(round));
            QVERIFY(loaded->annotation.objects.empty());
        }
        QCOMPARE(
            QDir(QFileInfo(path).path()).entryList({"a.png.json.corrupt-*"}, QDir::Files).size(),
            2);
        QCOMPARE(project->annotated_images().size(),
                 size_t(0));  // set-aside files are no annotations
    }

    void next_unannotated_wraps_around() {
        QTemporaryDir dir;
        for (const char* name : {"1.png", "2.png", "3.png", "4.png"})
            touch_image(dir.filePath(name));
        auto project = Project::open(dir.path().toStdString());
        QVERIFY(project.ok());
        auto mark = [&](const char* name, ImageStatus status) {
            ImageAnnotation annotation;
            annotation.image_file = name;
            annotation.width = 64;
            annotation.height = 48;
            annotation.status = status;
            QVERIFY(project->save(annotation).ok());
        };
        mark("1.png", ImageStatus::Done);
        mark("2.png", ImageStatus::InProgress);
        mark("3.png", ImageStatus::Done);
        QCOMPARE(project->next_unannotated(), std::optional<std::string>("2.png"));
        QCOMPARE(project->next_unannotated("2.png"), std::optional<std::string>("4.png"));
        QCOMPARE(project->next_unannotated("4.png"), std::optional<std::string>("2.png"));
        mark("2.png", ImageStatus::Done);
        mark("4.png", ImageStatus::Done);
        QCOMPARE(project->next_unannotated("1.png"), std::nullopt);
        const auto statuses = project->statuses();
        QCOMPARE(statuses.size(), size_t(4));
        QCOMPARE(statuses.at("3.png"), ImageStatus::Done);
    }

    void images_apart_from_the_project() {
        QTemporaryDir images, work;
        touch_image(images.filePath("x.png"));
        touch_image(images.filePath(".hidden/y.png"));
        touch_image(images.filePath("notes.txt"));
        const QString project_dir = work.filePath("project");
        auto project =
            Project::open(project_dir.toStdString(), animals(), images.path().toStdString());
        QVERIFY2(project.ok(), project.ok() ? "" : project.message().c_str());
        QCOMPARE(project->images(), std::vector<std::string>{"x.png"});
        QCOMPARE(QString::fromStdString(project->image_path("x.png")), images.filePath("x.png"));
        QVERIFY(
            !QFile::exists(images.filePath(".photosynth")));  // nothing written beside the images
        // Reopened without naming the image folder: project.json remembers it.
        auto again = Project::open(project_dir.toStdString());
        QVERIFY(again.ok());
        QCOMPARE(again->image_root(), images.path().toStdString());
        // Inside the project, the root is stored relative (the pair can move together).
        QTemporaryDir both;
        touch_image(both.filePath("imgs/z.png"));
        QVERIFY(
            Project::open(both.path().toStdString(), {}, both.filePath("imgs").toStdString()).ok());
        QFile json(both.filePath(".photosynth/project.json"));
        QVERIFY(json.open(QIODevice::ReadOnly));
        QVERIFY(json.readAll().contains("\"image_root\": \"imgs\""));
        // A missing image folder is an error that names it.
        auto missing = Project::open(work.filePath("p2").toStdString(), {},
                                     work.filePath("nowhere").toStdString());
        QVERIFY(!missing.ok());
        QVERIFY(missing.message().find("nowhere") != std::string::npos);
    }
};

QTEST_MAIN(TestProject)
#include "test_project.moc"
