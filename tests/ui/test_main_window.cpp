// The main window driven by real mouse and key events, offscreen, on a golden SAM checkpoint.
#include "io/checkpoint.h"  // ATen before Qt (Qt's `slots` macro breaks ATen's headers)

#include <QApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>
#include <QtTest>

#include "candidate_strip.h"
#include "engine/engine.h"
#include "golden_dir.h"
#include "image_canvas.h"
#include "main_window.h"
#include "objects_dock.h"
#include "sam_golden.h"

using namespace ps;

namespace {

engine::EngineSettings settings(int workers = 2) {
    engine::EngineSettings s;
    s.max_workers = workers;
    s.device = runtime::Device::Cpu;
    s.host_cache_bytes = 256LL << 20;
    return s;
}

cv::Mat to_mat(const QImage& grey) {
    cv::Mat mat(grey.height(), grey.width(), CV_8UC1);
    for (int y = 0; y < grey.height(); ++y) {
        std::memcpy(mat.ptr(y), grey.constScanLine(y), size_t(grey.width()));
    }
    return mat;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && cv::countNonZero(a != b) == 0;
}

// Waits until the window has no request in flight (the encoder and the decoder run elsewhere).
bool wait_idle(ui::MainWindow& window, int timeout_ms = 60000) {
    QElapsedTimer timer;
    timer.start();
    while (window.busy() && timer.elapsed() < timeout_ms) QTest::qWait(10);
    return !window.busy();
}

bool open_and_wait(ui::MainWindow& window, const QString& path) {
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    window.open_image(path);
    return opened.wait(30000) && wait_idle(window);
}

}  // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void click_right_click_undo_candidate_export();
    void gui_stays_responsive_while_encoding();
    void grabcut_answers_without_weights();
    void corrupt_file_keeps_the_current_image();
    void dropping_a_file_opens_it();
};

void TestMainWindow::click_right_click_undo_candidate_export() {
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    window.set_sam_model(golden_dir() + "/sam_vit_tiny.pth");
    QVERIFY(ready.wait(30000));
    QVERIFY(open_and_wait(window, golden_dir() + "/images/coffee.png"));
    QWidget* viewport = window.canvas()->viewport();

    // A left click adds an object point and shows the decoder's best mask.
    QSignalSpy shown(&window, &ui::MainWindow::masks_shown);
    const QPoint click = window.canvas()->image_to_viewport(QPointF(300.5, 200.5)).toPoint();
    QTest::mouseClick(viewport, Qt::LeftButton, {}, click);
    QVERIFY(shown.wait(30000));
    QCOMPARE(int(window.document().prompts().points.size()), 1);
    QCOMPARE(window.document().prompts().points[0].label, 1);
    const cv::Mat first = to_mat(window.canvas()->displayed_mask());
    QVERIFY(cv::countNonZero(first) > 0);
    // It is the engine's answer for exactly that prompt.
    sam::SamPrompt prompt;
    prompt.points = window.document().prompts().points;
    auto direct = engine.decode(window.current_image_id(), engine.models().front().id, prompt, 7);
    direct.waitForFinished();
    QVERIFY(direct.result().ok());
    QVERIFY(same(first, direct.result()->masks[direct.result()->best_index]));
    for (int i = 0; i < 3; ++i) QVERIFY(window.candidates()->button(i)->isEnabled());

    // A right click adds a background point, and the mask changes.
    const QPoint right = window.canvas()->image_to_viewport(QPointF(150, 100)).toPoint();
    QTest::mouseClick(viewport, Qt::RightButton, {}, right);
    QVERIFY(shown.wait(30000));
    QCOMPARE(int(window.document().prompts().points.size()), 2);
    QCOMPARE(window.document().prompts().points[1].label, 0);
    const cv::Mat second = to_mat(window.canvas()->displayed_mask());
    QVERIFY(!same(first, second));

    // Undo (Ctrl+Z) restores the previous mask at once, from the answers kept per prompt state.
    QApplication::setActiveWindow(&window);
    QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(int(window.document().prompts().points.size()), 1);
    QVERIFY(same(first, to_mat(window.canvas()->displayed_mask())));

    // Choosing candidate 2 (a click on its thumbnail) changes the displayed mask to it.
    const sam::SamMaskSet* set = window.document().current_candidates();
    QVERIFY(set && set->masks.size() == 3);
    const int other = set->best_index == 1 ? 2 : 1;
    QTest::mouseClick(window.candidates()->button(other), Qt::LeftButton);
    const cv::Mat chosen = to_mat(window.canvas()->displayed_mask());
    QVERIFY(same(chosen, set->masks[other]));
    QVERIFY(!same(chosen, first));
    QVERIFY(window.candidates()->button(other)->isChecked());
    // And the key 1 chooses the first candidate.
    QTest::keyClick(&window, Qt::Key_1);
    QVERIFY(same(to_mat(window.canvas()->displayed_mask()), set->masks[0]));

    // Export writes the displayed mask as a 0/255 PNG at full resolution.
    QTemporaryDir dir;
    const QString path = dir.path() + "/mask.png";
    QCOMPARE(window.export_current_mask(path), QString());
    const cv::Mat exported = read_grey_png(path);
    QCOMPARE(exported.cols, 600);
    QCOMPARE(exported.rows, 400);
    QVERIFY(same(exported, set->masks[0]));

    // Enter accepts the mask as an object; undo takes it back.
    QTest::keyClick(&window, Qt::Key_Return);
    QCOMPARE(int(window.document().objects().size()), 1);
    QCOMPARE(window.objects_dock()->list()->count(), 1);
    QVERIFY(window.document().prompts().empty());
    QVERIFY(window.export_object_masks(dir.path()).isEmpty());
    QVERIFY(QFileInfo::exists(dir.path() + "/coffee_object1.png"));
    window.undo_stack().undo();
    QCOMPARE(int(window.document().objects().size()), 0);
    QCOMPARE(int(window.document().prompts().points.size()), 1);
}

