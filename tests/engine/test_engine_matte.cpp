// Background removal through the engine: any family loads and says which it is; Engine::matte
// equals U2NetModel::run, is timed, cached (bounded) and refused for the wrong family.
#include "models/u2net/u2net_model.h"  // ATen-using headers before Qt's `slots` macro

#include <opencv2/imgproc.hpp>

#include <QtTest>
#include <opencv2/core.hpp>

#include "engine/benchmark.h"
#include "engine/engine.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "golden_dir.h"
#include "image/downscale.h"
#include "io/image_reader.h"

using namespace ps;
using namespace ps::engine;

namespace {

cv::Mat u2net_input() {
    auto rgb = io::read_rgb_image(golden_path("images/u2net_input.png"));
    return rgb ? *rgb : cv::Mat();
}

cv::Mat direct_matte(const cv::Mat& rgb) {
    auto model = u2net::U2NetModel::load(golden_path("u2netp.pth"),
                                         {runtime::Device::Cpu, runtime::Precision::Fp32});
    if (!model) return cv::Mat();
    auto out = (*model)->run(rgb);
    return out ? out->matte : cv::Mat();
}

int differing_pixels(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size() || a.type() != b.type()) return -1;
    return cv::countNonZero(a != b);
}

}  // namespace

class TestEngineMatte : public QObject {
    Q_OBJECT
  private slots:
    void load_model_reports_the_family_data();
    void load_model_reports_the_family();
    void matte_equals_the_model_and_hits_the_cache_second();
    void preview_size_matte_is_the_downscaled_images();
    void concurrent_mattes_run_the_model_one_at_a_time();
    void uncached_and_oversized_mattes_are_not_cached();
    void wrong_family_is_refused_with_a_clear_message();
    void benchmark_times_u2net_through_the_engine();
    void batches_are_the_single_mattes();
};

void TestEngineMatte::load_model_reports_the_family_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("arch");
    QTest::newRow("U²-NetP pth") << "u2netp.pth"
                                 << "u2net"
                                 << "u2netp";
    QTest::newRow("U²-NetP safetensors") << "u2netp.safetensors"
                                         << "u2net"
                                         << "u2netp";
    QTest::newRow("SAM") << "sam_vit_tiny.pth"
                         << "sam"
                         << "";
    QTest::newRow("MobileSAM") << "mobile_sam_tiny.pth"
                               << "mobile_sam"
                               << "";
}

void TestEngineMatte::load_model_reports_the_family() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, family);
    QFETCH(QString, arch);
    Engine engine(cpu_test_settings());
    auto info = wait(engine.load_model(golden_path(checkpoint)));
    QVERIFY2(info.ok(), info.ok() ? "" : info.message().c_str());
    QCOMPARE(QString::fromStdString(info->family), family);
    if (!arch.isEmpty()) QCOMPARE(QString::fromStdString(info->arch), arch);
    QCOMPARE(QString::fromStdString(info->device), QString("cpu"));
    QCOMPARE(QString::fromStdString(info->precision), QString("fp32"));
    QVERIFY(info->parameters > 0);
    QCOMPARE(int(engine.models().size()), 1);
    QCOMPARE(QString::fromStdString(engine.models().front().family), family);
    // Only the promptable families have a SAM configuration.
    QCOMPARE(engine.model_config(info->id).has_value(), family != "u2net");
}

