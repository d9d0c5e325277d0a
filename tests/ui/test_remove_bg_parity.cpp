// The Remove Background panel, driven through its widgets, and `photosynth-cli remove-bg` with
// the same settings write byte-identical cut-outs: one engine matte, one core pipeline.
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "app/cli_process.h"
#include "background_panel.h"
#include "engine/engine.h"
#include "future_result.h"
#include "golden_dir.h"
#include "io/image_reader.h"

using namespace ps;

namespace {

// Moves a spin box to `value` with arrow keys, as a user does.
void step_to(QSpinBox* spin, int value) {
    while (spin->value() < value) QTest::keyClick(spin, Qt::Key_Up);
    while (spin->value() > value) QTest::keyClick(spin, Qt::Key_Down);
}

QByteArray file_bytes(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

}  // namespace

class TestRemoveBgParity : public QObject {
    Q_OBJECT
  private slots:
    void panel_and_cli_write_the_same_bytes_data();
    void panel_and_cli_write_the_same_bytes();
};

void TestRemoveBgParity::panel_and_cli_write_the_same_bytes_data() {
    QTest::addColumn<int>("grow");
    QTest::addColumn<int>("feather");
    QTest::addColumn<bool>("decontaminate");
    QTest::addColumn<QString>("colour");  // empty: transparent
    QTest::newRow("defaults") << 0 << 0 << false << "";
    QTest::newRow("shrink, feather, decontaminate") << -3 << 2 << true << "";
    QTest::newRow("grow on a colour") << 4 << 0 << false << "#204080";
}

void TestRemoveBgParity::panel_and_cli_write_the_same_bytes() {
    QFETCH(int, grow);
    QFETCH(int, feather);
    QFETCH(bool, decontaminate);
    QFETCH(QString, colour);
    const QString input = golden_dir() + "/images/u2net_input.png";
    const QString checkpoint = golden_dir() + "/u2netp.pth";
    auto rgb = io::read_rgb_image(input.toStdString());
    QVERIFY(rgb.ok());
    QTemporaryDir dir;

    // The GUI: the CLI's settings (torch's thread count changes float sums), on the CPU.
    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    settings.device = runtime::Device::Cpu;
    engine::Engine engine(settings);
    ui::BackgroundPanel panel(engine);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QSignalSpy ready(&panel, &ui::BackgroundPanel::model_ready);
    panel.set_matting_checkpoint(checkpoint);
    QVERIFY(ready.wait(60000));
    auto image = wait(engine.open_image(*rgb, "parity"));  // the window's image, as in the app
    QVERIFY(image.ok());
    panel.set_image(image->id);

    auto* source = panel.findChild<QComboBox*>("matte_source");
    QTest::keyClick(source, Qt::Key_End);
    QCOMPARE(panel.source(), QString("model"));
    auto* grow_spin = panel.findChild<QSpinBox*>("grow");
    auto* feather_spin = panel.findChild<QSpinBox*>("feather");
    step_to(grow_spin, grow);
    step_to(feather_spin, feather);
    auto* decontaminate_box = panel.findChild<QCheckBox*>("decontaminate");
    if (decontaminate) QTest::mouseClick(decontaminate_box, Qt::LeftButton);
    QCOMPARE(decontaminate_box->isChecked(), decontaminate);
    if (!colour.isEmpty()) {
        auto* kind = panel.findChild<QComboBox*>("background_kind");
        QTest::keyClick(kind, Qt::Key_Down);
        QCOMPARE(kind->currentData().toString(), QString("colour"));
        auto* colour_edit = panel.findChild<QLineEdit*>("background_colour");
        QTest::keyClick(colour_edit, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(colour_edit, colour);
        QTest::keyClick(colour_edit, Qt::Key_Return);
        QCOMPARE(colour_edit->text(), colour);
    }
    const image::RefineOptions options = panel.refine_options();
    QCOMPARE(options.grow_px, grow);
    QCOMPARE(options.feather_sigma_px, double(feather));

    const QString from_panel = dir.path() + "/panel.png";
    QSignalSpy exported(&panel, &ui::BackgroundPanel::export_finished);
    panel.export_result(from_panel, dir.path() + "/panel_matte.png");
    QVERIFY(exported.wait(120000));
    QCOMPARE(exported.first().first().toString(), QString());

    // The CLI with the same settings.
    const QString from_cli = dir.path() + "/cli.png";
    QStringList args{"remove-bg", "--model", checkpoint,
                     "--image",   input,     "--out",
                     from_cli,    "--matte", dir.path() + "/cli_matte.png",
                     "--device",  "cpu"};
    if (grow != 0) args << "--grow" << QString::number(grow);
    if (feather != 0) args << "--feather" << QString::number(feather);
    if (decontaminate) args << "--decontaminate";
    args << "--background" << (colour.isEmpty() ? QString("transparent") : colour);
    const CliRun run = run_cli(args);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));

    const QByteArray panel_bytes = file_bytes(from_panel), cli_bytes = file_bytes(from_cli);
    QVERIFY(!panel_bytes.isEmpty());
    // Same pixels but other bytes would be metadata (the PNG's density once differed).
    const QImage panel_image(from_panel), cli_image(from_cli);
    QCOMPARE(panel_image.convertToFormat(QImage::Format_RGBA8888),
             cli_image.convertToFormat(QImage::Format_RGBA8888));
    QVERIFY2(panel_bytes == cli_bytes, "the panel's and the CLI's cut-outs differ");
    const QByteArray panel_matte = file_bytes(dir.path() + "/panel_matte.png");
    QVERIFY(!panel_matte.isEmpty());
    QCOMPARE(panel_matte, file_bytes(dir.path() + "/cli_matte.png"));
    // The settings reached the result: a refined or recoloured cut-out is not the plain one.
    const bool plain = grow == 0 && feather == 0 && !decontaminate && colour.isEmpty();
    const QString plain_path = dir.path() + "/plain.png";
    const CliRun plain_run = run_cli({"remove-bg", "--model", checkpoint, "--image", input, "--out",
                                      plain_path, "--device", "cpu"});
    QVERIFY2(plain_run.exit_code == 0, qPrintable(plain_run.err));
    QCOMPARE(file_bytes(plain_path) == cli_bytes, plain);
}

QTEST_MAIN(TestRemoveBgParity)
#include "test_remove_bg_parity.moc"
