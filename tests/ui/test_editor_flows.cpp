// The editor as a user drives it, offscreen: rename through the list's own editor, keys sent to
// the focused widget, exports after accepting, shortcuts, window size and layout, the error
// banner, and the panels' results on the canvas. Each case reproduces a reported failure.
#include "io/checkpoint.h"  // ATen before Qt (Qt's `slots` macro breaks ATen's headers)

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFile>
#include <QImageWriter>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolButton>

#include <map>

#include "app_settings.h"
#include "background_panel.h"
#include "candidate_strip.h"
#include "chart_legend.h"
#include "effects_panel.h"
#include "golden_dir.h"
#include "message_banner.h"
#include "objects_dock.h"
#include "sam_golden.h"
#include "settings_dialog.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

QString coffee() {
    return golden_dir() + "/images/coffee.png";
}

// Opens the list's own editor on the object's row with F2, as a user does.
QLineEdit* start_rename(ui::MainWindow& window, int row) {
    QListWidget* list = window.objects_dock()->list();
    list->setFocus();
    list->setCurrentRow(row);
    QTest::keyClick(list, Qt::Key_F2);
    return qobject_cast<QLineEdit*>(QApplication::focusWidget());
}

// The image open, one object accepted with Enter and a prompt pending, as most cases start.
bool accepted_object_and_a_pending_prompt(ui::MainWindow& window) {
    if (!activate(window) || !open_and_wait(window, coffee()) || !click_image(window, 300, 200))
        return false;
    press(Qt::Key_Return);  // accept, from the canvas
    return window.document().objects().size() == 1 && click_image(window, 100, 100);
}

}  // namespace

class TestEditorFlows : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void rename_commits_with_enter_tab_and_click_away();
    void escape_in_the_editor_cancels_only_the_edit();
    void enter_in_an_effect_parameter_stays_there();
    void export_after_accept_uses_the_object();
    void redo_by_keyboard();
    void no_two_actions_share_a_shortcut();
    void window_fits_small_screens_and_restores_its_layout();
    void docks_reopen_from_the_view_menu();
    void download_dialog_lists_the_official_weights();
    void errors_stay_in_a_banner_until_dismissed();
    void a_model_that_fails_falls_back_to_grabcut_by_name();
    void settings_refuse_a_typed_non_checkpoint();
    void a_background_model_chosen_in_settings_is_loaded();
    void quitting_with_unsaved_objects_asks();
    void candidate_strip_keeps_its_height();
    void background_result_on_the_canvas_with_a_split();
    void no_mask_is_said_not_silently_ignored();
    void effects_speak_human_and_keep_one_row();
    void chart_axes_and_legends_read_well();
    void webp_and_tiff_open_in_the_app();
};

void TestEditorFlows::rename_commits_with_enter_tab_and_click_away() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    // GrabCut answers (no model set). With a prompt pending, an Enter taken by the window would
    // accept a second object.
    QVERIFY(accepted_object_and_a_pending_prompt(window));

    // Enter commits the rename (it used to be the Accept Object shortcut, then a crash).
    QLineEdit* editor = start_rename(window, 0);
    QVERIFY2(editor, "F2 opened no editor");
    editor->selectAll();
    QTest::keyClicks(editor, "cup");
    QTest::keyClick(editor, Qt::Key_Return);
    QTRY_COMPARE(window.document().objects().front().name, QString("cup"));
    QCOMPARE(int(window.document().objects().size()), 1);
    QCOMPARE(window.objects_dock()->list()->item(0)->text(), QString("cup"));
    QCOMPARE(int(window.document().prompts().points.size()), 1);

    // Tab commits too.
    editor = start_rename(window, 0);
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, "mug");
    QTest::keyClick(editor, Qt::Key_Tab);
    QTRY_COMPARE(window.document().objects().front().name, QString("mug"));

    // And clicking away (the editor loses the focus to the canvas).
    editor = start_rename(window, 0);
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, "saucer");
    window.canvas()->setFocus(Qt::MouseFocusReason);
    QTRY_COMPARE(window.document().objects().front().name, QString("saucer"));
    QCOMPARE(window.objects_dock()->list()->count(), 1);

    // Each rename is one undo step, by keyboard from the canvas.
    window.canvas()->setFocus();
    press(Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(window.document().objects().front().name, QString("mug"));
}

