// photosynth-cli against the limits of docs/limits.md (issue 14 items 3 and 5): prompts out of
// bounds or too many, thin images, bad seeds and checkpoints with NaN, integer or empty weights.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

#include "app/cli_process.h"
#include "golden_dir.h"

class TestCliLimits : public QObject {
    Q_OBJECT
  private slots:
    void segment_refuses_bad_prompts_before_writing_data();
    void segment_refuses_bad_prompts_before_writing();
    void thin_images_segment_data();
    void thin_images_segment();
    void init_checkpoint_refuses_a_bad_seed_data();
    void init_checkpoint_refuses_a_bad_seed();
    void mutated_weights_are_refused_at_load_data();
    void mutated_weights_are_refused_at_load();
};

namespace {

QByteArray repeated(const QByteArray& item, int count) {
    QByteArray out;
    for (int i = 0; i < count; ++i) out += (i ? "," : "") + item;
    return out;
}

bool write_file(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// An 8-bit RGB PNG of width × height with a gradient (QImage writes it).
bool write_png(const QString& path, int width, int height) {
    QImage image(width, height, QImage::Format_RGB888);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) image.setPixel(x, y, qRgb(x % 256, y % 256, 128));
    return image.save(path);
}

// A copy of the golden safetensors file with one tensor changed: its first value set to NaN, its
// dtype renamed to I32 (same bytes), or its shape emptied.
QByteArray mutated_safetensors(const QString& mutation, const QString& key) {
    QFile file(golden_dir() + "/sam_vit_tiny.safetensors");
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QByteArray bytes = file.readAll();
    quint64 header_size = 0;
    std::memcpy(&header_size, bytes.constData(), 8);
    QJsonObject header =
        QJsonDocument::fromJson(bytes.mid(8, static_cast<qsizetype>(header_size))).object();
    QByteArray data = bytes.mid(8 + static_cast<qsizetype>(header_size));
    QJsonObject tensor = header.value(key).toObject();
    if (mutation == "nan") {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const qsizetype begin = tensor.value("data_offsets").toArray()[0].toInteger();
        std::memcpy(data.data() + begin, &nan, sizeof nan);
    } else if (mutation == "int32") {
        tensor["dtype"] = "I32";
    } else if (mutation == "empty") {
        // The reader refuses bytes that belong to no tensor: cut them out, shift the others.
        const qint64 begin = tensor.value("data_offsets").toArray()[0].toInteger();
        const qint64 end = tensor.value("data_offsets").toArray()[1].toInteger();
        data.remove(begin, end - begin);
        for (auto it = header.begin(); it != header.end(); ++it) {
            QJsonObject other = it.value().toObject();
            if (it.key() == "__metadata__" || it.key() == key) continue;
            const QJsonArray offsets = other.value("data_offsets").toArray();
            if (offsets[0].toInteger() >= end)
                other["data_offsets"] = QJsonArray{offsets[0].toInteger() - (end - begin),
                                                   offsets[1].toInteger() - (end - begin)};
            it.value() = other;
        }
        tensor["shape"] = QJsonArray{1, 0, 0, 64};
        tensor["data_offsets"] = QJsonArray{begin, begin};
    }
    header[key] = tensor;
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (json.size() % 8) json += ' ';
    const quint64 json_size = static_cast<quint64>(json.size());
    return QByteArray(reinterpret_cast<const char*>(&json_size), 8) + json + data;
}

}  // namespace

void TestCliLimits::segment_refuses_bad_prompts_before_writing_data() {
    QTest::addColumn<QByteArray>("prompts");
    QTest::addColumn<QString>("expected");
    // coffee.png is 600×400. Each of these ran with exit 0 and empty masks before (issue 14).
    QTest::newRow("coordinate 1e308") << QByteArray(R"({"prompts": [{"points": [[1e308, 5, 1]]}]})")
                                      << "prompt 0: point (1e+308, 5) is outside the 600×400 image";
    QTest::newRow("negative coordinate")
        << QByteArray(R"({"prompts": [{"points": [[10, 10, 1]]}, {"points": [[-3, 5, 1]]}]})")
        << "prompt 1: point (-3, 5) is outside the 600×400 image";
    QTest::newRow("inverted box") << QByteArray(R"({"prompts": [{"box": [50, 50, 10, 10]}]})")
                                  << "prompt 0: box [50, 50, 10, 10] must be [x0, y0, x1, y1] "
                                     "with x0 < x1 and y0 < y1";
    QTest::newRow("zero-area box")
        << QByteArray(R"({"prompts": [{"box": [10, 10, 10, 40]}]})") << "(non-zero area)";
    QTest::newRow("box past the image")
        << QByteArray(R"({"prompts": [{"box": [10, 10, 700, 40]}]})")
        << "box [10, 10, 700, 40] is outside the 600×400 image";
    QTest::newRow("unknown key")
        << QByteArray(R"({"prompts": [{"points": [[5, 5, 1]], "multimasks": false}]})")
        << "prompt 0: unknown key \"multimasks\"";
    // 10,000 points in one prompt took 6.5 GB and 20 s; 400,000 prompts were accepted.
    QTest::newRow("65 points") << (R"({"prompts": [{"points": [)" + repeated("[5, 5, 1]", 65) +
                                   "]}]}")
                               << "prompt 0: has 65 points, more than the 64 a prompt may have";
    QTest::newRow("10,001 prompts")
        << (R"({"prompts": [)" + repeated(R"({"points": [[5, 5, 1]]})", 10001) + "]}")
        << "10001 prompts, more than the 10000 a prompts file may hold";
}

