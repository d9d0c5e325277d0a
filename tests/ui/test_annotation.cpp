// Annotation mode driven like a user: a project of three generated images annotated with mouse
// and key events only (points, accept, label hotkeys, next image, brush, undo), exported to COCO
// through the export dialog, and re-opened. The built-in GrabCut answers the clicks (no model).
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMainWindow>
#include <QMap>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <opencv2/imgproc.hpp>

#include "annotating/annotation_session.h"
#include "annotation/project.h"
#include "annotation/rle.h"
#include "annotation_controller.h"
#include "annotation_export_dialog.h"
#include "editing/mask_stroke.h"
#include "engine/engine.h"
#include "golden_dir.h"
#include "image_canvas.h"
#include "label_dock.h"
#include "main_window.h"
#include "message_banner.h"
#include "objects_dock.h"
#include "point_file_dialog.h"
#include "project_dock.h"
#include "shortcut_sheet.h"

using namespace ps;
using annotation::ImageStatus;

namespace {

constexpr int kWidth = 320, kHeight = 240;

engine::EngineSettings settings(int downscale_max = 0, int workers = 2) {
    engine::EngineSettings s;
    s.max_workers = workers;
    s.device = runtime::Device::Cpu;
    s.host_cache_bytes = 64LL << 20;
    s.downscale_max = downscale_max;
    return s;
}

// Flat shapes on a noisy blue-grey ground: GrabCut separates them by colour.
void write_image(const QString& path, const std::vector<std::pair<cv::Scalar, cv::Rect>>& rects,
                 const std::vector<std::pair<cv::Scalar, cv::RotatedRect>>& ellipses, int seed) {
    cv::Mat rgb(kHeight, kWidth, CV_8UC3);
    cv::theRNG().state = uint64(seed);
    cv::randn(rgb, cv::Scalar(70, 80, 95), cv::Scalar(8, 8, 8));
    for (const auto& [colour, rect] : rects) cv::rectangle(rgb, rect, colour, cv::FILLED);
    for (const auto& [colour, ellipse] : ellipses) cv::ellipse(rgb, ellipse, colour, cv::FILLED);
    QImage image(rgb.data, rgb.cols, rgb.rows, int(rgb.step[0]), QImage::Format_RGB888);
    QVERIFY(image.save(path));
}

void make_images(const QString& dir) {
    write_image(dir + "/a.png", {{cv::Scalar(220, 30, 30), cv::Rect(40, 40, 80, 70)}},
                {{cv::Scalar(240, 220, 20), cv::RotatedRect({220, 150}, {80, 80}, 0)}}, 1);
    write_image(dir + "/b.png", {},
                {{cv::Scalar(30, 200, 60), cv::RotatedRect({160, 120}, {140, 90}, 0)}}, 2);
    write_image(dir + "/c.png", {{cv::Scalar(210, 40, 200), cv::Rect(180, 60, 100, 120)}}, {}, 3);
}

bool wait_until(const std::function<bool()>& done, int timeout_ms = 30000) {
    QElapsedTimer timer;
    timer.start();
    while (!done() && timer.elapsed() < timeout_ms) QTest::qWait(10);
    return done();
}

bool wait_idle(ui::MainWindow& window) {
    return wait_until([&] { return !window.busy() && !window.annotation()->session().saving(); });
}

// Image (full-resolution) coordinates to the canvas viewport; the canvas shows the work image.
QPoint at(ui::MainWindow& window, double x, double y) {
    const double scale = window.canvas()->sceneRect().width() / kWidth;
    return window.canvas()->image_to_viewport(QPointF(x * scale, y * scale)).toPoint();
}

bool mask_at(const cv::Mat& work_mask, ui::MainWindow& window, double x, double y) {
    const double scale = window.canvas()->sceneRect().width() / kWidth;
    return work_mask.at<uint8_t>(int(y * scale), int(x * scale)) != 0;
}

bool click_and_wait(ui::MainWindow& window, double x, double y) {
    QSignalSpy shown(&window, &ui::MainWindow::masks_shown);
    QTest::mouseClick(window.canvas()->viewport(), Qt::LeftButton, {}, at(window, x, y));
    return shown.wait(30000) && wait_idle(window);
}

void drag(ui::MainWindow& window, QPointF from, QPointF to) {
    QWidget* viewport = window.canvas()->viewport();
    QTest::mousePress(viewport, Qt::LeftButton, {}, at(window, from.x(), from.y()));
    for (int step = 1; step <= 8; ++step) {
        const QPointF p = from + (to - from) * (step / 8.0);
        QTest::mouseMove(viewport, at(window, p.x(), p.y()));
    }
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, at(window, to.x(), to.y()));
}