void TestEditorFlows::escape_in_the_editor_cancels_only_the_edit() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(accepted_object_and_a_pending_prompt(window));
    QLineEdit* editor = start_rename(window, 0);
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, "zzz");
    QTest::keyClick(editor, Qt::Key_Escape);
    QTest::qWait(50);
    QCOMPARE(window.document().objects().front().name, QString("Object 1"));
    // Escape is also Clear Prompts: it must not have reached the window.
    QCOMPARE(int(window.document().prompts().points.size()), 1);
}

void TestEditorFlows::enter_in_an_effect_parameter_stays_there() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(click_image(window, 300, 200));
    window.effects_panel()->show();
    window.effects_panel()->raise();
    window.effects_panel()->choose_effect("halftone");
    auto* cell = window.effects_panel()->findChild<QSpinBox*>("param_cell");
    QVERIFY(cell);
    cell->setFocus();
    QTRY_VERIFY(cell->hasFocus());
    cell->selectAll();
    QTest::keyClicks(QApplication::focusWidget(), "12");
    press(Qt::Key_Return);
    QCOMPARE(cell->value(), 12);
    QVERIFY(window.document().objects().empty());  // not accepted by the window's Enter
    QVERIFY(!window.status_text().contains("Nothing to accept"));
    press(Qt::Key_Escape);
    QCOMPARE(int(window.document().prompts().points.size()), 1);  // nor cleared by its Escape
}

void TestEditorFlows::export_after_accept_uses_the_object() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(click_image(window, 300, 200));
    const cv::Mat before = window.document().current_mask().clone();
    press(Qt::Key_Return);
    QVERIFY(window.document().current_mask().empty());
    QTemporaryDir dir;
    // Nothing selected: the accepted object is what there is to export.
    QCOMPARE(window.export_current_mask(dir.filePath("mask.png")), QString());
    cv::Mat written = read_grey_png(dir.filePath("mask.png"));
    QCOMPARE(cv::countNonZero(written != before), 0);
    QCOMPARE(window.export_cutout(dir.filePath("cutout.png")), QString());
    QVERIFY(QFileInfo(dir.filePath("cutout.png")).size() > 0);
    // With the object selected in the list, too.
    window.objects_dock()->select_object(window.document().objects().front().id);
    QCOMPARE(window.export_current_mask(dir.filePath("selected.png")), QString());
    written = read_grey_png(dir.filePath("selected.png"));
    QCOMPARE(cv::countNonZero(written != before), 0);
}