void TestEngineMatte::matte_equals_the_model_and_hits_the_cache_second() {
    const cv::Mat rgb = u2net_input();
    QVERIFY(!rgb.empty());
    const cv::Mat expected = direct_matte(rgb);
    QVERIFY(!expected.empty());
    double lowest = 0, highest = 0;
    cv::minMaxLoc(expected, &lowest, &highest);
    QVERIFY2(highest - lowest > 100, "a flat matte could not show a difference");

    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(golden_path("u2netp.pth")));
    QVERIFY(model.ok());
    auto image = wait(engine.open_image(rgb, "u2net_input"));
    QVERIFY(image.ok());
    const auto hits_before = engine.metrics().snapshot().host_cache.hits;

    auto first = wait(engine.matte(image->id, model->id));
    QVERIFY2(first.ok(), first.ok() ? "" : first.message().c_str());
    QVERIFY(!first->cache_hit);
    QCOMPARE(first->matte.type(), CV_8UC1);
    QCOMPARE(differing_pixels(first->matte, expected), 0);
    QVERIFY(first->forward_ms > 0);
    MetricsSnapshot metrics = engine.metrics().snapshot();
    QCOMPARE(metrics.stage(Stage::Matte).count, 1LL);
    QVERIFY(metrics.stage(Stage::Matte).last_ms >= first->forward_ms);

    // The second request is answered by the cache, not the network, with the same pixels.
    first->matte.setTo(0);  // the caller's copy: writing into it must not reach the cache
    auto second = wait(engine.matte(image->id, model->id));
    QVERIFY(second.ok());
    QVERIFY(second->cache_hit);
    QCOMPARE(second->forward_ms, 0.0);
    QCOMPARE(differing_pixels(second->matte, expected), 0);
    metrics = engine.metrics().snapshot();
    QCOMPARE(metrics.stage(Stage::Matte).count, 1LL);
    QCOMPARE(metrics.host_cache.hits, hits_before + 1);

    // The same pixels opened again under another name share the cached matte.
    auto again = wait(engine.open_image(rgb, "renamed"));
    QVERIFY(again.ok());
    auto third = wait(engine.matte(again->id, model->id));
    QVERIFY(third.ok() && third->cache_hit);
}

void TestEngineMatte::preview_size_matte_is_the_downscaled_images() {
    const cv::Mat rgb = u2net_input();
    const int longest = std::max(rgb.cols, rgb.rows) / 2;
    const cv::Mat small = image::downscale_for_interactive(rgb, longest);
    QVERIFY(small.cols < rgb.cols);
    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(golden_path("u2netp.pth")));
    auto image = wait(engine.open_image(rgb, "u2net_input"));
    QVERIFY(model.ok() && image.ok());
    MatteOptions options;
    options.longest_side_px = longest;
    auto preview = wait(engine.matte(image->id, model->id, options));
    QVERIFY(preview.ok());
    QCOMPARE(differing_pixels(preview->matte, direct_matte(small)), 0);
    // Another size is another cache entry: the full-resolution matte runs the network.
    auto full = wait(engine.matte(image->id, model->id));
    QVERIFY(full.ok() && !full->cache_hit);
    QCOMPARE(full->matte.size(), rgb.size());
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Matte).count, 2LL);
}

void TestEngineMatte::concurrent_mattes_run_the_model_one_at_a_time() {
    // Four workers ask one model instance for four different images at once: every answer must
    // be the one the model gives alone (a shared instance run by two threads would not be), and
    // each counted once.
    const cv::Mat rgb = u2net_input();
    // The engine sets torch's thread count, and float sums depend on it: the references are
    // computed under the same count, after the engine exists.
    Engine engine(cpu_test_settings(4));
    std::vector<cv::Mat> images, expected;
    for (int i = 0; i < 4; ++i) {
        cv::Mat shifted;
        cv::add(rgb, cv::Scalar::all(10 * i), shifted);
        images.push_back(shifted);
        expected.push_back(direct_matte(shifted));
    }
    auto model = wait(engine.load_model(golden_path("u2netp.pth")));
    QVERIFY(model.ok());
    std::vector<QFuture<Result<MatteResult>>> futures;
    for (int i = 0; i < 4; ++i) {
        auto image = wait(engine.open_image(images[size_t(i)], "shifted" + std::to_string(i)));
        QVERIFY(image.ok());
        futures.push_back(engine.matte(image->id, model->id));
    }
    for (int i = 0; i < 4; ++i) {
        auto matte = wait(futures[size_t(i)]);
        QVERIFY(matte.ok());
        QCOMPARE(differing_pixels(matte->matte, expected[size_t(i)]), 0);
    }
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Matte).count, 4LL);
}