bool press_and_wait_for_image(ui::MainWindow& window, Qt::Key key, Qt::KeyboardModifiers modifiers,
                              const QString& expected_file) {
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    QTest::keyClick(&window, key, modifiers);
    return opened.wait(30000) && QFileInfo(window.current_path()).fileName() == expected_file &&
           wait_idle(window);
}

bool open_project(ui::MainWindow& window, const QString& dir) {
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    window.annotation()->open_project(dir);
    return opened.wait(30000) && wait_idle(window);
}

// Shown and active (shortcuts need an active window), with the project open on its first image.
bool show_with_project(ui::MainWindow& window, const QString& dir) {
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) return false;
    QApplication::setActiveWindow(&window);
    return open_project(window, dir);
}

std::vector<QString> labels_of(ui::MainWindow& window) {
    std::vector<QString> labels;
    for (const editing::SegmentObject& object : window.document().objects())
        labels.push_back(object.name);
    return labels;
}

void select_in(QListWidget* list, int row) {
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {},
                      list->visualItemRect(list->item(row)).center());
}

struct CocoObject {
    QString label;
    cv::Mat mask;
};

// annotations.json read back: per image file, its objects with category names and masks.
QMap<QString, std::vector<CocoObject>> read_coco(const QString& path, QStringList* categories) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QJsonObject coco = QJsonDocument::fromJson(file.readAll()).object();
    QMap<int, QString> images, names;
    for (const QJsonValue& image : coco["images"].toArray()) {
        images[image["id"].toInt()] = image["file_name"].toString();
    }
    for (const QJsonValue& category : coco["categories"].toArray()) {
        names[category["id"].toInt()] = category["name"].toString();
        categories->append(category["name"].toString());
    }
    QMap<QString, std::vector<CocoObject>> out;
    for (const QString& name : images) out[name];
    for (const QJsonValue& a : coco["annotations"].toArray()) {
        const QJsonObject segmentation = a["segmentation"].toObject();
        const QJsonArray size = segmentation["size"].toArray();
        auto rle =
            annotation::rle_from_string(segmentation["counts"].toString().toStdString(),
                                        size[0].toInt(), size[1].toInt(), "annotations.json");
        out[images[a["image_id"].toInt()]].push_back(
            {names[a["category_id"].toInt()], rle ? annotation::rle_decode(*rle) : cv::Mat()});
    }
    return out;
}

}  // namespace

class TestAnnotation : public QObject {
    Q_OBJECT
  private slots:
    void paint_stroke_adds_and_cuts();
    void annotate_export_reopen_data();
    void annotate_export_reopen();
    void shortcuts_do_not_collide();
    void corrupt_annotation_is_reported_and_kept();
    void label_hotkey_must_be_free();
    void point_file_runs_in_the_background();
    void controller_needs_only_its_context();
};

void TestAnnotation::paint_stroke_adds_and_cuts() {
    const cv::Size size(40, 30);
    const cv::Mat painted = editing::paint_stroke(cv::Mat(), size, {{5, 10}, {30, 10}}, 3, false);
    QCOMPARE(painted.size(), size);
    QCOMPARE(int(painted.at<uint8_t>(10, 5)), 255);
    QCOMPARE(int(painted.at<uint8_t>(10, 30)), 255);
    QCOMPARE(int(painted.at<uint8_t>(12, 18)), 255);  // within the radius of the segment
    QCOMPARE(int(painted.at<uint8_t>(20, 18)), 0);
    const cv::Mat erased = editing::paint_stroke(painted, size, {{18, 10}}, 3, true);
    QCOMPARE(int(erased.at<uint8_t>(10, 18)), 0);
    QCOMPARE(int(erased.at<uint8_t>(10, 5)), 255);
    QCOMPARE(int(painted.at<uint8_t>(10, 18)), 255);  // the input is left alone (undo keeps it)
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             editing::paint_stroke(cv::Mat(size, CV_8UC3), size, {}, 3, false));
}