void TestEditorFlows::redo_by_keyboard() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(click_image(window, 300, 200));
    window.canvas()->setFocus();
    press(Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(int(window.document().prompts().points.size()), 0);
    press(Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(int(window.document().prompts().points.size()), 1);
    press(Qt::Key_Z, Qt::ControlModifier);
    press(Qt::Key_Y, Qt::ControlModifier);
    QCOMPARE(int(window.document().prompts().points.size()), 1);
}

void TestEditorFlows::no_two_actions_share_a_shortcut() {
    engine::Engine engine(cpu_settings());
    QTemporaryDir dir;
    ui::AppSettings settings(dir.filePath("settings.ini"));
    ui::MainWindow window(engine, &settings);
    // Every key of every action, as Qt will match them (an action listing a key twice is an
    // ambiguous shortcut too: Qt then triggers nothing).
    std::map<QString, QStringList> owners;
    int keys = 0;
    for (QAction* action : window.findChildren<QAction*>()) {
        for (const QKeySequence& key : action->shortcuts()) {
            if (key.isEmpty()) continue;
            owners[key.toString(QKeySequence::PortableText)] << action->text();
            ++keys;
        }
    }
    QVERIFY2(keys > 25, "too few shortcuts found: the enumeration is broken");
    QStringList conflicts;
    for (const auto& [key, actions] : owners) {
        if (actions.size() > 1) conflicts << key + ": " + actions.join(", ");
    }
    QVERIFY2(conflicts.isEmpty(), qPrintable(conflicts.join("; ")));
    // The usual alternatives are bound.
    QVERIFY(owners.count("Ctrl+Y") && owners.count("Ctrl+Shift+Z") && owners.count("Ctrl+Z"));
}

void TestEditorFlows::window_fits_small_screens_and_restores_its_layout() {
    QTemporaryDir dir;
    ui::AppSettings settings(dir.filePath("settings.ini"));
    engine::Engine engine(cpu_settings());
    {
        ui::MainWindow window(engine, &settings);
        QVERIFY(activate(window));
        // The first start fits the screen (the offscreen one is 800×600).
        const QRect available = window.screen()->availableGeometry();
        QTRY_VERIFY(available.contains(window.frameGeometry()));
        // 1366×768 at scale 1, and 1920×1080 at scale 1.5 (1280×720 logical), less the title bar
        // and a panel: every default dock stays open.
        const QSize least = window.minimumSizeHint().expandedTo(window.minimumSize());
        QVERIFY2(least.width() <= 1280 && least.height() <= 660,
                 qPrintable(QString("minimum %1×%2").arg(least.width()).arg(least.height())));
        window.resize(1280, 660);
        QTRY_COMPARE(window.size(), QSize(1280, 660));
        QVERIFY(window.statusBar()->isVisible());
        QVERIFY(window.statusBar()->geometry().bottom() < window.height());
        window.resize(700, 500);
        QTRY_COMPARE(window.size(), QSize(700, 500));
        window.objects_dock()->close();
        window.close();
    }
    {
        ui::MainWindow again(engine, &settings);
        QVERIFY(activate(again));
        QTest::qWait(50);
        QCOMPARE(again.size(), QSize(700, 500));
        QVERIFY(!again.objects_dock()->isVisible());  // the dock layout came back too
        again.showMaximized();
        QTRY_VERIFY(again.isMaximized());
        again.close();
    }
    ui::MainWindow maximised(engine, &settings);
    QVERIFY(activate(maximised));
    QVERIFY(maximised.isMaximized());
}

void TestEditorFlows::docks_reopen_from_the_view_menu() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QMenu* view = nullptr;
    for (QAction* menu : window.menuBar()->actions()) {
        if (menu->text() == "&View") view = menu->menu();
    }
    QVERIFY(view);
    for (QDockWidget* dock : window.findChildren<QDockWidget*>()) {
        if (!dock->isVisible()) continue;
        dock->close();
        QVERIFY(!dock->isVisible());
        QAction* toggle = nullptr;
        for (QAction* action : view->actions()) {
            if (action == dock->toggleViewAction()) toggle = action;
        }
        QVERIFY2(toggle, qPrintable(dock->windowTitle() + " is not in the View menu"));
        toggle->trigger();
        QVERIFY(dock->isVisible());
    }
}

void TestEditorFlows::download_dialog_lists_the_official_weights() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    int rows = -1;
    QString status;
    when_modal<QDialog>([&](QDialog* dialog) {
        if (auto* table = dialog->findChild<QTableWidget*>()) rows = table->rowCount();
        if (auto* label = dialog->findChild<QLabel*>("download_status")) status = label->text();
        dialog->reject();
    });
    QAction* download = action_named(window, "Download Official Weights…");
    QVERIFY(download);
    download->trigger();  // exec() returns once the answer above has closed it
    QVERIFY2(rows > 0, qPrintable("no rows; status: " + status));
}

