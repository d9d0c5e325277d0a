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
    check_prompts_and_mattes_refused(
        data("birefnet_tiny.pth"), golden_path("sam_vit_tiny.pth"), landscape(),
        "birefnet_tiny.pth: looks like a BiRefNet background-removal checkpoint", "BiRefNet");
}

void TestBirefnetEngine::benchmark_times_birefnet_through_the_engine() {
    QTemporaryDir dir;
    check_benchmark_through_engine(dynamic_copy(dir), "birefnet", "birefnet_custom");
}

QTEST_GUILESS_MAIN(TestBirefnetEngine)
#include "test_birefnet_engine.moc"