void TestAnnotation::annotate_export_reopen_data() {
    QTest::addColumn<int>("downscale_max");
    QTest::newRow("work image at full size") << 0;
    // The work image is half size: masks and prompts are scaled on the way in and out.
    QTest::newRow("work image downscaled") << 160;
}

void TestAnnotation::annotate_export_reopen() {
    QFETCH(int, downscale_max);
    QTemporaryDir dir;
    make_images(dir.path());
    engine::Engine engine(settings(downscale_max));
    QTemporaryDir export_dir;
    const QPointF undone_from(20, 215), undone_to(70, 215);    // brushed, then undone
    const QPointF brushed_from(250, 20), brushed_to(300, 20);  // brushed and kept
    {
        ui::MainWindow window(engine);
        ui::AnnotationController& annotation = *window.annotation();
        QVERIFY(show_with_project(window, dir.path()));
        QCOMPARE(QFileInfo(window.current_path()).fileName(), QString("a.png"));
        QCOMPARE(annotation.project_dock()->list()->count(), 3);
        QVERIFY(annotation.project_dock()->summary().contains("0 of 3 images done"));
        QCOMPARE(annotation.label_dock()->current_label(), QString("object"));

        // a.png: the red box, Enter -> "object"; Alt+2 ("person"), the yellow disc, Enter.
        QVERIFY(click_and_wait(window, 80, 75));
        QTest::keyClick(&window, Qt::Key_Return);
        QTest::keyClick(&window, Qt::Key_2, Qt::AltModifier);
        QCOMPARE(annotation.label_dock()->current_label(), QString("person"));
        QVERIFY(click_and_wait(window, 220, 150));
        QTest::keyClick(&window, Qt::Key_Return);
        QCOMPARE(labels_of(window), (std::vector<QString>{"object", "person"}));
        QVERIFY(wait_idle(window));
        QCOMPARE(annotation.project_dock()->shown_status("a.png"), ImageStatus::InProgress);

        // B, then a drag: the stroke goes into the newest object (nothing is selected); Ctrl+Z
        // takes it back; a second stroke stays. P returns to the point tool.
        QTest::keyClick(&window, Qt::Key_B);
        QCOMPARE(window.canvas()->tool(), ui::ImageCanvas::Tool::Brush);
        const cv::Mat before = window.document().objects().back().mask;
        QVERIFY(!mask_at(before, window, 45, 215));
        drag(window, undone_from, undone_to);
        QVERIFY(mask_at(window.document().objects().back().mask, window, 45, 215));
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
        QVERIFY(!mask_at(window.document().objects().back().mask, window, 45, 215));
        QCOMPARE(int(window.document().objects().size()),
                 2);  // undo took the stroke, not an object
        drag(window, brushed_from, brushed_to);
        QVERIFY(mask_at(window.document().objects().back().mask, window, 275, 20));
        QVERIFY(!mask_at(window.document().objects().front().mask, window, 275, 20));
        QTest::keyClick(&window, Qt::Key_P);
        QCOMPARE(window.canvas()->tool(), ui::ImageCanvas::Tool::Points);

        // Select the first object in the list and relabel it with its hotkey (Alt+4, "vehicle").
        select_in(window.objects_dock()->list(), 0);
        QTest::keyClick(&window, Qt::Key_4, Qt::AltModifier);
        QCOMPARE(labels_of(window), (std::vector<QString>{"vehicle", "person"}));

        // Ctrl+Enter: a.png is done, and the next image not done opens.
        QVERIFY(press_and_wait_for_image(window, Qt::Key_Return, Qt::ControlModifier, "b.png"));
        QCOMPARE(annotation.project_dock()->shown_status("a.png"), ImageStatus::Done);
        QVERIFY(window.document().objects().empty());

        // b.png: the ellipse with the current label (still "vehicle"); N goes on to c.png.
        QVERIFY(click_and_wait(window, 160, 120));
        QTest::keyClick(&window, Qt::Key_Return);
        QCOMPARE(labels_of(window), (std::vector<QString>{"vehicle"}));
        QVERIFY(press_and_wait_for_image(window, Qt::Key_N, {}, "c.png"));

        // c.png: Alt+1 ("object"), the box, Enter, Ctrl+Enter: back to b.png, the one not done.
        QTest::keyClick(&window, Qt::Key_1, Qt::AltModifier);
        QVERIFY(click_and_wait(window, 230, 120));
        QTest::keyClick(&window, Qt::Key_Return);
        QVERIFY(press_and_wait_for_image(window, Qt::Key_Return, Qt::ControlModifier, "b.png"));
        QCOMPARE(labels_of(window), (std::vector<QString>{"vehicle"}));  // loaded from its file
        QVERIFY(annotation.project_dock()->summary().contains("2 of 3 images done"));

        // Export through the dialog the menu opens.
        ui::AnnotationExportDialog* dialog = annotation.open_export_dialog();
        QVERIFY(dialog);
        auto* format = dialog->findChild<QComboBox*>("export_format");
        format->setCurrentIndex(format->findData("coco"));
        dialog->findChild<QLineEdit*>("export_dir")->setText(export_dir.path());
        QSignalSpy exported(dialog, &ui::AnnotationExportDialog::export_finished);
        QTest::mouseClick(dialog->findChild<QPushButton*>("export_button"), Qt::LeftButton);
        QVERIFY(exported.wait(30000));
        QVERIFY2(exported.first().first().toBool(), qPrintable(exported.first().last().toString()));
        dialog->close();
    }

    // The COCO file holds exactly what was done.
    QStringList categories;
    const auto coco = read_coco(export_dir.path() + "/annotations.json", &categories);
    QCOMPARE(coco.size(), 3);
    for (const char* label : {"object", "person", "animal", "vehicle"})
        QVERIFY(categories.contains(label));
    const auto names = [](const std::vector<CocoObject>& objects) {
        QStringList out;
        for (const CocoObject& object : objects) out << object.label;
        out.sort();
        return out;
    };
    QCOMPARE(names(coco["a.png"]), (QStringList{"person", "vehicle"}));
    QCOMPARE(names(coco["b.png"]), QStringList{"vehicle"});
    QCOMPARE(names(coco["c.png"]), QStringList{"object"});
    for (const CocoObject& object : coco["a.png"]) {
        QCOMPARE(object.mask.size(), cv::Size(kWidth, kHeight));  // full resolution
        const bool person = object.label == "person";
        QCOMPARE(object.mask.at<uint8_t>(20, 275) != 0, person);  // the kept stroke
        QVERIFY(object.mask.at<uint8_t>(215, 45) == 0);           // the undone one
        QVERIFY(object.mask.at<uint8_t>(person ? 150 : 75, person ? 220 : 80) != 0);  // the click
    }

    // Re-opening shows the saved objects: b.png first (the only image not done), then a.png
    // chosen in the project list with the keyboard.
    ui::MainWindow window(engine);
    QVERIFY(show_with_project(window, dir.path()));
    QCOMPARE(QFileInfo(window.current_path()).fileName(), QString("b.png"));
    QCOMPARE(labels_of(window), (std::vector<QString>{"vehicle"}));
    QListWidget* images = window.annotation()->project_dock()->list();
    select_in(images, 0);
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    QTest::keyClick(images, Qt::Key_Return);
    QVERIFY(opened.wait(30000));
    QCOMPARE(QFileInfo(window.current_path()).fileName(), QString("a.png"));
    QCOMPARE(labels_of(window), (std::vector<QString>{"vehicle", "person"}));
    QVERIFY(mask_at(window.document().objects().back().mask, window, 275, 20));
    QCOMPARE(window.document().objects().back().colour, QColor(60, 180, 75));  // person's colour
    // A new object after re-opening takes a fresh id, never a saved one's.
    QVERIFY(click_and_wait(window, 150, 200));
    QTest::keyClick(&window, Qt::Key_Return);
    QVERIFY(wait_idle(window));
    const auto& saved = window.annotation()->session().current_annotation();
    QCOMPARE(int(saved.objects.size()), 3);
    QVERIFY(saved.objects[2].id > std::max(saved.objects[0].id, saved.objects[1].id));
    QCOMPARE(saved.status, ImageStatus::Done);  // editing a done image keeps it done
}