void TestEditorFlows::errors_stay_in_a_banner_until_dismissed() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(!window.banner()->isVisible());
    QTemporaryDir dir;
    QFile bad(dir.filePath("broken.png"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("\x89PNG\r\n\x1a\nnot really");
    bad.close();
    QSignalSpy failed(&window, &ui::MainWindow::image_failed);
    window.open_image(bad.fileName());
    QVERIFY(failed.wait(30000));
    QVERIFY(window.banner()->isVisible());
    QVERIFY(window.banner_text().contains("broken.png"));
    // Progress overwrites the status bar, never the banner.
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(!window.status_text().contains("broken.png"));
    QVERIFY(window.banner_text().contains("broken.png"));
    QTest::mouseClick(window.banner()->findChild<QToolButton*>("message_banner_close"),
                      Qt::LeftButton);
    QVERIFY(!window.banner()->isVisible());
    // An export with nothing to export says so before any file dialog opens.
    QAction* export_mask = action_named(window, "Export Mask…");
    QVERIFY(export_mask);
    export_mask->trigger();
    QVERIFY(QApplication::activeModalWidget() == nullptr);
    QVERIFY(window.banner_text().contains("Nothing to export"));
}

void TestEditorFlows::a_model_that_fails_falls_back_to_grabcut_by_name() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QTemporaryDir dir;
    QFile bad(dir.filePath("bad.pth"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not a checkpoint");
    bad.close();
    window.set_sam_model(bad.fileName());
    QVERIFY(wait_idle(window));
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY2(window.banner_text().contains("bad.pth"), qPrintable(window.banner_text()));
    window.set_sam_model(bad.fileName());  // twice, as with two bad settings
    QVERIFY(wait_idle(window));
    QVERIFY(click_image(window, 300, 200));
    QVERIFY2(window.status_text().startsWith("GrabCut"), qPrintable(window.status_text()));
    QVERIFY(window.findChild<QLabel*>("engine_label")->text().contains("bad.pth failed to load"));
}

void TestEditorFlows::settings_refuse_a_typed_non_checkpoint() {
    QTemporaryDir dir;
    ui::AppSettings settings(dir.filePath("settings.ini"));
    QFile text(dir.filePath("notes.pth"));
    QVERIFY(text.open(QIODevice::WriteOnly));
    text.write("not a checkpoint");
    text.close();
    ui::SettingsDialog dialog(settings);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto* sam = dialog.findChild<QLineEdit*>("samPathEdit");
    sam->clear();
    QTest::keyClicks(sam, text.fileName());
    QTest::mouseClick(
        dialog.findChild<QDialogButtonBox*>("buttonBox")->button(QDialogButtonBox::Ok),
        Qt::LeftButton);
    auto* error = dialog.findChild<QLabel*>("errorLabel");
    QTRY_VERIFY(error->text().contains("not a Segment Anything"));
    QVERIFY(dialog.isVisible());
    QCOMPARE(ui::AppSettings(dir.filePath("settings.ini")).sam_checkpoint(), QString());

    // Two good checkpoints typed outside the model folders: inspected in one scan, then stored.
    sam->clear();
    QTest::keyClicks(sam, golden_dir() + "/sam_vit_tiny.pth");
    auto* background = dialog.findChild<QLineEdit*>("backgroundPathEdit");
    background->clear();
    QTest::keyClicks(background, golden_dir() + "/u2netp.pth");
    QTest::mouseClick(
        dialog.findChild<QDialogButtonBox*>("buttonBox")->button(QDialogButtonBox::Ok),
        Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.isVisible(), 20000);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    const ui::AppSettings stored(dir.filePath("settings.ini"));
    QVERIFY(stored.sam_checkpoint().endsWith("sam_vit_tiny.pth"));
    QVERIFY(stored.background_checkpoint().endsWith("u2netp.pth"));
}

void TestEditorFlows::a_background_model_chosen_in_settings_is_loaded() {
    QTemporaryDir dir;
    ui::AppSettings settings(dir.filePath("settings.ini"));
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine, &settings);
    QVERIFY(activate(window));
    QSignalSpy loaded(window.background_panel(), &ui::BackgroundPanel::model_ready);
    when_modal<ui::SettingsDialog>([](ui::SettingsDialog* dialog) {
        auto* background = dialog->findChild<QLineEdit*>("backgroundPathEdit");
        background->clear();
        QTest::keyClicks(background, golden_dir() + "/u2netp.pth");
        QTest::mouseClick(
            dialog->findChild<QDialogButtonBox*>("buttonBox")->button(QDialogButtonBox::Ok),
            Qt::LeftButton);
    });
    QAction* open_settings = action_named(window, "Settings…");
    QVERIFY(open_settings);
    open_settings->trigger();  // returns once the dialog has accepted
    QVERIFY(loaded.count() == 1 || loaded.wait(30000));
    QCOMPARE(window.background_panel()->source(), QString("model"));
}

void TestEditorFlows::quitting_with_unsaved_objects_asks() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(click_image(window, 300, 200));
    press(Qt::Key_Return);
    QVERIFY(window.has_unsaved_objects());
    QString asked;
    when_modal<QMessageBox>([&](QMessageBox* box) {
        asked = box->text();
        box->button(QMessageBox::Cancel)->click();
    });
    window.close();
    QVERIFY(asked.contains("not saved"));
    QVERIFY(window.isVisible());  // Cancel keeps the work
    // One mask exported is not every object saved.
    QTemporaryDir one;
    QCOMPARE(window.export_current_mask(one.filePath("mask.png")), QString());
    QVERIFY(window.has_unsaved_objects());
    // After an export there is nothing to lose: no question.
    QTemporaryDir dir;
    QCOMPARE(window.export_object_masks(dir.path()), QString());
    QVERIFY(!window.has_unsaved_objects());
    window.close();
    QVERIFY(!window.isVisible());
}

