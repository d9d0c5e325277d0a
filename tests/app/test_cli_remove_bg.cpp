// photosynth-cli remove-bg end to end: a real process, real files, the golden U²-NetP matte.
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include "app/cli_process.h"

#include "sam_golden.h"

namespace {

// Done-when 1 of issue 5: mean absolute difference <= 0.01 in [0, 1] units.
constexpr double kMaxMatteMeanDiff = 0.01;

}  // namespace

class TestCliRemoveBg : public QObject {
    Q_OBJECT
  private slots:
    void cutout_and_matte_match_golden_data();
    void cutout_and_matte_match_golden();
    void bad_inputs_fail_with_one_clear_line_data();
    void bad_inputs_fail_with_one_clear_line();
    void folder_mode_continues_past_bad_files();
    void refinement_and_background_reach_single_and_folder_mode();
    void folder_batches_give_the_mattes_of_single_images();
};

void TestCliRemoveBg::cutout_and_matte_match_golden_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::newRow("pth") << "u2netp.pth";
    QTest::newRow("safetensors") << "u2netp.safetensors";
}

void TestCliRemoveBg::cutout_and_matte_match_golden() {
    QFETCH(QString, checkpoint);
    QTemporaryDir dir;
    const QString input = golden_dir() + "/images/u2net_input.png";
    const QString out = dir.path() + "/cutout.png", matte_path = dir.path() + "/matte.png";
    const CliRun run = run_cli({"remove-bg", "--model", golden_dir() + "/" + checkpoint, "--image",
                                input, "--out", out, "--matte", matte_path, "--device", "cpu"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("forward"), qPrintable(run.out));

    // The matte: 8-bit grey at the image's size, close to the reference.
    const cv::Mat matte = read_grey_png(matte_path);
    const cv::Mat expected = read_grey_png(golden_dir() + "/u2netp_matte.png");
    QVERIFY2(!matte.empty() && !expected.empty(), "cannot read the mattes");
    QCOMPARE(QImage(matte_path).format(), QImage::Format_Grayscale8);
    QCOMPARE(matte.rows, expected.rows);
    QCOMPARE(matte.cols, expected.cols);
    cv::Mat diff;
    cv::absdiff(matte, expected, diff);
    const double mean_diff = cv::mean(diff)[0] / 255.0;
    QVERIFY2(mean_diff <= kMaxMatteMeanDiff, qPrintable(QString("mean |diff| %1").arg(mean_diff)));

    // The cut-out: RGBA with straight alpha equal to the matte and the colours untouched.
    QImage cutout(out);
    QVERIFY2(!cutout.isNull(), "cannot read the cut-out");
    QVERIFY(cutout.hasAlphaChannel());
    cutout = cutout.convertToFormat(QImage::Format_RGBA8888);  // straight, not premultiplied
    const QImage original = QImage(input).convertToFormat(QImage::Format_RGB888);
    QCOMPARE(cutout.size(), original.size());
    int colour_mismatches = 0, alpha_mismatches = 0;
    for (int y = 0; y < cutout.height(); ++y) {
        const uchar* rgba = cutout.constScanLine(y);
        const uchar* rgb = original.constScanLine(y);
        for (int x = 0; x < cutout.width(); ++x) {
            for (int c = 0; c < 3; ++c) colour_mismatches += rgba[4 * x + c] != rgb[3 * x + c];
            alpha_mismatches += rgba[4 * x + 3] != matte.at<uchar>(y, x);
        }
    }
    QCOMPARE(colour_mismatches, 0);
    QCOMPARE(alpha_mismatches, 0);
    // Not a constant alpha: the test could not fail otherwise on a flat matte.
    double lowest = 0, highest = 0;
    cv::minMaxLoc(matte, &lowest, &highest);
    QVERIFY(highest - lowest > 100);
}

void TestCliRemoveBg::bad_inputs_fail_with_one_clear_line_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    const QString g = golden_dir();
    const QString never = "/tmp/ps-remove-bg-never-written.png";
    const QStringList base{"remove-bg", "--image", g + "/images/u2net_input.png", "--out", never};
    QTest::newRow("SAM as U²-Net") << (base + QStringList{"--model", g + "/sam_vit_tiny.pth"})
                                   << "looks like a Segment Anything checkpoint";
    QTest::newRow("MobileSAM as U²-Net")
        << (base + QStringList{"--model", g + "/mobile_sam_tiny.pth"})
        << "looks like a Segment Anything checkpoint";
    QTest::newRow("hostile pickle")
        << (base + QStringList{"--model", g + "/hostile/pickle_os_system.pth"}) << "posix.system";
    QTest::newRow("missing image") << (QStringList{"remove-bg", "--model", g + "/u2netp.pth",
                                                   "--image", "/nonexistent.png", "--out", never})
                                   << "nonexistent.png";
    QTest::newRow("unknown device")
        << (base + QStringList{"--model", g + "/u2netp.pth", "--device", "tpu"})
        << "unknown device 'tpu'";
    QTest::newRow("missing model") << base << "missing --model";
    QTest::newRow("missing out") << (QStringList{"remove-bg", "--model", g + "/u2netp.pth",
                                                 "--image", g + "/images/u2net_input.png"})
                                 << "missing --out";
    const QStringList u2 = base + QStringList{"--model", g + "/u2netp.pth"};
    QTest::newRow("grow too far") << (u2 + QStringList{"--grow", "101"})
                                  << "--grow '101': expected a whole number from -100 to 100";
    QTest::newRow("feather negative") << (u2 + QStringList{"--feather", "-1"})
                                      << "--feather '-1': expected a whole number from 0 to 100";
    QTest::newRow("feather not a number")
        << (u2 + QStringList{"--feather", "soft"}) << "--feather 'soft'";
    QTest::newRow("missing background image")
        << (u2 + QStringList{"--background-image", "/nonexistent-background.png"})
        << "nonexistent-background.png";
    QTest::newRow("two backgrounds")
        << (u2 +
            QStringList{"--background", "blurred", "--background-image", g + "/images/coffee.png"})
        << "--background and --background-image exclude each other";
    QTest::newRow("background name") << (u2 + QStringList{"--background", "white"})
                                     << "background \"white\": expected transparent, blurred or "
                                        "a colour #RRGGBB";
    // Outputs that would land on the input or on each other (a copy of the input and a scratch
    // folder: a regression must not overwrite the golden data).
    const QString folder = "/tmp/ps-remove-bg-clash";
    QDir().mkpath(folder);
    const QString copy = folder + "/input.png";
    QFile::remove(copy);
    QFile::copy(g + "/images/u2net_input.png", copy);
    const QStringList model{"remove-bg", "--model", g + "/u2netp.pth"};
    QTest::newRow("out over the image")
        << (model + QStringList{"--image", copy, "--out", copy})
        << "--image and --out are both " + copy + ": the outputs would overwrite the input";
    QTest::newRow("matte over the cut-out")
        << (model + QStringList{"--image", copy, "--out", never, "--matte", never})
        << "--out and --matte are both " + never + ": the outputs would overwrite each other";
    QTest::newRow("matte folder over the input folder")
        << (model + QStringList{"--input-dir", folder, "--output-dir", folder + "-out",
                                "--matte-dir", folder})
        << "--input-dir and --matte-dir are both " + folder +
               ": the outputs would overwrite the input";
}