void TestAnnotation::shortcuts_do_not_collide() {
    QTemporaryDir dir;
    make_images(dir.path());
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    QVERIFY(show_with_project(window, dir.path()));
    QMap<QString, QStringList> owners;
    for (const ui::ShortcutEntry& entry : ui::collect_shortcuts(&window)) {
        owners[entry.key.toString(QKeySequence::PortableText)] << entry.where;
    }
    for (auto it = owners.begin(); it != owners.end(); ++it) {
        QVERIFY2(it.value().size() == 1,
                 qPrintable(it.key() + " is used by " + it.value().join(", ")));
    }
    // The click-to-mask loop is all there: candidates, accept, labels, tools, navigation.
    for (const char* key : {"1", "2", "3", "Return", "Esc", "Ctrl+Z", "Alt+1", "Alt+4", "B", "E",
                            "P", "[", "]", "N", "Ctrl+Return", "PgDown", "V", "Del", "F1"}) {
        QVERIFY2(owners.contains(key), key);
    }
    // F1 shows them all, from the same actions.
    QTest::keyClick(&window, Qt::Key_F1);
    auto* sheet = window.findChild<ui::ShortcutSheet*>();
    QVERIFY(sheet);
    QVERIFY(sheet->isVisible());
    QStringList rows;
    for (int row = 0; row < sheet->table()->rowCount(); ++row) {
        rows << sheet->table()->item(row, 0)->text() + " = " + sheet->table()->item(row, 1)->text();
    }
    QVERIFY2(rows.filter("Accept Object").size() == 1, qPrintable(rows.join("\n")));
    QVERIFY(rows.filter("Labels ▸ person").size() == 1);
    QVERIFY(rows.filter("Brush").size() >= 1);
    QVERIFY(rows.size() >= owners.size());
    sheet->close();
}