void TestEditorFlows::candidate_strip_keeps_its_height() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    window.set_sam_model(golden_dir() + "/sam_vit_tiny.pth");
    QVERIFY(ready.wait(30000));
    QVERIFY(open_and_wait(window, coffee()));
    const QRect canvas_before = window.canvas()->geometry();
    const int strip_before = window.candidates()->height();
    QVERIFY(click_image(window, 300, 200));
    QVERIFY(window.candidates()->button(2)->isEnabled());
    QApplication::processEvents();
    QCOMPARE(window.candidates()->height(), strip_before);
    QCOMPARE(window.canvas()->geometry(), canvas_before);  // the image did not jump
}

void TestEditorFlows::background_result_on_the_canvas_with_a_split() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    ui::BackgroundPanel* panel = window.background_panel();
    panel->show();
    panel->raise();
    // The spy first: the answer may arrive while the image is still opening.
    QSignalSpy previewed(panel, &ui::BackgroundPanel::preview_ready);
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(previewed.count() > 0 || previewed.wait(60000));  // GrabCut's matte, display copy
    auto* on_canvas = panel->findChild<QCheckBox*>("background_on_canvas");
    QVERIFY(on_canvas);
    QVERIFY(!on_canvas->isChecked());
    QVERIFY(!window.canvas()->comparing());  // not until the user asks
    on_canvas->click();
    QTRY_VERIFY(window.canvas()->comparing());
    QCOMPARE(window.canvas()->comparison().size(), panel->result_image().size());
    // Dragging the line on the canvas moves the panel's split slider with it.
    QWidget* viewport = window.canvas()->viewport();
    const QPoint line = window.canvas()->image_to_viewport(QPointF(300, 200)).toPoint();
    const QPoint to = window.canvas()->image_to_viewport(QPointF(450, 200)).toPoint();
    QTest::mousePress(viewport, Qt::LeftButton, {}, line);
    QMouseEvent move(QEvent::MouseMove, to, viewport->mapToGlobal(to), Qt::NoButton, Qt::LeftButton,
                     Qt::NoModifier);
    QApplication::sendEvent(viewport, &move);
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, to);
    QVERIFY2(std::abs(window.canvas()->split() - 0.75) < 0.02,
             qPrintable(QString::number(window.canvas()->split())));
    QCOMPARE(panel->split_percent(), 75);
    QVERIFY(window.document().prompts().empty());  // the drag was not a box prompt
    // Closing the panel takes its result off the canvas; reopening brings it back.
    panel->close();
    QVERIFY(!window.canvas()->comparing());
    panel->toggleViewAction()->trigger();
    QTRY_VERIFY(window.canvas()->comparing());
}

