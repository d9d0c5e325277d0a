// BiRefNet through the engine: load_model says "birefnet", Engine::matte equals
// BiRefNetModel::run and is timed and cached like the other matting families, the wrong kind of
// request is refused in one line, and the benchmark times it. The tiny golden checkpoint of
// tests/data/birefnet keeps it quick on a CPU: the runs use a copy named like BiRefNet_dynamic,
// which works at the image's own size instead of 1024² (test_birefnet_parity covers 1024²).
#include "models/birefnet/birefnet_model.h"  // ATen-using headers before Qt's `slots` macro

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <opencv2/core.hpp>

#include "engine/benchmark.h"
#include "engine/checkpoint_discovery.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "golden_dir.h"
#include "io/image_reader.h"
#include "matte_through_engine.h"
#include "test_data.h"

using namespace ps;
using namespace ps::engine;

namespace {

std::string data(const QString& name) {
    return test_data_path("birefnet", name);
}

// The tiny checkpoint as "BiRefNet_dynamic-tiny.pth" in `dir`: the image's size, not 1024².
std::string dynamic_copy(const QTemporaryDir& dir) {
    const QString path = dir.filePath("BiRefNet_dynamic-tiny.pth");
    if (!QFile::exists(path)) QFile::copy(QString::fromStdString(data("birefnet_tiny.pth")), path);
    return path.toStdString();
}

cv::Mat landscape() {
    auto rgb = io::read_rgb_image(data("square.png"));
    return rgb ? *rgb : cv::Mat();
}

}  // namespace

class TestBirefnetEngine : public QObject {
    Q_OBJECT
  private slots:
    void load_model_reports_birefnet();
    void discovery_names_birefnet();
    void matte_equals_the_model_and_hits_the_cache_second();
    void wrong_kind_is_refused_with_a_clear_message();
    void benchmark_times_birefnet_through_the_engine();
};

void TestBirefnetEngine::load_model_reports_birefnet() {
    Engine engine(cpu_test_settings());
    auto info = wait(engine.load_model(data("birefnet_tiny.pth")));
    QVERIFY2(info.ok(), info.ok() ? "" : info.message().c_str());
    QCOMPARE(QString::fromStdString(info->family), QString("birefnet"));
    QCOMPARE(QString::fromStdString(info->arch), QString("birefnet_custom"));
    QCOMPARE(QString::fromStdString(info->device), QString("cpu"));
    QCOMPARE(QString::fromStdString(info->precision), QString("fp32"));
    QCOMPARE(info->parameters, std::int64_t(1014537));
    QVERIFY(is_matting_family(info->family));
    QVERIFY(require_family(*info, "matting").ok());
    QVERIFY(!engine.model_config(info->id).has_value());  // only SAM has a SamConfig
}

void TestBirefnetEngine::discovery_names_birefnet() {
    // The Models list: the same family test as the registry (identify_family).
    const DiscoveredCheckpoint c =
        inspect_checkpoint(QString::fromStdString(data("birefnet_tiny.pth")));
    QVERIFY2(c.usable(), qPrintable(c.error));
    QCOMPARE(c.family, QString("birefnet"));
    QCOMPARE(c.arch, QString("birefnet_custom"));
    QCOMPARE(c.parameter_count, std::int64_t(1014537));
    QCOMPARE(c.input_size, 1024);
    QVERIFY2(c.description.contains("BiRefNet"), qPrintable(c.description));
}

void TestBirefnetEngine::matte_equals_the_model_and_hits_the_cache_second() {
    QTemporaryDir dir;
    auto direct = birefnet::BiRefNetModel::load(dynamic_copy(dir),
                                                {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY2(direct.ok(), direct.ok() ? "" : direct.message().c_str());
    check_matte_through_engine(**direct, dynamic_copy(dir), landscape());
}

void TestBirefnetEngine::wrong_kind_is_refused_with_a_clear_message() {
    Engine engine(cpu_test_settings());
    auto birefnet_model = wait(engine.load_model(data("birefnet_tiny.pth")));
    auto sam = wait(engine.load_model(golden_path("sam_vit_tiny.pth")));
    auto image = wait(engine.open_image(landscape(), "landscape"));
    QVERIFY(birefnet_model.ok() && sam.ok() && image.ok());
    // Prompted masks from BiRefNet: refused before any work, naming the file and what it is.
    auto encoded = wait(engine.encode(image->id, birefnet_model->id));
    QVERIFY(!encoded.ok());
    QCOMPARE(encoded.error().kind, ErrorKind::InvalidArgument);
    QVERIFY2(
        QString::fromStdString(encoded.message())
            .startsWith("birefnet_tiny.pth: looks like a BiRefNet background-removal checkpoint"),
        encoded.message().c_str());
    // A matte from SAM names the families that can make one.
    auto matte = wait(engine.matte(image->id, sam->id));
    QVERIFY(!matte.ok());
    QVERIFY2(QString::fromStdString(matte.message()).contains("U²-Net") &&
                 QString::fromStdString(matte.message()).contains("BiRefNet"),
             matte.message().c_str());
    QVERIFY(!QString::fromStdString(matte.message()).contains('\n'));
}

void TestBirefnetEngine::benchmark_times_birefnet_through_the_engine() {
    BenchmarkRequest request;
    QTemporaryDir dir;
    request.models = {dynamic_copy(dir)};
    request.device = runtime::Device::Cpu;
    request.synthetic_width = 320;
    request.synthetic_height = 240;
    request.iterations = 2;
    request.warmup = 1;
    request.workers = 2;
    auto report = run_benchmark(request);
    QVERIFY2(report.ok(), report.ok() ? "" : report.message().c_str());
    QCOMPARE(int(report->models.size()), 1);
    const ModelBenchmark& m = report->models[0];
    QCOMPARE(QString::fromStdString(m.family), QString("birefnet"));
    QCOMPARE(QString::fromStdString(m.arch), QString("birefnet_custom"));
    for (const char* stage : {"preprocess", "forward", "postprocess", "remove_bg"}) {
        QVERIFY2(m.stages.count(stage), stage);
        QCOMPARE(m.stages.at(stage).count, 2);  // every iteration ran the network
    }
}

QTEST_GUILESS_MAIN(TestBirefnetEngine)
#include "test_birefnet_engine.moc"