void TestAnnotation::corrupt_annotation_is_reported_and_kept() {
    QTemporaryDir dir;
    make_images(dir.path());
    const std::string annotation_file = [&] {
        auto project = annotation::Project::open(dir.path().toStdString(),
                                                 annotating::AnnotationSession::default_labels());
        return project ? project->annotation_path("a.png") : std::string();
    }();
    QVERIFY(!annotation_file.empty());
    QDir().mkpath(QFileInfo(QString::fromStdString(annotation_file)).path());
    const QByteArray garbage = "{\"schema\": \"photosynth-annotation/1\", \"objects\": [tru";
    {
        QFile file(QString::fromStdString(annotation_file));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(garbage);
    }
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    QVERIFY(show_with_project(window, dir.path()));
    QCOMPARE(QFileInfo(window.current_path()).fileName(), QString("a.png"));
    const QString file_name = QFileInfo(QString::fromStdString(annotation_file)).fileName();
    // Named in the status bar, the project list and the banner (which stays until dismissed).
    QVERIFY2(window.status_text().contains(file_name), qPrintable(window.status_text()));
    QListWidget* images = window.annotation()->project_dock()->list();
    QVERIFY(images->item(0)->toolTip().contains(file_name));
    QVERIFY2(window.banner_text().contains(file_name), qPrintable(window.banner_text()));
    QVERIFY(window.banner()->isVisible());
    // The broken file was set aside untouched, and new work goes to a new file.
    const auto& problems = window.annotation()->session().problems();
    QVERIFY(problems.count("a.png"));
    QStringList aside = QDir(QFileInfo(QString::fromStdString(annotation_file)).path())
                            .entryList({file_name + "*"}, QDir::Files);
    aside.removeAll(file_name);
    QCOMPARE(aside.size(), 1);
    QFile kept(QFileInfo(QString::fromStdString(annotation_file)).path() + "/" + aside.front());
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), garbage);
    QVERIFY(click_and_wait(window, 80, 75));
    QTest::keyClick(&window, Qt::Key_Return);
    QCOMPARE(int(window.document().objects().size()), 1);
    QVERIFY(wait_idle(window));
    auto project = annotation::Project::open(dir.path().toStdString());
    QVERIFY(project.ok());
    auto loaded = project->load("a.png");
    QVERIFY(loaded.ok() && !loaded->problem);
    QCOMPARE(int(loaded->annotation.objects.size()), 1);
}