void TestEditorFlows::no_mask_is_said_not_silently_ignored() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    ui::BackgroundPanel* panel = window.background_panel();
    QSignalSpy previewed(panel, &ui::BackgroundPanel::preview_ready);
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(previewed.count() > 0 || previewed.wait(60000));
    QVERIFY(!panel->result_image().isNull());
    panel->set_source("sam");  // no mask yet
    QTRY_VERIFY(panel->status_text().contains("No SAM mask"));
    QVERIFY(panel->result_image().isNull());  // the GrabCut result is not left on screen
    QVERIFY(panel->preview().isNull());

    ui::EffectsPanel* effects = window.effects_panel();
    effects->set_target("object");
    auto* status = effects->findChild<QLabel*>("effect_status");
    QTRY_VERIFY2(status->text().contains("No object mask"), qPrintable(status->text()));
    QVERIFY(effects->preview().isNull());  // not the whole image restyled
}

void TestEditorFlows::effects_speak_human_and_keep_one_row() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    ui::EffectsPanel* panel = window.effects_panel();
    panel->show();
    panel->raise();
    auto* strip = panel->findChild<QListWidget*>("effect_strip");
    QSignalSpy thumbs(panel, &ui::EffectsPanel::thumbnails_done);
    // Each wait counts emissions already seen: thumbnails may finish while the image opens.
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(thumbs.count() > 0 || thumbs.wait(60000));
    thumbs.clear();
    QVERIFY(open_and_wait(window, golden_dir() + "/images/astronaut_crop.png"));
    QVERIFY(thumbs.count() > 0 || thumbs.wait(60000));
    QApplication::processEvents();
    const int top = strip->visualItemRect(strip->item(0)).top();
    for (int i = 0; i < strip->count(); ++i) {
        QCOMPARE(strip->visualItemRect(strip->item(i)).top(), top);  // one row, after a switch
        QVERIFY2(!strip->item(i)->text().contains('_'), qPrintable(strip->item(i)->text()));
    }
    panel->choose_effect("dither");
    QCOMPARE(panel->effect(), QString("dither"));
    for (QLabel* label : panel->findChildren<QLabel*>()) {
        QVERIFY2(!label->text().contains('_'), qPrintable(label->text()));
    }
    auto* method = panel->findChild<QComboBox*>("param_method");
    QVERIFY(method);
    QCOMPARE(method->currentText(), QString("Floyd–Steinberg"));
    QVERIFY(!method->toolTip().isEmpty());
    method->setCurrentIndex(method->findData("bayer8"));
    QVERIFY(panel->assignments() == std::vector<std::string>{"method=bayer8"});
}

void TestEditorFlows::chart_axes_and_legends_read_well() {
    QCOMPARE(ui::nice_axis_top(0), 5.0);
    QCOMPARE(ui::nice_axis_top(1), 5.0);
    QCOMPARE(ui::nice_axis_top(7), 10.0);
    QCOMPARE(ui::nice_axis_top(12), 25.0);  // 0, 5, 10, … 25
    QCOMPARE(ui::nice_axis_top(26), 50.0);
    QCOMPARE(ui::nice_axis_top(440.8), 500.0);
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QVERIFY(open_and_wait(window, coffee()));
    QVERIFY(click_image(window, 300, 200));
    auto* legend = window.findChild<QLabel*>("latency_chart_legend");
    QVERIFY(legend);
    QTRY_VERIFY2(legend->text().contains("Image decode"), qPrintable(legend->text()));
    QVERIFY(!legend->text().contains("_"));  // words, not identifiers such as mask_decode
}

void TestEditorFlows::webp_and_tiff_open_in_the_app() {
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    QVERIFY(activate(window));
    QTemporaryDir dir;
    const QImage original(coffee());
    for (const char* suffix : {"webp", "tif"}) {
        const QString path = dir.filePath(QString("coffee.") + suffix);
        QImageWriter writer(path);
        QVERIFY2(writer.write(original), qPrintable(path + ": " + writer.errorString()));
        QVERIFY2(open_and_wait(window, path), qPrintable(window.banner_text()));
        QCOMPARE(window.current_path(), path);
        QVERIFY(window.canvas()->has_image());
    }
}

QTEST_MAIN(TestEditorFlows)
#include "test_editor_flows.moc"