void TestCliRemoveBg::bad_inputs_fail_with_one_clear_line() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const CliRun run = run_cli(args);
    const QString problem = one_line_failure_problem(run, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!QFileInfo::exists("/tmp/ps-remove-bg-never-written.png"));
}

void TestCliRemoveBg::folder_mode_continues_past_bad_files() {
    QTemporaryDir dir;
    const QString in = dir.path() + "/in", out = dir.path() + "/out",
                  mattes = dir.path() + "/mattes";
    QVERIFY(QDir().mkpath(in) && QDir().mkpath(out));
    QVERIFY(QFile::copy(golden_dir() + "/images/u2net_input.png", in + "/a.png"));
    QVERIFY(QFile::copy(golden_dir() + "/images/coffee.png", in + "/b.png"));
    QFile bad(in + "/broken.png");
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not an image");
    bad.close();
    QFile existing(out + "/b.png");  // an output that exists is kept without --overwrite
    QVERIFY(existing.open(QIODevice::WriteOnly));
    existing.write("keep me");
    existing.close();
    const CliRun run = run_cli({"remove-bg", "--model", golden_dir() + "/u2netp.pth", "--input-dir",
                                in, "--output-dir", out, "--matte-dir", mattes, "--jobs", "2"});
    QVERIFY2(run.exit_code > 0, qPrintable(run.err));
    QVERIFY2(run.err.contains("broken.png"), qPrintable(run.err));
    QVERIFY(QImage(out + "/a.png").hasAlphaChannel());
    QVERIFY(QFileInfo::exists(mattes + "/a.png"));
    QFile kept(out + "/b.png");
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), QByteArray("keep me"));
    QVERIFY(!QFileInfo::exists(out + "/broken.png"));
    // No temporary or partial files are left behind.
    for (const QString& name : QDir(out).entryList(QDir::Files))
        QVERIFY2(name.endsWith(".png"), qPrintable(name));
}

