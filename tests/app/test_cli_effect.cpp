// photosynth-cli effect end to end: real processes and files; single images, masks, folder mode
// with a corrupt file and an existing output, atomic writes.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QImageWriter>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include "app/cli_process.h"
#include "file_bytes.h"

namespace {

// Seeded noise with a gradient, so every effect has something to change.
QImage test_image(int width, int height, int seed) {
    QImage image(width, height, QImage::Format_RGB888);
    quint32 state = static_cast<quint32>(seed) * 2654435761u + 1;
    for (int y = 0; y < height; ++y) {
        uchar* row = image.scanLine(y);
        for (int x = 0; x < 3 * width; ++x) {
            state = state * 1664525u + 1013904223u;
            row[x] = static_cast<uchar>((x * 255 / (3 * width) + (state >> 24)) / 2);
        }
    }
    return image;
}

QStringList entries(const QString& dir) {
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

QImage read_rgb(const QString& path) {
    return QImage(path).convertToFormat(QImage::Format_RGB888);
}

bool same_pixel(const QImage& a, const QImage& b, int x, int y) {
    return std::equal(a.constScanLine(y) + 3 * x, a.constScanLine(y) + 3 * x + 3,
                      b.constScanLine(y) + 3 * x);
}

}  // namespace

class TestCliEffect : public QObject {
    Q_OBJECT
  private slots:
    void single_image_writes_a_png_of_the_right_size_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QStringList>("params");
        QTest::newRow("bw") << "bw" << QStringList{};
        QTest::newRow("pop_art") << "pop_art" << QStringList{"palette=#000000,#ff0000,#ffff00"};
        QTest::newRow("pop_art_grid") << "pop_art_grid" << QStringList{};
        QTest::newRow("dither") << "dither" << QStringList{"method=atkinson"};
        QTest::newRow("dither median cut")
            << "dither" << QStringList{"palette=median_cut", "colors=8"};
        QTest::newRow("halftone") << "halftone" << QStringList{"cell=5"};
        QTest::newRow("duotone") << "duotone" << QStringList{"dark=#000040", "light=#ffffc0"};
    }
    void single_image_writes_a_png_of_the_right_size() {
        QFETCH(QString, name);
        QFETCH(QStringList, params);
        QTemporaryDir dir;
        const QString in = dir.filePath("in.png"), out = dir.filePath("out.png");
        QVERIFY(test_image(37, 23, 1).save(in));
        QStringList args{"effect", "--name", name, "--image", in, "--out", out};
        for (const QString& p : params) args << "--param" << p;
        const CliRun run = run_cli(args);
        QVERIFY2(run.exit_code == 0, qPrintable(run.err));
        const QImage result(out);
        QCOMPARE(result.size(), QSize(37, 23));
        QCOMPARE(entries(dir.path()), (QStringList{"in.png", "out.png"}));
    }

