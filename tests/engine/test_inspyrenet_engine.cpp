// InSPyReNet through the engine: load_model says "inspyrenet", Engine::matte equals
// InSPyReNetModel::run and is cached like the other matting families', the wrong kind of request
// is refused in one line, and the benchmark times it. The tiny Res2Net50 checkpoint of
// tests/data/inspyrenet (run at its default 384) keeps it fast on a CPU.
#include "models/inspyrenet/inspyrenet_model.h"  // ATen-using headers before Qt's `slots` macro

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

std::string tiny() {
    return test_data_path("inspyrenet", "inspyrenet_res2net50_tiny.pth");
}

cv::Mat portrait() {
    auto rgb = io::read_rgb_image(test_data_path("inspyrenet", "portrait.png"));
    return rgb ? *rgb : cv::Mat();
}

}  // namespace

class TestInSPyReNetEngine : public QObject {
    Q_OBJECT
  private slots:
    void load_model_reports_inspyrenet();
    void discovery_names_inspyrenet();
    void matte_equals_the_model_and_hits_the_cache_second();
    void wrong_kind_is_refused_with_a_clear_message();
    void benchmark_times_inspyrenet_through_the_engine();
};

void TestInSPyReNetEngine::load_model_reports_inspyrenet() {
    Engine engine(cpu_test_settings());
    auto info = wait(engine.load_model(tiny()));
    QVERIFY2(info.ok(), info.ok() ? "" : info.message().c_str());
    QCOMPARE(QString::fromStdString(info->family), QString("inspyrenet"));
    QCOMPARE(QString::fromStdString(info->arch), QString("inspyrenet_custom"));
    QCOMPARE(QString::fromStdString(info->device), QString("cpu"));
    QCOMPARE(QString::fromStdString(info->precision), QString("fp32"));
    QVERIFY(info->parameters > 300000);
    QVERIFY(is_matting_family(info->family));
    QVERIFY(require_family(*info, "matting").ok());
    QVERIFY(!engine.model_config(info->id).has_value());  // only SAM has a SamConfig
}

void TestInSPyReNetEngine::discovery_names_inspyrenet() {
    const DiscoveredCheckpoint c = inspect_checkpoint(QString::fromStdString(tiny()));
    QVERIFY2(c.usable(), qPrintable(c.error));
    QCOMPARE(c.family, QString("inspyrenet"));
    QCOMPARE(c.arch, QString("inspyrenet_custom"));
    QVERIFY2(c.description.contains("InSPyReNet (Res2Net50-v1b)"), qPrintable(c.description));
}

void TestInSPyReNetEngine::matte_equals_the_model_and_hits_the_cache_second() {
    auto direct =
        inspyrenet::InSPyReNetModel::load(tiny(), {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY2(direct.ok(), direct.ok() ? "" : direct.message().c_str());
    QCOMPARE((*direct)->input_size(), 384);
    check_matte_through_engine(**direct, tiny(), portrait());
}

void TestInSPyReNetEngine::wrong_kind_is_refused_with_a_clear_message() {
    check_prompts_and_mattes_refused(
        tiny(), golden_path("sam_vit_tiny.pth"), portrait(),
        "inspyrenet_res2net50_tiny.pth: looks like an InSPyReNet background-removal checkpoint",
        "InSPyReNet");
}

void TestInSPyReNetEngine::benchmark_times_inspyrenet_through_the_engine() {
    check_benchmark_through_engine(tiny(), "inspyrenet", "inspyrenet_custom");
}

QTEST_GUILESS_MAIN(TestInSPyReNetEngine)
#include "test_inspyrenet_engine.moc"