void TestCliRemoveBg::refinement_and_background_reach_single_and_folder_mode() {
    // A colour background writes RGB: opaque subject pixels keep their colour, clear background
    // pixels are the colour; folder mode gives the same file as single mode.
    QTemporaryDir dir;
    const QString input = golden_dir() + "/images/u2net_input.png";
    const QString in = dir.path() + "/in", out = dir.path() + "/out";
    QVERIFY(QDir().mkpath(in) && QDir().mkpath(out));
    QVERIFY(QFile::copy(input, in + "/a.png"));
    const QStringList options{"--grow",       "-2",      "--feather", "1",  "--decontaminate",
                              "--background", "#00ff00", "--device",  "cpu"};
    const QString single = dir.path() + "/single.png", matte_path = dir.path() + "/matte.png";
    const CliRun run =
        run_cli(QStringList{"remove-bg", "--model", golden_dir() + "/u2netp.pth", "--image", input,
                            "--out", single, "--matte", matte_path} +
                options);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QImage result(single);
    QVERIFY(!result.isNull());
    QVERIFY(!result.hasAlphaChannel());
    const QImage rgb = result.convertToFormat(QImage::Format_RGB888);
    const cv::Mat matte = read_grey_png(matte_path);
    int background = 0, green = 0;
    for (int y = 0; y < rgb.height(); ++y)
        for (int x = 0; x < rgb.width(); ++x)
            if (matte.at<uchar>(y, x) == 0) {
                ++background;
                const uchar* p = rgb.constScanLine(y) + 3 * x;
                green += p[0] == 0 && p[1] == 255 && p[2] == 0;
            }
    QVERIFY(background > 0);
    QCOMPARE(green, background);

    const CliRun folder = run_cli(QStringList{"remove-bg", "--model", golden_dir() + "/u2netp.pth",
                                              "--input-dir", in, "--output-dir", out} +
                                  options);
    QVERIFY2(folder.exit_code == 0, qPrintable(folder.err));
    QFile a(single), b(out + "/a.png");
    QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
    QVERIFY(a.readAll() == b.readAll());

    // Another image as the background: a solid blue one shows where the matte is 0.
    QImage blue(64, 48, QImage::Format_RGB888);
    blue.fill(QColor(0, 0, 255));
    QVERIFY(blue.save(dir.path() + "/blue.png"));
    const QString on_image = dir.path() + "/on_image.png";
    const QString hard_matte = dir.path() + "/hard_matte.png";
    const CliRun image_run =
        run_cli({"remove-bg", "--model", golden_dir() + "/u2netp.pth", "--image", input, "--out",
                 on_image, "--matte", hard_matte, "--grow", "-2", "--background-image",
                 dir.path() + "/blue.png", "--device", "cpu"});
    QVERIFY2(image_run.exit_code == 0, qPrintable(image_run.err));
    const QImage composed = QImage(on_image).convertToFormat(QImage::Format_RGB888);
    const cv::Mat hard = read_grey_png(hard_matte);  // grown or shrunk mattes are 0 or 255
    int blue_pixels = 0;
    for (int y = 0; y < composed.height(); ++y)
        for (int x = 0; x < composed.width(); ++x) {
            const uchar* p = composed.constScanLine(y) + 3 * x;
            blue_pixels += p[0] == 0 && p[1] == 0 && p[2] == 255 && hard.at<uchar>(y, x) == 0;
        }
    const int clear = int(hard.total()) - cv::countNonZero(hard);
    QVERIFY(clear > 0);
    QCOMPARE(blue_pixels, clear);
}

