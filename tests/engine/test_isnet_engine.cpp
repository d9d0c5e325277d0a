// ISNet through the engine: load_model says "isnet", Engine::matte equals IsNetModel::run and is
// timed and cached like U²-Net's, the wrong kind of request is refused in one line, and the
// benchmark times it. The tiny golden checkpoint of tests/data/isnet keeps it fast on a CPU.
#include "models/isnet/isnet_model.h"  // ATen-using headers before Qt's `slots` macro

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

cv::Mat landscape() {
    auto rgb = io::read_rgb_image(isnet_data_path("landscape.png"));
    return rgb ? *rgb : cv::Mat();
}

}  // namespace

class TestIsNetEngine : public QObject {
    Q_OBJECT
  private slots:
    void load_model_reports_isnet();
    void discovery_names_isnet();
    void matte_equals_the_model_and_hits_the_cache_second();
    void wrong_kind_is_refused_with_a_clear_message();
    void benchmark_times_isnet_through_the_engine();
};

void TestIsNetEngine::load_model_reports_isnet() {
    Engine engine(cpu_test_settings());
    auto info = wait(engine.load_model(isnet_data_path("isnet_tiny.pth")));
    QVERIFY2(info.ok(), info.ok() ? "" : info.message().c_str());
    QCOMPARE(QString::fromStdString(info->family), QString("isnet"));
    QCOMPARE(QString::fromStdString(info->arch), QString("isnet_custom"));
    QCOMPARE(QString::fromStdString(info->device), QString("cpu"));
    QCOMPARE(QString::fromStdString(info->precision), QString("fp32"));
    QVERIFY(info->parameters > 600000);
    QVERIFY(is_matting_family(info->family));
    QVERIFY(require_family(*info, "matting").ok());
    QVERIFY(!engine.model_config(info->id).has_value());  // only SAM has a SamConfig
}

void TestIsNetEngine::discovery_names_isnet() {
    // The Models list: the same family test as the registry (identify_family).
    const DiscoveredCheckpoint c =
        inspect_checkpoint(QString::fromStdString(isnet_data_path("isnet_tiny.pth")));
    QVERIFY2(c.usable(), qPrintable(c.error));
    QCOMPARE(c.family, QString("isnet"));
    QCOMPARE(c.arch, QString("isnet_custom"));
    QCOMPARE(c.parameter_count, std::int64_t(698270));
    QVERIFY2(c.description.contains("ISNet"), qPrintable(c.description));
}

void TestIsNetEngine::matte_equals_the_model_and_hits_the_cache_second() {
    auto direct = isnet::IsNetModel::load(isnet_data_path("isnet_tiny.pth"),
                                          {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY2(direct.ok(), direct.ok() ? "" : direct.message().c_str());
    check_matte_through_engine(**direct, isnet_data_path("isnet_tiny.pth"), landscape());
}

void TestIsNetEngine::wrong_kind_is_refused_with_a_clear_message() {
    check_prompts_and_mattes_refused(
        isnet_data_path("isnet_tiny.pth"), golden_path("sam_vit_tiny.pth"), landscape(),
        "isnet_tiny.pth: looks like an ISNet background-removal checkpoint", "ISNet");
}

void TestIsNetEngine::benchmark_times_isnet_through_the_engine() {
    check_benchmark_through_engine(isnet_data_path("isnet_tiny.pth"), "isnet", "isnet_custom");
}

QTEST_GUILESS_MAIN(TestIsNetEngine)
#include "test_isnet_engine.moc"
