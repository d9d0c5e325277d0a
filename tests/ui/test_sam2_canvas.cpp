// SAM 2.1 as the window's segmentation model, driven as a user does: the tiny golden checkpoint
// (tests/data/sam2) typed into Settings, an image opened, a click and a box drag on the canvas,
// Ctrl+Z. Each answer shown must be the engine's own decode of the prompt the canvas recorded, and
// that prompt must lie where the mouse went.
#include "sam2_test_data.h"  // ATen-using headers before Qt's `slots` macro

#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <algorithm>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "annotating/sam_prompt.h"
#include "app_settings.h"
#include "settings_dialog.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

// image.png of the golden is 240 x 300; the golden's first prompt clicks (120, 110) and its box
// prompt spans (40, 60)-(200, 250) (image_prompts.json).
constexpr double kClickX = 120, kClickY = 110;
constexpr double kBoxX0 = 40, kBoxY0 = 60, kBoxX1 = 200, kBoxY1 = 250;

QString golden_image() {
    return test_data_dir("sam2") + "/image.png";
}

QString tiny_checkpoint() {
    return QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt"));
}

bool same(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() &&
           cv::countNonZero(cv::Mat(a != b).reshape(1)) == 0;
}

// The image pixel one viewport pixel covers: how far the canvas may round a mouse position.
double image_px_per_viewport_px(ui::MainWindow& window) {
    const QPointF a = window.canvas()->image_to_viewport(QPointF(0, 0));
    const QPointF b = window.canvas()->image_to_viewport(QPointF(100, 0));
    return 100.0 / std::max(1e-9, b.x() - a.x());
}

QPoint viewport_at(ui::MainWindow& window, double x, double y) {
    return window.canvas()->image_to_viewport(QPointF(x, y)).toPoint();
}

}  // namespace

class TestSam2Canvas : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void sam2_from_settings();
    void click_shows_the_engines_masks();
    void box_drag_shows_the_engines_mask();
    void undo_takes_the_box_then_the_click();

  private:
    // The engine's answer, decoded here, for the prompts the document holds now.
    runtime::MaskSet engine_masks();
    // True when the window shows exactly `expected`'s masks.
    bool shows(const runtime::MaskSet& expected);

    QTemporaryDir tmp_;
    std::unique_ptr<ui::AppSettings> settings_;
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<ui::MainWindow> window_;
    runtime::MaskSet click_masks_;
};

void TestSam2Canvas::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(tmp_.isValid());
    settings_ = std::make_unique<ui::AppSettings>(tmp_.filePath("settings.ini"));
    engine_ = std::make_unique<engine::Engine>(cpu_settings());
    window_ = std::make_unique<ui::MainWindow>(*engine_, settings_.get());
    QVERIFY(activate(*window_));
}

void TestSam2Canvas::sam2_from_settings() {
    ui::MainWindow& window = *window_;
    // Models ▸ Settings…: the checkpoint typed into the Segment Anything field, then OK.
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    QVERIFY(type_sam_checkpoint_in_settings(window, tiny_checkpoint()));
    QVERIFY(ready.count() > 0 || ready.wait(60000));
    QVERIFY(wait_idle(window));
    QVERIFY(!window.model_id().empty());
    const std::vector<engine::ModelInfo> models = engine_->models();
    const auto model = std::find_if(models.begin(), models.end(), [&](const engine::ModelInfo& m) {
        return m.id == window.model_id();
    });
    QVERIFY(model != models.end());
    QCOMPARE(QString::fromStdString(model->family), QString("sam2"));
    // The status bar names the model as people do, not by its arch ("sam2.1_hiera_custom").
    QCOMPARE(window.findChild<QLabel*>("engine_label")->text(), QString("SAM 2.1 · cpu fp32"));

    QVERIFY(open_and_wait(window, golden_image()));
    QCOMPARE(engine_->work_image(window.current_image_id()).size(), cv::Size(240, 300));
}