void TestCliLimits::segment_refuses_bad_prompts_before_writing() {
    QFETCH(QByteArray, prompts);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString prompts_path = dir.filePath("prompts.json");
    QVERIFY(write_file(prompts_path, prompts));
    const QString out = dir.filePath("out");
    const CliRun run = run_cli({"segment", "--model", golden_dir() + "/sam_vit_tiny.pth", "--image",
                                golden_dir() + "/images/coffee.png", "--prompts", prompts_path,
                                "--out", out, "--device", "cpu"});
    const QString problem = one_line_failure_problem(run, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    // Refused before any mask: no PNG of an earlier prompt is left without its result.json.
    QVERIFY(QDir(out).entryList({"*.png"}, QDir::Files).isEmpty());
    QVERIFY(!QFileInfo::exists(out + "/result.json"));
}

void TestCliLimits::thin_images_segment_data() {
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::addColumn<QByteArray>("prompts");
    // Resized to 1024×0 before ("pil_resize_bilinear: output size 1024x0").
    QTest::newRow("5000×1") << 5000 << 1
                            << QByteArray(R"({"prompts": [{"box": [0, 0, 3000, 1]}]})");
    QTest::newRow("1×5000") << 1 << 5000
                            << QByteArray(R"({"prompts": [{"points": [[0.5, 2500, 1]]}]})");
}

void TestCliLimits::thin_images_segment() {
    QFETCH(int, width);
    QFETCH(int, height);
    QFETCH(QByteArray, prompts);
    QTemporaryDir dir;
    const QString image = dir.filePath("thin.png"), prompts_path = dir.filePath("prompts.json");
    QVERIFY(write_png(image, width, height));
    QVERIFY(write_file(prompts_path, prompts));
    const QString out = dir.filePath("out");
    const CliRun run = run_cli({"segment", "--model", golden_dir() + "/sam_vit_tiny.pth", "--image",
                                image, "--prompts", prompts_path, "--out", out, "--device", "cpu"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile result_file(out + "/result.json");
    QVERIFY(result_file.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(result_file.readAll()).object();
    const QJsonArray ious = result["prompts"].toArray()[0].toObject()["iou"].toArray();
    QVERIFY(!ious.isEmpty());
    for (const QJsonValue& iou : ious) QVERIFY(iou.isDouble() && std::isfinite(iou.toDouble()));
    const QImage mask(out + "/prompt0_mask0.png");
    QCOMPARE(mask.size(), QSize(width, height));
}

void TestCliLimits::init_checkpoint_refuses_a_bad_seed_data() {
    QTest::addColumn<QString>("seed");
    QTest::newRow("letters") << "abc";  // std::stoull threw: "internal error"
    QTest::newRow("negative") << "-1";
    QTest::newRow("trailing letters") << "12abc";
    QTest::newRow("too large") << "99999999999999999999";
}

void TestCliLimits::init_checkpoint_refuses_a_bad_seed() {
    QFETCH(QString, seed);
    QTemporaryDir dir;
    const QString out = dir.filePath("x.safetensors");
    const CliRun run =
        run_cli({"init-checkpoint", "--arch", "vit_b", "--out", out, "--seed", seed});
    const QString problem =
        one_line_failure_problem(run, "--seed '" + seed + "' is not a whole number");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(run.exit_code, 2);
    QVERIFY(!QFileInfo::exists(out));
}

void TestCliLimits::mutated_weights_are_refused_at_load_data() {
    QTest::addColumn<QString>("mutation");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");
    // NaN weights ran with exit 0; an integer tensor failed inside ATen ("expected scalar type
    // Float but found Long"); an empty pos_embed in the resize ("output size 0x0").
    QTest::newRow("NaN") << "nan"
                         << "mask_decoder.iou_prediction_head.layers.0.weight"
                         << "tensor mask_decoder.iou_prediction_head.layers.0.weight holds NaN "
                            "or infinite values";
    QTest::newRow("int32") << "int32"
                           << "image_encoder.patch_embed.proj.weight"
                           << "tensor image_encoder.patch_embed.proj.weight has dtype int32, "
                              "expected a floating type";
    QTest::newRow("empty") << "empty"
                           << "image_encoder.pos_embed"
                           << "tensor image_encoder.pos_embed has shape [1, 0, 0, 64], which "
                              "holds no values";
}

void TestCliLimits::mutated_weights_are_refused_at_load() {
    QFETCH(QString, mutation);
    QFETCH(QString, key);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString model = dir.filePath("mutated.safetensors");
    const QByteArray bytes = mutated_safetensors(mutation, key);
    QVERIFY(!bytes.isEmpty());
    QVERIFY(write_file(model, bytes));
    const CliRun run =
        run_cli({"segment", "--model", model, "--image", golden_dir() + "/images/coffee.png",
                 "--prompts", golden_dir() + "/images/coffee_prompts.json", "--out",
                 dir.filePath("out"), "--device", "cpu"});
    const QString problem = one_line_failure_problem(run, "mutated.safetensors: " + expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!QFileInfo::exists(dir.filePath("out/result.json")));
}

QTEST_GUILESS_MAIN(TestCliLimits)
#include "test_cli_limits.moc"