void TestEngineMatte::uncached_and_oversized_mattes_are_not_cached() {
    const cv::Mat rgb = u2net_input();
    {
        // Batches, the CLI and the benchmark visit each image once: uncached mattes neither
        // fill the cache nor are answered by it.
        Engine engine(cpu_test_settings());
        auto model = wait(engine.load_model(golden_path("u2netp.pth")));
        auto image = wait(engine.open_image(rgb, "batch"));
        QVERIFY(model.ok() && image.ok());
        MatteOptions uncached;
        uncached.priority = Priority::Batch;
        uncached.cache = false;
        QVERIFY(wait(engine.matte(image->id, model->id, uncached)).ok());
        QCOMPARE(engine.metrics().snapshot().host_cache.entries, 0LL);
        auto again = wait(engine.matte(image->id, model->id, uncached));
        QVERIFY(again.ok() && !again->cache_hit);
        QVERIFY(wait(engine.matte(image->id, model->id)).ok());  // cached
        QCOMPARE(engine.metrics().snapshot().host_cache.entries, 1LL);
        auto bypass = wait(engine.matte(image->id, model->id, uncached));
        QVERIFY(bypass.ok() && !bypass->cache_hit);
        QCOMPARE(differing_pixels(bypass->matte, again->matte), 0);
        QCOMPARE(engine.metrics().snapshot().stage(Stage::Matte).count, 4LL);
    }
    {
        // The cache has a byte budget: a matte larger than it is not kept.
        EngineSettings tiny = cpu_test_settings();
        tiny.host_cache_bytes = 1024;
        Engine engine(tiny);
        auto model = wait(engine.load_model(golden_path("u2netp.pth")));
        auto image = wait(engine.open_image(rgb, "tiny budget"));
        QVERIFY(model.ok() && image.ok());
        QVERIFY(wait(engine.matte(image->id, model->id)).ok());
        auto again = wait(engine.matte(image->id, model->id));
        QVERIFY(again.ok() && !again->cache_hit);
        QVERIFY(engine.metrics().snapshot().host_cache.bytes <= 1024);
    }
}

void TestEngineMatte::wrong_family_is_refused_with_a_clear_message() {
    Engine engine(cpu_test_settings());
    auto sam = wait(engine.load_model(golden_path("sam_vit_tiny.pth")));
    auto u2 = wait(engine.load_model(golden_path("u2netp.pth")));
    auto image = wait(engine.open_image(u2net_input(), "u2net_input"));
    QVERIFY(sam.ok() && u2.ok() && image.ok());
    auto matte = wait(engine.matte(image->id, sam->id));
    QVERIFY(!matte.ok());
    QCOMPARE(matte.error().kind, ErrorKind::InvalidArgument);
    QVERIFY2(QString::fromStdString(matte.message())
                 .contains("sam_vit_tiny.pth: looks like a "
                           "Segment Anything checkpoint"),
             matte.message().c_str());
    sam::SamPrompt prompt;
    prompt.points = {{10, 10, 1}};
    auto masks = wait(engine.decode(image->id, u2->id, prompt));
    QVERIFY(!masks.ok());
    QVERIFY2(QString::fromStdString(masks.message())
                 .contains("u2netp.pth: looks like a U²-Net background-removal checkpoint"),
             masks.message().c_str());
    auto encoded = wait(engine.encode(image->id, u2->id));
    QVERIFY(!encoded.ok());
    QVERIFY(!wait(engine.matte(image->id, "no such model")).ok());
    QVERIFY(!wait(engine.matte(12345, u2->id)).ok());
}

