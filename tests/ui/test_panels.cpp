// The background-removal and effects panels, offscreen, driven through their widgets.
#include "models/u2net/u2net_model.h"  // ATen-using headers before Qt's `slots` macro

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgproc.hpp>

#include "background_panel.h"
#include "effects_panel.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "golden_dir.h"
#include "image/downscale.h"
#include "io/image_reader.h"

using namespace ps;

namespace {

cv::Mat coffee() {
    return *io::read_rgb_image(golden_path("images/coffee.png"));
}

// The panel works on an image the engine has open, as the window's.
int open_in(engine::Engine& engine, const cv::Mat& rgb) {
    auto image = wait(engine.open_image(rgb, "panel test"));
    return image.ok() ? image->id : 0;
}

cv::Mat to_mat(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat out(rgb.height(), rgb.width(), CV_8UC3);
    for (int y = 0; y < rgb.height(); ++y)
        std::memcpy(out.ptr(y), rgb.constScanLine(y), size_t(rgb.width()) * 3);
    return out;
}

}  // namespace

class TestPanels : public QObject {
    Q_OBJECT
  private slots:
    void background_panel_grabcut_refine_and_colour();
    void background_panel_u2net_matte_and_export();
    void effects_panel_dither_target_and_export();
};

void TestPanels::background_panel_grabcut_refine_and_colour() {
    engine::Engine engine(cpu_test_settings());
    ui::BackgroundPanel panel(engine);
    panel.show();
    QSignalSpy matte(&panel, &ui::BackgroundPanel::matte_ready);
    QSignalSpy preview(&panel, &ui::BackgroundPanel::preview_ready);
    panel.set_image(open_in(engine, coffee()));
    QVERIFY(matte.wait(60000));
    QVERIFY(preview.wait(60000));
    const cv::Mat m = panel.display_matte();
    QVERIFY(cv::countNonZero(m > 127) > 0 && cv::countNonZero(m > 127) < int(m.total()));

    // Grow the matte by typing into the spin box: a new preview arrives and differs.
    const QImage before = panel.preview();
    auto* grow = panel.findChild<QSpinBox*>("grow");
    grow->selectAll();
    QTest::keyClicks(grow, "15");
    QTest::keyClick(grow, Qt::Key_Enter);
    QVERIFY(preview.wait(60000));
    QCOMPARE(grow->value(), 15);
    QVERIFY(panel.preview() != before);

    // A solid red background with the split at 0 % (all "after"): outside the subject is red.
    panel.findChild<QLineEdit*>("background_colour")->setText("#ff0000");
    panel.set_background("colour");
    QVERIFY(preview.wait(60000));
    panel.findChild<QSlider*>("split")->setValue(0);
    const cv::Mat shown = to_mat(panel.preview());
    const cv::Mat outside = panel.display_matte() == 0;
    cv::Mat eroded;
    cv::erode(outside, eroded, cv::Mat::ones(41, 41, CV_8U));  // away from the grown edge
    QVERIFY(cv::countNonZero(eroded) > 0);
    cv::Mat not_red;
    cv::inRange(shown, cv::Scalar(255, 0, 0), cv::Scalar(255, 0, 0), not_red);
    QCOMPARE(cv::countNonZero(eroded & ~not_red), 0);
}

void TestPanels::background_panel_u2net_matte_and_export() {
    engine::Engine engine(cpu_test_settings());
    ui::BackgroundPanel panel(engine);
    QSignalSpy ready(&panel, &ui::BackgroundPanel::model_ready);
    panel.set_matting_checkpoint(golden_dir() + "/u2netp.pth");
    QVERIFY(ready.wait(60000));
    QSignalSpy matte(&panel, &ui::BackgroundPanel::matte_ready);
    const cv::Mat image = *io::read_rgb_image(golden_path("images/u2net_input.png"));
    panel.set_source("model");
    const int image_id = open_in(engine, image);
    QVERIFY(image_id > 0);
    panel.set_image(image_id);
    QVERIFY(matte.wait(60000));
    // The panel's matte is the model's matte of the display copy.
    auto model = u2net::U2NetModel::load(golden_path("u2netp.pth"),
                                         {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY(model.ok());
    auto direct = (*model)->run(image::downscale_for_interactive(image, 1024));
    QVERIFY(direct.ok());
    QCOMPARE(cv::countNonZero(panel.display_matte() != direct->matte), 0);

    // Export at full resolution: RGBA cut-out and the matte.
    QTemporaryDir dir;
    QSignalSpy exported(&panel, &ui::BackgroundPanel::export_finished);
    panel.export_result(dir.path() + "/cut.png", dir.path() + "/matte.png");
    QVERIFY(exported.wait(60000));
    QCOMPARE(exported.first().first().toString(), QString());
    const QImage cut(dir.path() + "/cut.png");
    QCOMPARE(cut.size(), QSize(image.cols, image.rows));
    QVERIFY(cut.hasAlphaChannel());
    QCOMPARE(QImage(dir.path() + "/matte.png").size(), QSize(image.cols, image.rows));
}

void TestPanels::effects_panel_dither_target_and_export() {
    engine::Engine engine(cpu_test_settings());
    ui::EffectsPanel panel(engine);
    panel.show();
    QSignalSpy thumbs(&panel, &ui::EffectsPanel::thumbnails_done);
    QSignalSpy preview(&panel, &ui::EffectsPanel::preview_ready);
    const cv::Mat image = coffee();
    panel.set_image(image);
    QVERIFY(thumbs.wait(60000));
    QVERIFY(preview.count() > 0 || preview.wait(60000));

    // Dither (1-bit by default): the preview holds only black and white.
    preview.clear();
    panel.choose_effect("dither");
    QVERIFY2(preview.wait(60000), qPrintable(panel.findChild<QLabel*>("effect_status")->text()));
    const cv::Mat dithered = to_mat(panel.preview());
    cv::Mat grey;
    cv::cvtColor(dithered, grey, cv::COLOR_RGB2GRAY);
    QCOMPARE(cv::countNonZero((grey != 0) & (grey != 255)), 0);

    // Target "background" with a matte: object pixels stay exactly as they were.
    cv::Mat matte(image.size(), CV_8UC1, cv::Scalar(0));
    cv::circle(matte, {300, 200}, 120, cv::Scalar(255), -1);
    panel.set_matte(matte);
    preview.clear();
    panel.set_target("background");
    QVERIFY(preview.wait(60000));
    const cv::Mat targeted = to_mat(panel.preview());
    cv::Mat changed;
    cv::absdiff(targeted, image, changed);
    cv::cvtColor(changed, changed, cv::COLOR_RGB2GRAY);
    QCOMPARE(cv::countNonZero(changed & matte), 0);
    QVERIFY(cv::countNonZero(changed & ~matte) > 0);

    QTemporaryDir dir;
    QSignalSpy exported(&panel, &ui::EffectsPanel::export_finished);
    panel.export_result(dir.path() + "/fx.png");
    QVERIFY(exported.wait(60000));
    QCOMPARE(exported.first().first().toString(), QString());
    QCOMPARE(QImage(dir.path() + "/fx.png").size(), QSize(image.cols, image.rows));
}

QTEST_MAIN(TestPanels)
#include "test_panels.moc"