runtime::MaskSet TestSam2Canvas::engine_masks() {
    const editing::PromptState& state = window_->document().prompts();
    auto masks = engine_
                     ->decode(window_->current_image_id(), window_->model_id(),
                              annotating::to_sam_prompt(state.points, state.box), /*channel*/ 5)
                     .result();
    if (!masks) qWarning("engine decode: %s", masks.message().c_str());
    return masks ? masks.value() : runtime::MaskSet{};
}

bool TestSam2Canvas::shows(const runtime::MaskSet& expected) {
    const runtime::MaskSet* shown = window_->document().current_candidates();
    if (!shown || shown->masks.size() != expected.masks.size() || expected.masks.empty())
        return false;
    for (size_t i = 0; i < expected.masks.size(); ++i)
        if (!same(shown->masks[i], expected.masks[i])) return false;
    return true;
}

void TestSam2Canvas::click_shows_the_engines_masks() {
    ui::MainWindow& window = *window_;
    QVERIFY(click_image(window, kClickX, kClickY));
    QVERIFY2(window.status_text().contains("sam2_tiny"), qPrintable(window.status_text()));
    const editing::PromptState& state = window.document().prompts();
    QCOMPARE(int(state.points.size()), 1);
    QCOMPARE(state.points[0].label, 1);
    const double slack = image_px_per_viewport_px(window) + 0.5;
    QVERIFY(std::abs(state.points[0].x - kClickX) <= slack);
    QVERIFY(std::abs(state.points[0].y - kClickY) <= slack);
    QVERIFY(!state.box);

    click_masks_ = engine_masks();
    QCOMPARE(int(click_masks_.masks.size()), 3);  // one point: multimask
    QVERIFY(shows(click_masks_));
    QCOMPARE(window.document().current_mask().size(), cv::Size(240, 300));
    QVERIFY(cv::countNonZero(window.document().current_mask()) > 0);
}

void TestSam2Canvas::box_drag_shows_the_engines_mask() {
    ui::MainWindow& window = *window_;
    QWidget* viewport = window.canvas()->viewport();
    QSignalSpy shown(&window, &ui::MainWindow::masks_shown);
    QTest::mousePress(viewport, Qt::LeftButton, {}, viewport_at(window, kBoxX0, kBoxY0));
    for (int step = 1; step <= 8; ++step) {
        const double t = step / 8.0;
        QTest::mouseMove(viewport, viewport_at(window, kBoxX0 + (kBoxX1 - kBoxX0) * t,
                                               kBoxY0 + (kBoxY1 - kBoxY0) * t));
    }
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, viewport_at(window, kBoxX1, kBoxY1));
    QVERIFY(shown.wait(30000) && wait_idle(window));

    const editing::PromptState& state = window.document().prompts();
    QVERIFY2(state.box, "the drag drew no box");
    QCOMPARE(int(state.points.size()), 1);  // the click stays
    const double slack = image_px_per_viewport_px(window) + 0.5;
    const std::array<double, 4> want{kBoxX0, kBoxY0, kBoxX1, kBoxY1};
    for (int i = 0; i < 4; ++i)
        QVERIFY2(std::abs((*state.box)[i] - want[i]) <= slack,
                 qPrintable(QString("box[%1] = %2").arg(i).arg((*state.box)[i])));

    const runtime::MaskSet box_masks = engine_masks();
    QCOMPARE(int(box_masks.masks.size()), 1);  // a box with a point: one mask
    QVERIFY(shows(box_masks));
    QVERIFY(!same(box_masks.masks[0], click_masks_.masks[click_masks_.best_index]));
}

void TestSam2Canvas::undo_takes_the_box_then_the_click() {
    ui::MainWindow& window = *window_;
    window.canvas()->setFocus(Qt::MouseFocusReason);
    QTRY_VERIFY(window.canvas()->hasFocus());
    press(Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(wait_idle(window));
    QVERIFY(!window.document().prompts().box);
    QCOMPARE(int(window.document().prompts().points.size()), 1);
    QTRY_VERIFY(shows(click_masks_));  // the click's three masks again
    press(Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(wait_idle(window));
    QVERIFY(window.document().prompts().empty());
    QVERIFY(window.document().current_mask().empty());
}

QTEST_MAIN(TestSam2Canvas)
#include "test_sam2_canvas.moc"