    // WebP and TIFF (Qt's image-formats plugins) decode to the same pixels as a PNG of the same
    // image: the effect's outputs are the same bytes.
    void webp_and_tiff_images_are_read_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("format");
        QTest::addColumn<int>("quality");  // 100 makes Qt's WebP writer lossless
        QTest::newRow("webp") << "in.webp" << QByteArray("webp") << 100;
        QTest::newRow("tif") << "in.tif" << QByteArray("tiff") << -1;
        QTest::newRow("tiff") << "in.tiff" << QByteArray("tiff") << -1;
    }
    void webp_and_tiff_images_are_read() {
        QFETCH(QString, name);
        QFETCH(QByteArray, format);
        QFETCH(int, quality);
        QTemporaryDir dir;
        const QImage image = test_image(29, 19, 8);
        QImageWriter writer(dir.filePath(name), format);
        writer.setQuality(quality);
        QVERIFY2(
            writer.write(image),
            qPrintable(writer.errorString() +
                       " (Qt's image-formats plugins: scripts/install-deps.sh installs them)"));
        QVERIFY(image.save(dir.filePath("in.png")));
        for (const QString& input : {name, QString("in.png")}) {
            const CliRun run =
                run_cli({"effect", "--name", "dither", "--image", dir.filePath(input), "--out",
                         dir.filePath(input + ".out.png")});
            QVERIFY2(run.exit_code == 0, qPrintable(run.err));
        }
        QCOMPARE(QImage(dir.filePath(name + ".out.png")).size(), image.size());
        QCOMPARE(read_bytes(dir.filePath(name + ".out.png")),
                 read_bytes(dir.filePath("in.png.out.png")));
    }

    void folder_mode_takes_webp_and_tiff() {
        QTemporaryDir dir;
        const QString in = dir.filePath("in"), out = dir.filePath("out");
        QVERIFY(QDir().mkpath(in) && QDir().mkpath(out));
        QVERIFY(test_image(11, 7, 9).save(in + "/a.webp", "webp", 100));
        QVERIFY(test_image(12, 8, 10).save(in + "/b.tif", "tiff"));
        QVERIFY(test_image(13, 9, 11).save(in + "/c.tiff", "tiff"));
        const CliRun run =
            run_cli({"effect", "--name", "bw", "--input-dir", in, "--output-dir", out});
        QVERIFY2(run.exit_code == 0, qPrintable(run.err));
        QVERIFY2(run.err.contains("3 image(s): 3 written"), qPrintable(run.err));
        QCOMPARE(entries(out), (QStringList{"a.png", "b.png", "c.png"}));
        QCOMPARE(QImage(out + "/c.png").size(), QSize(13, 9));
    }

    // A grey mask and a cut-out's alpha both select the object; the untargeted side is exact.
    void mask_limits_the_effect_to_its_target_data() {
        QTest::addColumn<QString>("target");
        QTest::addColumn<bool>("alpha_mask");
        QTest::newRow("background, grey mask") << "background" << false;
        QTest::newRow("object, alpha mask") << "object" << true;
    }
    void mask_limits_the_effect_to_its_target() {
        QFETCH(QString, target);
        QFETCH(bool, alpha_mask);
        QTemporaryDir dir;
        const QString in = dir.filePath("in.png"), mask = dir.filePath("mask.png"),
                      out = dir.filePath("out.png");
        const QImage image = test_image(40, 30, 2);
        QVERIFY(image.save(in));
        QImage matte(40, 30, alpha_mask ? QImage::Format_ARGB32 : QImage::Format_Grayscale8);
        matte.fill(alpha_mask ? QColor(0, 0, 0, 0) : QColor(0, 0, 0));
        for (int y = 0; y < 30; ++y)
            for (int x = 0; x < 20; ++x)
                matte.setPixelColor(x, y,
                                    alpha_mask ? QColor(9, 9, 9, 255) : QColor(255, 255, 255));
        QVERIFY(matte.save(mask));
        const CliRun run = run_cli({"effect", "--name", "dither", "--mask", mask, "--target",
                                    target, "--image", in, "--out", out});
        QVERIFY2(run.exit_code == 0, qPrintable(run.err));
        const QImage result = read_rgb(out);
        const bool object = target == "object";
        int changed = 0;
        for (int y = 0; y < 30; ++y)
            for (int x = 0; x < 40; ++x) {
                const bool untouched_side = object ? x >= 20 : x < 20;
                if (untouched_side)
                    QVERIFY2(same_pixel(result, image, x, y),
                             qPrintable(QString("%1,%2").arg(x).arg(y)));
                else
                    changed += !same_pixel(result, image, x, y);
            }
        QVERIFY(changed > 500);  // the targeted half is dithered (600 pixels)
    }

    void bad_arguments_fail_with_one_clear_line_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown effect")
            << QStringList{"--name", "blur", "--image", "IN", "--out", "OUT"} << 2
            << "unknown effect 'blur'";
        QTest::newRow("bad param") << QStringList{"--name",  "halftone", "--param", "cell=0",
                                                  "--image", "IN",       "--out",   "OUT"}
                                   << 2 << "halftone: cell=0 is out of range 2..256";
        QTest::newRow("target without mask")
            << QStringList{"--name", "bw", "--target", "object", "--image", "IN", "--out", "OUT"}
            << 2 << "--target object needs --mask";
        QTest::newRow("both modes")
            << QStringList{"--name", "bw", "--image", "IN", "--input-dir", "D", "--output-dir", "E"}
            << 2 << "give either --image and --out, or --input-dir and --output-dir";
        QTest::newRow("mask size")
            << QStringList{"--name", "bw",      "--mask", "SMALL", "--target",
                           "object", "--image", "IN",     "--out", "OUT"}
            << 1 << "small.png: the mask is 5x5, the image 37x23";
        QTest::newRow("bad jobs") << QStringList{"--name",       "bw", "--input-dir", "D",
                                                 "--output-dir", "E",  "--jobs",      "0"}
                                  << 2 << "--jobs 0: expected a whole number from 1 to 256";
    }
    void bad_arguments_fail_with_one_clear_line() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QVERIFY(test_image(37, 23, 3).save(dir.filePath("in.png")));
        QVERIFY(test_image(5, 5, 3).save(dir.filePath("small.png")));
        args.replaceInStrings(QRegularExpression("^IN$"), dir.filePath("in.png"));
        args.replaceInStrings(QRegularExpression("^SMALL$"), dir.filePath("small.png"));
        args.replaceInStrings(QRegularExpression("^OUT$"), dir.filePath("out.png"));
        const CliRun run = run_cli(QStringList{"effect"} + args);
        QCOMPARE(run.exit_code, code);
        QVERIFY2(run.err.contains(message), qPrintable(run.err));
        QCOMPARE(run.err.count('\n'), 1);
        QVERIFY(!QFile::exists(dir.filePath("out.png")));
    }

    void folder_mode_skips_continues_and_reports() {
        QTemporaryDir dir;
        const QString in = dir.filePath("in"), out = dir.filePath("out");
        QVERIFY(QDir().mkpath(in) && QDir().mkpath(out));
        QVERIFY(test_image(31, 17, 4).save(in + "/a.png"));
        QVERIFY(test_image(20, 24, 5).save(in + "/b.jpg"));
        QVERIFY(test_image(9, 9, 6).save(in + "/c.bmp"));
        QFile bad(in + "/bad.png");
        QVERIFY(bad.open(QIODevice::WriteOnly) && bad.write("definitely not a PNG") > 0);
        bad.close();
        QFile notes(in + "/notes.txt");
        QVERIFY(notes.open(QIODevice::WriteOnly) && notes.write("ignored") > 0);
        notes.close();
        QImage sentinel(1, 1, QImage::Format_RGB888);
        sentinel.fill(Qt::red);
        QVERIFY(sentinel.save(out + "/b.png"));
        const QByteArray sentinel_bytes = read_bytes(out + "/b.png");

        const QStringList args{"effect", "--name", "halftone", "--input-dir", in, "--output-dir",
                               out,      "--jobs", "2"};
        CliRun run = run_cli(args);
        QCOMPARE(run.exit_code, 1);
        QVERIFY2(run.err.contains("4 image(s): 2 written, 1 skipped"), qPrintable(run.err));
        QVERIFY2(run.err.contains("1 failed"), qPrintable(run.err));
        QVERIFY2(run.err.contains(QRegularExpression("\\n  bad\\.png: .*bad\\.png")),
                 qPrintable(run.err));
        QVERIFY2(run.err.contains("1 file(s) not images by name ignored"), qPrintable(run.err));
        QVERIFY2(run.err.contains("] b.jpg: skipped"),
                 qPrintable(run.err));  // one line per file off a TTY
        QCOMPARE(read_bytes(out + "/b.png"), sentinel_bytes);
        QCOMPARE(QImage(out + "/a.png").size(), QSize(31, 17));
        QCOMPARE(QImage(out + "/c.png").size(), QSize(9, 9));
        QCOMPARE(entries(out), (QStringList{"a.png", "b.png", "c.png"}));

        run = run_cli(args + QStringList{"--overwrite"});
        QCOMPARE(run.exit_code, 1);
        QVERIFY2(run.err.contains("3 written, 0 skipped"), qPrintable(run.err));
        QCOMPARE(QImage(out + "/b.png").size(), QSize(20, 24));
        QCOMPARE(entries(out), (QStringList{"a.png", "b.png", "c.png"}));

        QVERIFY(QFile::remove(in + "/bad.png"));
        run = run_cli(args);
        QCOMPARE(run.exit_code, 0);
        QVERIFY2(run.err.contains("3 image(s): 0 written, 3 skipped"), qPrintable(run.err));
    }

    void folder_mode_refuses_its_input_as_output() {
        QTemporaryDir dir;
        QVERIFY(test_image(8, 8, 7).save(dir.filePath("a.png")));
        const CliRun run = run_cli(
            {"effect", "--name", "bw", "--input-dir", dir.path(), "--output-dir", dir.path()});
        QCOMPARE(run.exit_code, 1);
        QVERIFY(run.err.contains("must differ"));
        QCOMPARE(entries(dir.path()), QStringList{"a.png"});
    }
};

QTEST_GUILESS_MAIN(TestCliEffect)
#include "test_cli_effect.moc"