void TestAnnotation::label_hotkey_must_be_free() {
    QTemporaryDir dir;
    make_images(dir.path());
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    QVERIFY(open_project(window, dir.path()));
    ui::LabelDock* labels = window.annotation()->label_dock();
    // "1" chooses the first candidate mask; "B" is the brush; "Alt+2" is "person".
    for (const char* taken : {"1", "B", "Alt+2"}) {
        QVERIFY2(!labels->add_label({"tree", {0, 128, 0}, taken}).isEmpty(), taken);
    }
    QVERIFY(!labels->add_label({"person", {0, 128, 0}, ""}).isEmpty());  // names are unique
    QSignalSpy changed(&window.annotation()->session(),
                       &annotating::AnnotationSession::labels_changed);
    QCOMPARE(labels->add_label({"tree", {0, 128, 0}, "Alt+5"}), QString());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(int(labels->labels().labels.size()), 5);
    // Saved with the project, and its hotkey works at once.
    auto project = annotation::Project::open(dir.path().toStdString());
    QVERIFY(project.ok() && project->labels().find("tree"));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QApplication::setActiveWindow(&window);
    QTest::keyClick(&window, Qt::Key_5, Qt::AltModifier);
    QCOMPARE(labels->current_label(), QString("tree"));
}

void TestAnnotation::point_file_runs_in_the_background() {
    QTemporaryDir dir;
    make_images(dir.path());
    QFile points(dir.path() + "/points.json");
    QVERIFY(points.open(QIODevice::WriteOnly));
    points.write(R"({"images": {
        "a.png": [{"label": "person", "points": [[80, 75]]}, {"label": "tree", "box": [180, 110, 260, 190]}],
        "c.png": [{"label": "object", "points": [[230, 120, 1], [20, 20, 0]]}],
        "missing.png": [{"label": "object", "points": [[10, 10]]}]}})");
    points.close();
    // One worker: the batch waits on that pool for its own encodes and decodes, so this hangs
    // unless the dialog tells the pool that the batch's thread is waiting.
    engine::Engine engine(settings(0, 1));
    ui::MainWindow window(engine);
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    window.set_sam_model(golden_dir() + "/sam_vit_tiny.pth");
    QVERIFY(ready.wait(30000));
    QVERIFY(show_with_project(window, dir.path()));
    QCOMPARE(QFileInfo(window.current_path()).fileName(), QString("a.png"));

    ui::PointFileDialog* dialog = window.annotation()->open_point_file_dialog();
    QVERIFY(dialog);
    dialog->findChild<QLineEdit*>("points_path")->setText(points.fileName());
    auto* run = dialog->findChild<QPushButton*>("points_run");
    QSignalSpy progress(dialog, &ui::PointFileDialog::progress_changed);
    QSignalSpy finished(dialog, &ui::PointFileDialog::run_finished);

    // Cancel at once: the run stops between images and says so; what it finished is kept.
    QTest::mouseClick(run, Qt::LeftButton);
    QVERIFY(dialog->running());
    QTest::mouseClick(dialog->findChild<QPushButton*>("points_cancel"), Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY2(dialog->summary_text().contains("Cancelled"), qPrintable(dialog->summary_text()));

    // Run again: it resumes, skipping what the first run saved.
    finished.clear();
    progress.clear();
    QVERIFY(wait_idle(window));
    QSignalSpy reopened(&window, &ui::MainWindow::image_opened);
    QTest::mouseClick(run, Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    QVERIFY(!dialog->running());
    QCOMPARE(progress.count(), 3);  // one report per image, on the GUI thread
    QCOMPARE(progress.last().at(0).toInt(), 3);
    // The bad image is named in the summary, which is not a success.
    QCOMPARE(finished.first().at(0).toBool(), false);
    const QString summary = dialog->summary_text();
    QVERIFY2(summary.contains("missing.png"), qPrintable(summary));
    dialog->close();

    // The image on screen is re-read: its batch objects are there, unverified, and the new
    // label joined the set; the project list shows both images in progress.
    QVERIFY(reopened.wait(30000));
    QVERIFY(wait_idle(window));
    QCOMPARE(labels_of(window), (std::vector<QString>{"person", "tree"}));
    for (const editing::SegmentObject& object : window.document().objects())
        QVERIFY(!object.verified);
    QVERIFY(window.annotation()->label_dock()->labels().find("tree"));
    ui::ProjectDock* dock = window.annotation()->project_dock();
    QCOMPARE(dock->shown_status("a.png"), ImageStatus::InProgress);
    QCOMPARE(dock->shown_status("b.png"), ImageStatus::NotStarted);
    QCOMPARE(dock->shown_status("c.png"), ImageStatus::InProgress);
    // V verifies them all (none selected), saved at once.
    QApplication::setActiveWindow(&window);
    QTest::keyClick(&window, Qt::Key_V);
    QVERIFY(wait_idle(window));
    for (const auto& object : window.annotation()->session().current_annotation().objects)
        QVERIFY(object.verified);
    auto project = annotation::Project::open(dir.path().toStdString());
    QVERIFY(project.ok());
    auto loaded = project->load("a.png");
    QVERIFY(loaded.ok());
    QCOMPARE(int(loaded->annotation.objects.size()), 2);
    for (const auto& object : loaded->annotation.objects) QVERIFY(object.verified);
    loaded = project->load("c.png");
    QVERIFY(loaded.ok());
    QCOMPARE(int(loaded->annotation.objects.size()), 1);  // once, though two runs saw it
}

// The controller sees the window only through AnnotationContext: a bare QMainWindow hosts it, the
// callbacks record what it asks of the window.
void TestAnnotation::controller_needs_only_its_context() {
    QTemporaryDir dir;
    make_images(dir.path());
    engine::Engine engine(settings());
    QMainWindow host;
    editing::EditDocument document;
    QUndoStack undo_stack;
    QStringList statuses, errors, folder_files;
    QList<int> jumps;
    ui::AnnotationContext context;
    context.window = &host;
    context.document = &document;
    context.undo_stack = &undo_stack;
    context.canvas = new ui::ImageCanvas(&host);
    context.selected_object_id = [] { return -1; };
    context.current_image_id = [] { return 0; };
    context.current_path = [] { return QString(); };
    context.show_status = [&](const QString& text) { statuses << text; };
    context.show_error = [&](const QString& text) { errors << text; };
    context.set_folder_files = [&](const QStringList& files) { folder_files = files; };
    context.go_to_folder_image = [&](int index) { jumps << index; };
    context.open_image = [](const QString&) {};
    context.model_id = [] { return std::string(); };
    context.model_name = [] { return QString(); };
    ui::AnnotationController controller(context, engine, &host);

    QSignalSpy opened(&controller, &ui::AnnotationController::project_opened);
    controller.open_project(dir.path());
    QVERIFY(opened.wait(10000));
    QVERIFY(errors.isEmpty());
    QCOMPARE(folder_files.size(), 3);
    QVERIFY(folder_files.front().endsWith("a.png"));
    QCOMPARE(jumps, QList<int>({0}));  // the first image not done
    QVERIFY(host.findChild<ui::ProjectDock*>());
    QVERIFY(host.findChild<ui::LabelDock*>());
    // Without an image or a selection, the actions say why they did nothing.
    controller.verify();
    QCOMPARE(statuses.back(), QString("Nothing to verify"));
    controller.delete_selected();
    QCOMPARE(statuses.back(), QString("Select an object first"));
    QCOMPARE(undo_stack.count(), 0);
    controller.session().flush();
}

QTEST_MAIN(TestAnnotation)
#include "test_annotation.moc"
