// The Remove Background panel saying why it has no preview: the message in the preview's place
// is wrapped to the panel's width, not cut off at both ends ("SAM mask yet: click on the image (or
// accept an object) " of "No SAM mask yet: … first" in a 350-pixel panel).
#include <QComboBox>
#include <QLabel>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "background_panel.h"
#include "main_window.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

class TestBackgroundPanelProblem : public QObject {
    Q_OBJECT
  private slots:
    void problem_text_fits_the_preview();
};

void TestBackgroundPanelProblem::problem_text_fits_the_preview() {
    QTemporaryDir dir;
    const QString image = dir.filePath("disc.png");
    cv::Mat bgr(240, 320, CV_8UC3, cv::Scalar(90, 140, 60));
    cv::circle(bgr, cv::Point(160, 120), 60, cv::Scalar(30, 30, 220), cv::FILLED);
    QVERIFY(cv::imwrite(image.toStdString(), bgr));
    engine::Engine engine(cpu_settings());
    ui::MainWindow window(engine);
    window.resize(1280, 800);
    QVERIFY(activate(window));
    QVERIFY(open_and_wait(window, image));

    // "SAM mask" chosen with the keyboard on the focused source list, no click made: no mask.
    window.background_panel()->raise();
    auto* source = window.background_panel()->findChild<QComboBox*>("matte_source");
    QVERIFY(source);
    source->setFocus();
    QCOMPARE(QApplication::focusWidget(), source);
    QCOMPARE(source->currentData().toString(), QString("grabcut"));
    press(Qt::Key_Down);
    QCOMPARE(source->currentData().toString(), QString("sam"));
    auto* preview = window.background_panel()->findChild<QLabel*>("background_preview");
    QVERIFY(preview);
    QVERIFY(QTest::qWaitFor([&] { return preview->text().contains("No SAM mask"); }, 10000));
    QVERIFY(preview->isVisible());
    const QRect room = preview->contentsRect();
    const int flags = int(preview->alignment()) | (preview->wordWrap() ? Qt::TextWordWrap : 0);
    const QRect needed = preview->fontMetrics().boundingRect(room, flags, preview->text());
    QVERIFY2(needed.width() <= room.width() && needed.height() <= room.height(),
             qPrintable(QString("'%1' needs %2x%3 px, the preview has %4x%5")
                            .arg(preview->text())
                            .arg(needed.width())
                            .arg(needed.height())
                            .arg(room.width())
                            .arg(room.height())));
}

QTEST_MAIN(TestBackgroundPanelProblem)
#include "test_background_panel_problem.moc"