void TestMainWindow::gui_stays_responsive_while_encoding() {
    engine::Engine engine(settings(1));
    ui::MainWindow window(engine);
    window.show();
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    window.set_sam_model(golden_dir() + "/sam_vit_tiny.pth");
    QVERIFY(ready.wait(30000));
    // A 10 ms timer keeps ticking on the GUI thread while the encoder runs on the engine's pool.
    int ticks = 0;
    qint64 longest_gap_ms = 0, last = 0;
    QElapsedTimer clock;
    clock.start();
    QTimer timer;
    QObject::connect(&timer, &QTimer::timeout, [&] {
        ++ticks;
        longest_gap_ms = std::max(longest_gap_ms, clock.elapsed() - last);
        last = clock.elapsed();
    });
    timer.start(10);
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    window.open_image(golden_dir() + "/images/astronaut_crop.png");
    QVERIFY(opened.wait(30000));
    QVERIFY(window.busy());  // the encode is running now
    const qint64 encode_started = clock.elapsed();
    QVERIFY(wait_idle(window));
    const qint64 encode_ms = clock.elapsed() - encode_started;
    qInfo("encode took %lld ms; %d timer ticks; longest gap %lld ms", encode_ms, ticks, longest_gap_ms);
    QVERIFY2(encode_ms > 100, "the encode was too quick to say anything about responsiveness");
    QVERIFY2(longest_gap_ms < 250, qPrintable(QString("GUI thread blocked for %1 ms").arg(longest_gap_ms)));
    QVERIFY(ticks >= encode_ms / 40);
}

void TestMainWindow::grabcut_answers_without_weights() {
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.findChild<QLabel*>("engine_label")->text().contains("GrabCut"));
    QVERIFY(open_and_wait(window, golden_dir() + "/images/coffee.png"));
    QSignalSpy shown(&window, &ui::MainWindow::masks_shown);
    const QPoint click = window.canvas()->image_to_viewport(QPointF(300, 200)).toPoint();
    QTest::mouseClick(window.canvas()->viewport(), Qt::LeftButton, {}, click);
    QVERIFY(shown.wait(30000));
    const cv::Mat mask = to_mat(window.canvas()->displayed_mask());
    QVERIFY(cv::countNonZero(mask) > 0);
    QCOMPARE(window.document().current_segmenter(), QString("GrabCut (built-in)"));
}

void TestMainWindow::corrupt_file_keeps_the_current_image() {
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    QVERIFY(open_and_wait(window, golden_dir() + "/images/coffee.png"));
    QTemporaryDir dir;
    QFile bad(dir.path() + "/broken.png");
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("\x89PNG\r\n\x1a\nnot really");
    bad.close();
    QSignalSpy failed(&window, &ui::MainWindow::image_failed);
    window.open_image(bad.fileName());
    QVERIFY(failed.wait(30000));
    QVERIFY(failed.first().first().toString().contains("broken.png"));
    QCOMPARE(window.current_path(), golden_dir() + "/images/coffee.png");
    QVERIFY(window.status_text().contains("broken.png"));
}

void TestMainWindow::dropping_a_file_opens_it() {
    engine::Engine engine(settings());
    ui::MainWindow window(engine);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QMimeData data;
    data.setUrls({QUrl::fromLocalFile(golden_dir() + "/images/astronaut_crop.png")});
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &enter);
    QVERIFY(enter.isAccepted());
    QSignalSpy opened(&window, &ui::MainWindow::image_opened);
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &drop);
    QVERIFY(opened.wait(30000));
    QCOMPARE(window.current_path(), golden_dir() + "/images/astronaut_crop.png");
    QVERIFY(window.canvas()->has_image());
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
