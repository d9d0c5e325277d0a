// The README's workflows end to end on the window the app builds, as a user drives it offscreen:
// menus, keys to the focused widget, clicks on the canvas and Qt's own file dialogs answered by
// typing a path; each file written is read back and checked. The steps share one window, in order.
#include "io/checkpoint.h"  // ATen before Qt (Qt's `slots` macro breaks ATen's headers)

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabBar>
#include <QTabWidget>
#include <QTemporaryDir>

#include <memory>

#include <opencv2/imgproc.hpp>

#include "annotating/annotation_session.h"
#include "annotation/rle.h"
#include "annotation_controller.h"
#include "annotation_export_dialog.h"
#include "app_settings.h"
#include "background_panel.h"
#include "candidate_strip.h"
#include "effects_panel.h"
#include "golden_dir.h"
#include "image/mask_export.h"
#include "objects_dock.h"
#include "sam_golden.h"
#include "settings_dialog.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

constexpr int kWidth = 600, kHeight = 400;  // coffee.png

QString coffee() {
    return golden_dir() + "/images/coffee.png";
}

// Triggers the menu action and answers its file dialog with `path`; true once the dialog took it.
bool through_menu(QWidget& window, const QString& action_text, const QString& path) {
    QAction* action = action_named(window, action_text);
    if (!action || !action->isEnabled()) {
        qWarning("no enabled action \"%s\"", qPrintable(action_text));
        return false;
    }
    const std::shared_ptr<bool> accepted = type_into_next_file_dialog(path);
    action->trigger();  // returns once the dialog has been answered
    // As a window manager does when a modal dialog closes: its parent is active again.
    QApplication::setActiveWindow(&window);
    return *accepted;
}

QImage read_png(const QString& path) {
    QImage image;
    image.load(path, "PNG");
    return image;
}

cv::Mat rgb_of(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat mat(rgb.height(), rgb.width(), CV_8UC3);
    for (int y = 0; y < rgb.height(); ++y) {
        std::memcpy(mat.ptr(y), rgb.constScanLine(y), size_t(rgb.width()) * 3);
    }
    return mat;
}

cv::Mat alpha_of(const QImage& image) {
    const QImage rgba = image.convertToFormat(QImage::Format_RGBA8888);
    cv::Mat alpha(rgba.height(), rgba.width(), CV_8UC1);
    for (int y = 0; y < rgba.height(); ++y) {
        const uchar* row = rgba.constScanLine(y);
        for (int x = 0; x < rgba.width(); ++x) alpha.at<uint8_t>(y, x) = row[4 * x + 3];
    }
    return alpha;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() &&
           cv::countNonZero(cv::Mat(a != b).reshape(1)) == 0;
}

bool wait_until(const std::function<bool()>& done, int timeout_ms = 30000) {
    QElapsedTimer timer;
    timer.start();
    while (!done() && timer.elapsed() < timeout_ms) QTest::qWait(10);
    return done();
}

// File ▸ Export / Import Annotations…: the (window-modal, not blocking) dialog once it shows, or
// null when the action is missing, disabled or nothing shows.
ps::ui::AnnotationExportDialog* open_annotation_dialog(QWidget& window) {
    QAction* action = action_named(window, "Export / Import Annotations…");
    if (!action || !action->isEnabled()) return nullptr;
    action->trigger();
    ps::ui::AnnotationExportDialog* dialog = nullptr;
    wait_until([&] {
        dialog = window.findChild<ps::ui::AnnotationExportDialog*>();
        return dialog && dialog->isVisible();
    });
    return dialog && dialog->isVisible() ? dialog : nullptr;
}

}  // namespace

class TestAppWorkflows : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void open_image_through_the_file_dialog();
    void sam_from_settings_click_candidate_accept_rename_undo_by_keyboard();
    void mask_cutout_overlay_and_object_masks_exported_through_the_menu();
    void background_removal_with_u2net_exports_rgba();
    void effect_from_the_strip_exports_png();
    void project_object_exports_to_coco_json();
    void labelme_file_imports_through_the_dialog();
    void cleanupTestCase();

  private:
    // The accepted object's mask at full size (one object on coffee.png after the SAM step).
    cv::Mat object_mask_full();

    QTemporaryDir tmp_;
    std::unique_ptr<ui::AppSettings> settings_;
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<ui::MainWindow> window_;
};