void TestEngineMatte::benchmark_times_u2net_through_the_engine() {
    // One request with both kinds: SAM's stages for SAM, the matte's for U²-NetP.
    BenchmarkRequest request;
    request.models = {golden_path("sam_vit_tiny.pth"), golden_path("u2netp.pth")};
    request.device = runtime::Device::Cpu;
    request.synthetic_width = 320;
    request.synthetic_height = 240;
    request.iterations = 2;
    request.warmup = 1;
    request.workers = 2;
    request.batch = 2;  // matting families also time batches (remove-bg --batch); SAM ignores it
    auto report = run_benchmark(request);
    QVERIFY2(report.ok(), report.ok() ? "" : report.message().c_str());
    QCOMPARE(int(report->models.size()), 2);
    QCOMPARE(QString::fromStdString(report->models[0].family), QString("sam"));
    QVERIFY(report->models[0].stages.count("encode"));
    const ModelBenchmark& u2 = report->models[1];
    QCOMPARE(QString::fromStdString(u2.family), QString("u2net"));
    QCOMPARE(QString::fromStdString(u2.arch), QString("u2netp"));
    QCOMPARE(QString::fromStdString(u2.device), QString("cpu"));
    for (const char* stage : {"preprocess", "forward", "postprocess", "remove_bg"}) {
        QVERIFY2(u2.stages.count(stage), stage);
        QCOMPARE(u2.stages.at(stage).count, 2);  // every iteration ran the network
    }
    QVERIFY(u2.stages.at("remove_bg").p50_ms >= u2.stages.at("forward").p50_ms);
    QVERIFY(u2.cold_first_request_ms > 0 && u2.images_per_s > 0);
    QVERIFY(u2.stages.count("remove_bg_batch"));
    QCOMPARE(u2.stages.at("remove_bg_batch").count, 2);
    QVERIFY(u2.batch_images_per_s > 0);
    QVERIFY(!report->models[0].stages.count("remove_bg_batch"));
}

// Engine::matte_batch: three images of different sizes in one forward pass padded to four, each
// matte the image's own (one grey level of batched-convolution rounding allowed); errors for a
// SAM model, an unknown id and an empty image.
void TestEngineMatte::batches_are_the_single_mattes() {
    const cv::Mat a = u2net_input();
    const cv::Mat b = *io::read_rgb_image(golden_path("images/coffee.png"));
    cv::Mat c;
    cv::resize(a, c, cv::Size(97, 61));
    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(golden_path("u2netp.pth")));
    QVERIFY(model.ok());
    MatteBatchOptions options;
    options.pad_to = 4;
    auto batch = wait(engine.matte_batch({a, b, c}, model->id, options));
    QVERIFY2(batch.ok(), batch.ok() ? "" : batch.message().c_str());
    QCOMPARE(int(batch->size()), 3);
    const std::vector<cv::Mat> images{a, b, c};
    for (size_t i = 0; i < images.size(); ++i) {
        const cv::Mat single = direct_matte(images[i]);
        const cv::Mat& got = (*batch)[i].matte;
        QCOMPARE(got.size(), images[i].size());
        cv::Mat diff;
        cv::absdiff(got, single, diff);
        double worst = 0;
        cv::minMaxLoc(diff, nullptr, &worst);
        QVERIFY2(worst <= 1 && cv::countNonZero(diff) <= int(got.total() / 100),
                 qPrintable(QString("image %1: %2 pixels differ, by up to %3")
                                .arg(i)
                                .arg(cv::countNonZero(diff))
                                .arg(worst)));
        QVERIFY((*batch)[i].forward_ms > 0);
    }
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Matte).count, 3LL);

    auto sam = wait(engine.load_model(golden_path("sam_vit_tiny.pth")));
    QVERIFY(sam.ok());
    auto wrong = wait(engine.matte_batch({a}, sam->id));
    QVERIFY(!wrong.ok());
    QVERIFY2(wrong.message().find("sam_vit_tiny.pth") != std::string::npos,
             wrong.message().c_str());
    QVERIFY(!wait(engine.matte_batch({a}, "no such model")).ok());
    auto empty = wait(engine.matte_batch({a, cv::Mat()}, model->id));
    QVERIFY(!empty.ok());
    QVERIFY2(empty.message().find("non-empty 8-bit RGB") != std::string::npos,
             empty.message().c_str());
}

QTEST_GUILESS_MAIN(TestEngineMatte)
#include "test_engine_matte.moc"