// --batch 3 over 5 images (of different sizes): a full forward pass of 3 and a padded one of 2,
// each image's matte that of the image alone (a batched convolution may move a few pixels by
// one grey level), a bad file still reported alone.
void TestCliRemoveBg::folder_batches_give_the_mattes_of_single_images() {
    QTemporaryDir dir;
    const QString in = dir.path() + "/in";
    QVERIFY(QDir().mkpath(in));
    const QStringList images{"u2net_input.png", "coffee.png", "astronaut_crop.png"};
    for (int i = 0; i < 5; ++i)
        QVERIFY(QFile::copy(golden_dir() + "/images/" + images[i % 3],
                            in + QString("/img%1.png").arg(i)));
    QFile bad(in + "/broken.png");
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not an image");
    bad.close();
    const QString model = golden_dir() + "/u2netp.pth";
    const CliRun single =
        run_cli({"remove-bg", "--model", model, "--input-dir", in, "--output-dir",
                 dir.path() + "/one", "--matte-dir", dir.path() + "/one_m", "--device", "cpu"});
    const CliRun batched = run_cli({"remove-bg", "--model", model, "--input-dir", in,
                                    "--output-dir", dir.path() + "/three", "--matte-dir",
                                    dir.path() + "/three_m", "--batch", "3", "--device", "cpu"});
    QCOMPARE(batched.exit_code, single.exit_code);  // 1: the broken file
    QVERIFY2(batched.err.contains("broken.png"), qPrintable(batched.err));
    for (int i = 0; i < 5; ++i) {
        const QString name = QString("/img%1.png").arg(i);
        const cv::Mat a = read_grey_png(dir.path() + "/one_m" + name);
        const cv::Mat b = read_grey_png(dir.path() + "/three_m" + name);
        QVERIFY2(!a.empty() && a.size() == b.size(), qPrintable(name));
        cv::Mat diff;
        cv::absdiff(a, b, diff);
        double worst = 0;
        cv::minMaxLoc(diff, nullptr, &worst);
        QVERIFY2(
            worst <= 1 && cv::countNonZero(diff) <= int(a.total() / 100),
            qPrintable(
                name +
                QString(": %1 pixels differ, by up to %2").arg(cv::countNonZero(diff)).arg(worst)));
    }
    const CliRun zero = run_cli({"remove-bg", "--model", model, "--input-dir", in, "--output-dir",
                                 dir.path() + "/z", "--batch", "0"});
    QCOMPARE(zero.exit_code, 2);
    QVERIFY2(zero.err.contains("--batch '0'"), qPrintable(zero.err));
    const CliRun single_image = run_cli({"remove-bg", "--model", model, "--image", in + "/img0.png",
                                         "--out", dir.path() + "/x.png", "--batch", "2"});
    QCOMPARE(single_image.exit_code, 2);
}

QTEST_GUILESS_MAIN(TestCliRemoveBg)
#include "test_cli_remove_bg.moc"