void TestAppWorkflows::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(tmp_.isValid());
    // What app/gui/main.cpp builds, with a settings file of the test's own and the CPU.
    settings_ = std::make_unique<ui::AppSettings>(tmp_.filePath("settings.ini"));
    engine_ = std::make_unique<engine::Engine>(cpu_settings());
    window_ = std::make_unique<ui::MainWindow>(*engine_, settings_.get());
    QVERIFY(activate(*window_));
}

void TestAppWorkflows::open_image_through_the_file_dialog() {
    ui::MainWindow& window = *window_;
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    QVERIFY2(through_menu(window, "Open Image…", coffee()), "no file dialog to type into");
    QVERIFY(opened.count() == 1 || opened.wait(30000));
    QVERIFY(wait_idle(window));
    QCOMPARE(QFileInfo(window.current_path()).canonicalFilePath(),
             QFileInfo(coffee()).canonicalFilePath());
    QVERIFY(window.current_image_id() != 0);
    QCOMPARE(engine_->full_image(window.current_image_id()).size(), cv::Size(kWidth, kHeight));
}

void TestAppWorkflows::sam_from_settings_click_candidate_accept_rename_undo_by_keyboard() {
    ui::MainWindow& window = *window_;
    // Models ▸ Settings…: the checkpoint typed into its field, then OK.
    const QString sam_path = golden_dir() + "/sam_vit_tiny.pth";
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    QVERIFY(type_sam_checkpoint_in_settings(window, sam_path));
    QCOMPARE(QFileInfo(settings_->sam_checkpoint()).canonicalFilePath(),
             QFileInfo(sam_path).canonicalFilePath());
    QVERIFY(ready.count() > 0 || ready.wait(60000));
    QVERIFY(wait_idle(window));
    QVERIFY(!window.model_id().empty());

    QVERIFY(click_image(window, 300, 200));
    QVERIFY2(window.status_text().contains("sam_vit_tiny"), qPrintable(window.status_text()));
    // The click gave the canvas the keyboard focus: keys go where the user's would.
    QWidget* focus = QApplication::focusWidget();
    QVERIFY(focus == window.canvas() || window.canvas()->isAncestorOf(focus));
    const sam::SamMaskSet* set = window.document().current_candidates();
    QVERIFY(set && set->masks.size() == 3);
    const cv::Mat second = set->masks[1].clone();
    press(Qt::Key_2);
    QCOMPARE(window.document().current_candidate_index(), 1);
    QVERIFY(same(window.document().current_mask(), second));
    press(Qt::Key_Return);
    QCOMPARE(int(window.document().objects().size()), 1);
    QVERIFY(same(window.document().objects().front().mask, second));
    QVERIFY(cv::countNonZero(second) > 0);
    QVERIFY(window.document().current_mask().empty());

    // Rename through the Objects list's own editor: F2, type, Return.
    QListWidget* list = window.objects_dock()->list();
    QCOMPARE(list->count(), 1);
    list->setFocus();
    list->setCurrentRow(0);
    QTest::keyClick(list, Qt::Key_F2);
    auto* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
    QVERIFY2(editor, "F2 opened no editor");
    editor->selectAll();
    QTest::keyClicks(editor, "cup");
    QTest::keyClick(editor, Qt::Key_Return);
    QTRY_COMPARE(window.document().objects().front().name, QString("cup"));
    QCOMPARE(list->item(0)->text(), QString("cup"));

    // Undo and redo by keyboard on the focused canvas: the rename is one step.
    const int after_rename = window.undo_stack().index();
    window.canvas()->setFocus(Qt::MouseFocusReason);
    QTRY_VERIFY(window.canvas()->hasFocus());
    press(Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(window.document().objects().front().name, QString("Object 1"));
    QCOMPARE(window.undo_stack().index(), after_rename - 1);
    QVERIFY(window.undo_stack().canRedo());
    press(Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(window.document().objects().front().name, QString("cup"));
    QCOMPARE(window.undo_stack().index(), after_rename);
    press(Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(window.document().objects().front().name, QString("Object 1"));
    press(Qt::Key_Y, Qt::ControlModifier);
    QCOMPARE(window.document().objects().front().name, QString("cup"));
    QVERIFY(!window.undo_stack().canRedo());
    QCOMPARE(int(window.document().objects().size()), 1);  // undo took the name, not the object
    QCOMPARE(list->item(0)->text(), QString("cup"));
}

cv::Mat TestAppWorkflows::object_mask_full() {
    const auto& objects = window_->document().objects();
    if (objects.size() != 1) return {};
    return image::upscale_mask(objects.front().mask, cv::Size(kWidth, kHeight));
}

void TestAppWorkflows::mask_cutout_overlay_and_object_masks_exported_through_the_menu() {
    ui::MainWindow& window = *window_;
    const cv::Mat object = object_mask_full();
    QVERIFY2(!object.empty(), "the SAM step left no single object");
    QVERIFY(cv::countNonZero(object) > 0);
    QVERIFY(window.has_unsaved_objects());  // accepted, not yet exported
    const QString out = tmp_.filePath("exports");
    QVERIFY(QDir().mkpath(out));

    // The mask: 0/255 at the image's size, the window's object mask.
    QVERIFY(through_menu(window, "Export Mask…", out + "/mask.png"));
    const QImage mask_png = read_png(out + "/mask.png");
    QCOMPARE(mask_png.size(), QSize(kWidth, kHeight));
    const cv::Mat mask = read_grey_png(out + "/mask.png");
    QCOMPARE(cv::countNonZero(mask == 0) + cv::countNonZero(mask == 255), kWidth * kHeight);
    QVERIFY(same(mask, object));

    // The cut-out: RGBA, alpha the mask, colour the image's.
    QVERIFY(through_menu(window, "Export Cut-out…", out + "/cutout.png"));
    const QImage cutout = read_png(out + "/cutout.png");
    QCOMPARE(cutout.size(), QSize(kWidth, kHeight));
    QVERIFY(cutout.hasAlphaChannel());
    QVERIFY(same(alpha_of(cutout), object));
    const cv::Mat original = rgb_of(read_png(coffee()));
    QVERIFY(same(rgb_of(cutout), original));

    // The overlay: RGB; as image::overlay documents it, the object's colour at half opacity
    // inside, in full on the 3x3 morphological gradient of its edge, the image elsewhere.
    QVERIFY(through_menu(window, "Export Overlay…", out + "/overlay.png"));
    const QImage overlay_png = read_png(out + "/overlay.png");
    QCOMPARE(overlay_png.size(), QSize(kWidth, kHeight));
    QVERIFY(!overlay_png.hasAlphaChannel());
    const cv::Mat overlay = rgb_of(overlay_png);
    cv::Mat edge;
    cv::morphologyEx(object, edge, cv::MORPH_GRADIENT, cv::Mat::ones(3, 3, CV_8U));
    const QColor colour = window.document().objects().front().colour;
    const cv::Vec3b full_colour(colour.red(), colour.green(), colour.blue());
    int wrong_edge = 0, wrong_inside = 0, wrong_outside = 0, blended = 0;
    for (int y = 0; y < kHeight; ++y) {
        for (int x = 0; x < kWidth; ++x) {
            const cv::Vec3b& o = original.at<cv::Vec3b>(y, x);
            const cv::Vec3b& v = overlay.at<cv::Vec3b>(y, x);
            if (edge.at<uint8_t>(y, x)) {
                wrong_edge += v != full_colour;
            } else if (object.at<uint8_t>(y, x)) {
                ++blended;
                for (int c = 0; c < 3; ++c) {
                    wrong_inside += std::abs(v[c] - (o[c] + full_colour[c]) / 2.0) > 1;
                }
            } else {
                wrong_outside += v != o;
            }
        }
    }
    QVERIFY(cv::countNonZero(edge) > 0);
    QCOMPARE(wrong_edge, 0);
    QCOMPARE(wrong_inside, 0);
    QCOMPARE(wrong_outside, 0);
    qInfo("overlay: %d edge pixels, %d blended inside", cv::countNonZero(edge), blended);

    // Every object mask into a folder chosen in the folder dialog.
    const QString objects_dir = tmp_.filePath("objects");
    QVERIFY(QDir().mkpath(objects_dir));
    QVERIFY(through_menu(window, "Export All Object Masks…", objects_dir));
    const QString object_file = QString("%1/coffee_object%2.png")
                                    .arg(objects_dir)
                                    .arg(window.document().objects().front().id);
    QVERIFY2(QFileInfo::exists(object_file), qPrintable(QDir(objects_dir).entryList().join(", ")));
    QCOMPARE(QDir(objects_dir).entryList(QDir::Files).size(), 1);
    QVERIFY(same(read_grey_png(object_file), object));
    QVERIFY(!window.has_unsaved_objects());  // exported: quitting loses nothing
    QCOMPARE(window.status_text(), QString("Exported"));
}

void TestAppWorkflows::background_removal_with_u2net_exports_rgba() {
    ui::MainWindow& window = *window_;
    ui::BackgroundPanel* panel = window.background_panel();
    panel->show();
    panel->raise();
    QSignalSpy model(panel, &ui::BackgroundPanel::model_ready);
    panel->set_matting_checkpoint(golden_dir() + "/u2netp.pth");
    QVERIFY(model.wait(60000));

    // The source chosen with the keyboard in the panel's combo box, as a user would.
    auto* source = panel->findChild<QComboBox*>("matte_source");
    QVERIFY(source);
    // Listed as "U²-NetP · u2netp.pth · 4.5 MB" once loaded; the item's data is the file.
    const int u2net =
        source->findData("model:" + QFileInfo(golden_dir() + "/u2netp.pth").absoluteFilePath());
    QVERIFY2(source->itemText(u2net).startsWith("U²-NetP · u2netp.pth"),
             qPrintable(source->itemText(u2net)));
    // From GrabCut, with the keyboard, as a user would.
    panel->set_source("grabcut");
    QVERIFY(u2net >= 0);
    source->setFocus();
    QTRY_VERIFY(source->hasFocus());
    for (int step = 0; step < source->count() && source->currentIndex() != u2net; ++step) {
        press(source->currentIndex() < u2net ? Qt::Key_Down : Qt::Key_Up);
    }
    QCOMPARE(panel->source(), QString("model"));
    QSignalSpy matte(panel, &ui::BackgroundPanel::matte_ready);
    QVERIFY(matte.count() > 0 || matte.wait(60000));

    QSignalSpy exported(panel, &ui::BackgroundPanel::export_finished);
    const QString path = tmp_.filePath("exports/coffee_nobg.png");
    QVERIFY(through_menu(window, "Export Background Removal…", path));
    QVERIFY(exported.count() > 0 || exported.wait(60000));
    QCOMPARE(exported.first().first().toString(), QString());
    const QImage written = read_png(path);
    QCOMPARE(written.size(), QSize(kWidth, kHeight));
    QVERIFY(written.hasAlphaChannel());  // "Transparent", the default background
    const cv::Mat alpha = alpha_of(written);
    double lowest = 0, highest = 0;
    cv::minMaxLoc(alpha, &lowest, &highest);
    QVERIFY2(lowest < highest, "the alpha is flat: no matte reached the file");
    // The U²-Net matte the panel shows is the one written (the display copy is the full image
    // here: coffee.png is smaller than the display size).
    const cv::Mat shown = panel->display_matte();
    QCOMPARE(shown.size(), cv::Size(kWidth, kHeight));
    cv::Mat difference;
    cv::absdiff(alpha, shown, difference);
    double largest = 0;
    cv::minMaxLoc(difference, nullptr, &largest);
    QVERIFY2(largest <= 1, qPrintable(QString("alpha differs by %1 from the matte").arg(largest)));
}

void TestAppWorkflows::effect_from_the_strip_exports_png() {
    ui::MainWindow& window = *window_;
    ui::EffectsPanel* panel = window.effects_panel();
    panel->show();
    panel->raise();
    auto* strip = panel->findChild<QListWidget*>("effect_strip");
    QVERIFY(strip);
    QListWidgetItem* halftone = nullptr;
    for (int row = 0; row < strip->count(); ++row) {
        if (strip->item(row)->data(Qt::UserRole).toString() == "halftone")
            halftone = strip->item(row);
    }
    QVERIFY(halftone);
    QTRY_VERIFY(strip->isVisible());
    strip->scrollToItem(halftone);
    QApplication::processEvents();
    QSignalSpy previewed(panel, &ui::EffectsPanel::preview_ready);
    QTest::mouseClick(strip->viewport(), Qt::LeftButton, {},
                      strip->visualItemRect(halftone).center());
    QCOMPARE(panel->effect(), QString("halftone"));
    QVERIFY(panel->shows_on_canvas());  // the click is the user's choice
    QTRY_VERIFY(window.canvas()->comparing());
    QVERIFY(previewed.count() > 0 || previewed.wait(60000));

    QSignalSpy exported(panel, &ui::EffectsPanel::export_finished);
    const QString path = tmp_.filePath("exports/coffee_effect.png");
    QVERIFY(through_menu(window, "Export Effect…", path));
    QVERIFY(exported.count() > 0 || exported.wait(60000));
    QCOMPARE(exported.first().first().toString(), QString());
    const QImage written = read_png(path);
    QCOMPARE(written.size(), QSize(kWidth, kHeight));
    QVERIFY(!same(rgb_of(written), rgb_of(read_png(coffee()))));  // restyled
}

void TestAppWorkflows::project_object_exports_to_coco_json() {
    ui::MainWindow& window = *window_;
    const QString project = tmp_.filePath("project");
    QVERIFY(QDir().mkpath(project));
    QVERIFY(QFile::copy(coffee(), project + "/coffee.png"));
    QSignalSpy project_opened(window.annotation(), &ui::AnnotationController::project_opened);
    QSignalSpy image_opened(&window, &ui::MainWindow::image_opened);
    window.annotation()->open_project(project);
    QVERIFY(project_opened.wait(30000));
    QVERIFY(image_opened.count() > 0 || image_opened.wait(30000));
    QVERIFY(wait_idle(window));
    QCOMPARE(QFileInfo(window.current_path()).fileName(), QString("coffee.png"));
    QVERIFY(window.document().objects().empty());

    // Left of the before / after line the effect step put across the middle of the canvas.
    QVERIFY(click_image(window, 150, 220));
    press(Qt::Key_Return);
    QCOMPARE(int(window.document().objects().size()), 1);
    annotating::AnnotationSession& session = window.annotation()->session();
    QVERIFY(wait_until([&] { return !session.saving(); }));
    QCOMPARE(int(session.current_annotation().objects.size()), 1);  // saved at once
    QVERIFY(!window.has_unsaved_objects());

    // File ▸ Export / Import Annotations… opens the (window-modal, not blocking) dialog.
    ui::AnnotationExportDialog* dialog = open_annotation_dialog(window);
    QVERIFY(dialog);
    auto* format = dialog->findChild<QComboBox*>("export_format");
    QVERIFY(format);
    const int coco = format->findData("coco");
    QVERIFY(coco >= 0);
    format->setFocus();
    QTRY_VERIFY(format->hasFocus());
    for (int step = 0; step < format->count() && format->currentIndex() != coco; ++step) {
        press(format->currentIndex() < coco ? Qt::Key_Down : Qt::Key_Up);
    }
    QCOMPARE(format->currentData().toString(), QString("coco"));
    const QString out = tmp_.filePath("coco");
    auto* folder = dialog->findChild<QLineEdit*>("export_dir");
    QVERIFY(folder);
    folder->setFocus();
    folder->selectAll();
    QTest::keyClicks(folder, out);
    QCOMPARE(folder->text(), out);
    QSignalSpy exported(dialog, &ui::AnnotationExportDialog::export_finished);
    QTest::mouseClick(dialog->findChild<QPushButton*>("export_button"), Qt::LeftButton);
    QVERIFY(exported.count() > 0 || exported.wait(30000));
    QVERIFY2(exported.first().first().toBool(), qPrintable(exported.first().last().toString()));
    dialog->close();

    QFile file(out + "/annotations.json");
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    QJsonParseError error;
    const QJsonDocument json = QJsonDocument::fromJson(file.readAll(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    const QJsonArray images = json["images"].toArray();
    QCOMPARE(images.size(), 1);
    QCOMPARE(images[0]["file_name"].toString(), QString("coffee.png"));
    QCOMPARE(images[0]["width"].toInt(), kWidth);
    QCOMPARE(images[0]["height"].toInt(), kHeight);
    const QJsonArray annotations = json["annotations"].toArray();
    QCOMPARE(annotations.size(), 1);
    QCOMPARE(annotations[0]["image_id"].toInt(), images[0]["id"].toInt());
    // Its RLE is the object's mask as the window holds it.
    const QJsonObject rle_json = annotations[0]["segmentation"].toObject();
    const QJsonArray rle_size = rle_json["size"].toArray();
    auto rle =
        annotation::rle_from_string(rle_json["counts"].toString().toStdString(),
                                    rle_size[0].toInt(), rle_size[1].toInt(), "annotations.json");
    QVERIFY2(rle.ok(), rle.ok() ? "" : rle.message().c_str());
    const cv::Mat exported_mask = annotation::rle_decode(*rle);
    QVERIFY(same(exported_mask, image::upscale_mask(window.document().objects().front().mask,
                                                    cv::Size(kWidth, kHeight))));
    QCOMPARE(annotations[0]["area"].toDouble(), double(cv::countNonZero(exported_mask)));
}

// Another tool's work comes in through the same dialog's Import tab: a LabelMe file with one
// rectangle (as labelme writes it) and one shape the importer cannot use. The window shows the
// imported object beside the one already there, the unusable shape is listed, and the project
// files hold both objects.
void TestAppWorkflows::labelme_file_imports_through_the_dialog() {
    ui::MainWindow& window = *window_;
    QCOMPARE(int(window.document().objects().size()), 1);  // the export step's object
    const QString labelme = tmp_.filePath("from_labelme.json");
    {
        QFile file(labelme);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"version": "5.2.1", "flags": {}, "shapes": [
            {"label": "saucer", "points": [[420, 260], [560, 330]], "group_id": null,
             "description": "", "shape_type": "rectangle", "flags": {}},
            {"label": "bad", "points": [[10, 10]], "group_id": null,
             "description": "", "shape_type": "polygon", "flags": {}}],
            "imagePath": "coffee.png", "imageData": null,
            "imageHeight": 400, "imageWidth": 600})");
    }
    ui::AnnotationExportDialog* dialog = open_annotation_dialog(window);
    QVERIFY(dialog);
    auto* tabs = dialog->findChild<QTabWidget*>();
    QVERIFY(tabs);
    QTabBar* bar = tabs->tabBar();
    QTest::mouseClick(bar, Qt::LeftButton, {}, bar->tabRect(1).center());
    QCOMPARE(tabs->tabText(tabs->currentIndex()), QString("Import"));
    auto* format = dialog->findChild<QComboBox*>("import_format");
    QVERIFY(format);
    format->setFocus();
    QTRY_VERIFY(format->hasFocus());
    const int labelme_index = format->findData("labelme");
    for (int step = 0; step < format->count() && format->currentIndex() != labelme_index; ++step)
        press(format->currentIndex() < labelme_index ? Qt::Key_Down : Qt::Key_Up);
    QCOMPARE(format->currentData().toString(), QString("labelme"));
    auto* from = dialog->findChild<QLineEdit*>("import_path");
    QVERIFY(from);
    from->setFocus();
    from->selectAll();
    QTest::keyClicks(from, labelme);
    QSignalSpy imported(dialog, &ui::AnnotationExportDialog::import_finished);
    QSignalSpy reopened(&window, &ui::MainWindow::image_opened);
    QTest::mouseClick(dialog->findChild<QPushButton*>("import_button"), Qt::LeftButton);
    QVERIFY(imported.count() > 0 || imported.wait(30000));
    const QString message = imported.first().last().toString();
    QVERIFY2(imported.first().first().toBool(), qPrintable(message));
    QVERIFY2(message.contains("Imported 1 objects into 1 images"), qPrintable(message));
    // The unusable shape is listed, by file and shape number.
    QVERIFY2(message.contains("Skipped:") && message.contains("from_labelme.json: shape 2: a "
                                                              "polygon needs 3 points or more"),
             qPrintable(message));
    dialog->close();

    // The window re-reads the image's annotation: the object it had, and the imported one.
    QVERIFY(reopened.count() > 0 || reopened.wait(30000));
    QVERIFY(wait_idle(window));
    const auto& objects = window.document().objects();
    QCOMPARE(int(objects.size()), 2);
    const auto saucer = std::find_if(objects.begin(), objects.end(),
                                     [](const auto& o) { return o.name == "saucer"; });
    QVERIFY(saucer != objects.end());
    // labelme's rectangle: both corners inclusive, 141 x 71 pixels at full resolution.
    const cv::Mat mask = image::upscale_mask(saucer->mask, cv::Size(kWidth, kHeight));
    QCOMPARE(cv::countNonZero(mask), 141 * 71);
    QCOMPARE(cv::countNonZero(mask(cv::Rect(420, 260, 141, 71))), 141 * 71);
    annotating::AnnotationSession& session = window.annotation()->session();
    QCOMPARE(int(session.current_annotation().objects.size()), 2);
}

void TestAppWorkflows::cleanupTestCase() {
    if (!window_) return;
    bool asked = false;
    if (window_->has_unsaved_objects()) {
        when_modal<QMessageBox>([&asked](QMessageBox* box) {
            asked = box->objectName() == "discard_objects";
            box->button(QMessageBox::Discard)->click();
        });
    }
    window_->close();
    QVERIFY(!window_->isVisible());
    if (asked) qInfo("answered Discard to the quit question");
    window_.reset();
    engine_.reset();
}

QTEST_MAIN(TestAppWorkflows)
#include "test_app_workflows.moc"
