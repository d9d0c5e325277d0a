// The engine end to end: coalescing, cancellation, priorities, caches, fallback, bounded memory.
// ATen before Qt: Qt's `slots` macro breaks ATen's IValue::slots().
#include "sam_fixtures.h"

#include <QSemaphore>
#include <QTemporaryDir>
#include <QtTest>
#include <opencv2/core.hpp>

#include <atomic>

#include "engine/engine.h"
#include "engine/metrics.h"
#include "future_result.h"
#include "golden_dir.h"
#include "io/image_reader.h"

using namespace ps;
using namespace ps::engine;

namespace {

EngineSettings test_settings(int workers = 2) {
    EngineSettings s;
    s.max_workers = workers;
    s.host_cache_bytes = 64LL << 20;
    s.device = runtime::Device::Cpu;
    return s;
}

cv::Mat random_image(int width, int height, int seed) {
    cv::Mat image(height, width, CV_8UC3);
    cv::RNG rng(seed);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    return image;
}

sam::SamPrompt point_prompt(double x, double y) {
    sam::SamPrompt prompt;
    prompt.points = {{x, y, 1}};
    prompt.multimask = false;
    return prompt;
}

// Occupies every pool thread until release() so that queued work waits.
struct PoolBlocker {
    PoolBlocker(JobScheduler& scheduler, int threads) : threads_(threads) {
        for (int i = 0; i < threads; ++i) {
            scheduler.start(Priority::Interactive, [this] {
                started_.release();
                gate_.acquire();
            });
        }
        started_.acquire(threads);
    }
    void release() { gate_.release(threads_); }
    int threads_;
    QSemaphore started_, gate_;
};

}  // namespace

class TestEngine : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void burst_of_decodes_delivers_only_the_newest();
    void closing_an_image_cancels_its_queued_work();
    void priorities_order_a_busy_pool();
    void cached_image_answers_a_click_without_the_encoder();
    void disk_cache_survives_restart_and_ignores_corruption();
    void unavailable_device_reports_the_fallback();
    void memory_stays_bounded_over_200_images();
    void warm_loading_preloads_configured_models();

  private:
    QTemporaryDir dir_;
    std::string golden_model_, mini_model_;
};

void TestEngine::initTestCase() {
    golden_model_ = golden_path("sam_vit_tiny.pth");
    mini_model_ = write_sam_checkpoint(dir_.path(), custom_vit_config(16), 11);
    QVERIFY(!mini_model_.empty());
}

void TestEngine::burst_of_decodes_delivers_only_the_newest() {
    Engine engine(test_settings());
    auto model = wait(engine.load_model(golden_model_));
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    auto image = wait(engine.open_image(golden_path("images/coffee.png")));
    QVERIFY(image.ok());
    QVERIFY(wait(engine.encode(image->id, model->id)).ok());

    std::vector<QFuture<Result<sam::SamMaskSet>>> futures;
    for (int i = 0; i < 100; ++i) {
        futures.push_back(engine.decode(image->id, model->id, point_prompt(100 + 4 * i, 150)));
    }
    int delivered = 0;
    for (int i = 0; i < 100; ++i) {
        futures[i].waitForFinished();  // every future resolves
        const auto& result = futures[i].result();
        if (result.ok()) {
            ++delivered;
            QCOMPARE(i, 99);  // only the newest may carry masks
        } else {
            QCOMPARE(result.error().kind, ErrorKind::Superseded);
        }
    }
    QCOMPARE(delivered, 1);
    // And it is the newest prompt's answer, not a stale one.
    auto direct = wait(engine.decode(image->id, model->id, point_prompt(100 + 4 * 99, 150), 1));
    QVERIFY(direct.ok());
    const cv::Mat difference = futures[99].result()->masks[0] != direct->masks[0];
    QCOMPARE(cv::countNonZero(difference), 0);
}

void TestEngine::closing_an_image_cancels_its_queued_work() {
    Engine engine(test_settings(1));
    auto model = wait(engine.load_model(mini_model_));
    QVERIFY(model.ok());
    auto image = wait(engine.open_image(random_image(320, 240, 1), "queued.png"));
    QVERIFY(image.ok());
    PoolBlocker blocker(engine.scheduler(), 1);
    auto encode = engine.encode(image->id, model->id, Priority::Preencode);
    engine.close_image(image->id);
    blocker.release();
    encode.waitForFinished();
    QVERIFY(!encode.result().ok());
    QCOMPARE(encode.result().error().kind, ErrorKind::Cancelled);
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Encode).count, 0LL);
    // A closed image id is refused at once.
    auto late = wait(engine.encode(image->id, model->id));
    QVERIFY(!late.ok());
}

void TestEngine::priorities_order_a_busy_pool() {
    JobScheduler scheduler(1);
    PoolBlocker blocker(scheduler, 1);
    std::mutex mutex;
    std::vector<Priority> order;
    std::vector<QFuture<Result<Ok>>> futures;
    for (Priority p : {Priority::Batch, Priority::Preencode, Priority::Interactive,
                       Priority::EncodeVisible, Priority::Batch, Priority::Interactive}) {
        futures.push_back(scheduler.submit<Ok>(p, nullptr, [&, p]() -> Result<Ok> {
            std::lock_guard<std::mutex> lock(mutex);
            order.push_back(p);
            return Ok{};
        }));
    }
    blocker.release();
    for (auto& f : futures) f.waitForFinished();
    const std::vector<Priority> expected{Priority::Interactive,   Priority::Interactive,
                                         Priority::EncodeVisible, Priority::Preencode,
                                         Priority::Batch,         Priority::Batch};
    QVERIFY(order == expected);
}

void TestEngine::cached_image_answers_a_click_without_the_encoder() {
    Engine engine(test_settings());
    auto model = wait(engine.load_model(mini_model_));
    QVERIFY(model.ok());
    const cv::Mat pixels = random_image(300, 200, 2);
    auto first = wait(engine.open_image(pixels, "a.png"));
    QVERIFY(first.ok());
    auto encoded = wait(engine.encode(first->id, model->id));
    QVERIFY(encoded.ok());
    QCOMPARE(QString::fromStdString(encoded->source), QString("encoder"));
    QVERIFY(wait(engine.decode(first->id, model->id, point_prompt(50, 60))).ok());
    // The same pixels under another name (a renamed copy) hit the cache.
    auto copy = wait(engine.open_image(pixels, "renamed copy.png"));
    QVERIFY(copy.ok());
    QCOMPARE(copy->content_hash, first->content_hash);
    QVERIFY(wait(engine.decode(copy->id, model->id, point_prompt(70, 20))).ok());
    const MetricsSnapshot m = engine.metrics().snapshot();
    QCOMPARE(m.stage(Stage::Encode).count, 1LL);
    QCOMPARE(m.stage(Stage::MaskDecode).count, 2LL);
    QVERIFY(m.host_cache.hits >= 2);
    // Other pixels miss.
    auto other = wait(engine.open_image(random_image(300, 200, 3), "b.png"));
    QVERIFY(wait(engine.decode(other->id, model->id, point_prompt(10, 10))).ok());
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Encode).count, 2LL);
}

void TestEngine::disk_cache_survives_restart_and_ignores_corruption() {
    QTemporaryDir folder;
    const cv::Mat pixels = random_image(200, 150, 4);
    {
        Engine engine(test_settings());
        QVERIFY(engine.enable_disk_cache(folder.path()).ok());
        auto model = wait(engine.load_model(mini_model_));
        auto image = wait(engine.open_image(pixels, "x.png"));
        QCOMPARE(QString::fromStdString(wait(engine.encode(image->id, model->id))->source),
                 QString("encoder"));
    }
    const QString store = folder.path() + "/.photosynth/embeddings";
    const QStringList files = QDir(store).entryList(QDir::Files);
    QCOMPARE(files.size(), 1);
    {
        Engine engine(test_settings());  // "tomorrow": a fresh process, empty memory cache
        QVERIFY(engine.enable_disk_cache(folder.path()).ok());
        auto model = wait(engine.load_model(mini_model_));
        auto image = wait(engine.open_image(pixels, "x.png"));
        auto encoded = wait(engine.encode(image->id, model->id));
        QCOMPARE(QString::fromStdString(encoded->source), QString("disk cache"));
        QCOMPARE(engine.metrics().snapshot().stage(Stage::Encode).count, 0LL);
        QVERIFY(wait(engine.decode(image->id, model->id, point_prompt(20, 30))).ok());
    }
    // Corrupt the stored entry: it is ignored and rebuilt by the encoder.
    QFile file(store + "/" + files[0]);
    QVERIFY(file.open(QIODevice::ReadWrite));
    file.seek(file.size() / 2);
    const char byte = file.peek(1)[0];
    file.write(QByteArray(1, char(byte ^ 0x5a)));
    file.close();
    {
        Engine engine(test_settings());
        QVERIFY(engine.enable_disk_cache(folder.path()).ok());
        auto model = wait(engine.load_model(mini_model_));
        auto image = wait(engine.open_image(pixels, "x.png"));
        auto encoded = wait(engine.encode(image->id, model->id));
        QCOMPARE(QString::fromStdString(encoded->source), QString("encoder"));
        QCOMPARE(engine.metrics().snapshot().stage(Stage::Encode).count, 1LL);
    }
}

void TestEngine::unavailable_device_reports_the_fallback() {
    EngineSettings settings = test_settings();
    settings.device = runtime::Device::Cuda;
    Engine engine(settings);
    auto model = wait(engine.load_model(mini_model_));
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    const MetricsSnapshot m = engine.metrics().snapshot();
    QCOMPARE(m.device, model->device);
    if (runtime::cuda_available()) {
        QVERIFY(model->device.rfind("cuda", 0) == 0);
        QVERIFY(model->fallback_reason.empty());
    } else {
        QCOMPARE(QString::fromStdString(model->device), QString("cpu"));
        QVERIFY2(QString::fromStdString(model->fallback_reason).contains("CUDA requested"),
                 model->fallback_reason.c_str());
        QCOMPARE(m.fallback_reason, model->fallback_reason);
    }
}

void TestEngine::memory_stays_bounded_over_200_images() {
    EngineSettings settings = test_settings();
    settings.host_cache_bytes = 4LL << 20;
    // A mini entry: the embedding (64x16x16 fp32 = 64 KB) and the decoder's three per-image
    // projections (16x16 x 32 fp32 each = 96 KB): room for 25.
    constexpr long long entry_bytes = 64 * 16 * 16 * 4 + 3 * 16 * 16 * 32 * 4;
    const long long room = settings.host_cache_bytes / entry_bytes;
    Engine engine(settings);
    auto model = wait(engine.load_model(mini_model_));
    QVERIFY(model.ok());
    // Warm up allocator pools before taking the baseline.
    for (int i = 0; i < 20; ++i) {
        auto image = wait(engine.open_image(random_image(640, 480, 1000 + i), "warm"));
        QVERIFY(wait(engine.encode(image->id, model->id)).ok());
        engine.close_image(image->id);
    }
    const long long baseline = sample_memory().rss_bytes.value_or(0);
    long long halfway = 0;
    for (int i = 0; i < 200; ++i) {
        if (i == 100) halfway = sample_memory().rss_bytes.value_or(0);
        auto image = wait(engine.open_image(random_image(640, 480, i), "generated"));
        QVERIFY(image.ok());
        QVERIFY(wait(engine.encode(image->id, model->id)).ok());
        engine.close_image(image->id);
    }
    const MetricsSnapshot m = engine.metrics().snapshot();
    QCOMPARE(m.stage(Stage::Encode).count, 220LL);
    QVERIFY(m.host_cache.bytes <= settings.host_cache_bytes);
    QCOMPARE(m.host_cache.entries, room);
    QCOMPARE(m.host_cache.evictions, 220LL - room);
    // Budget + a stated margin of 32 MB for allocator slack and thread stacks.
    const long long grown = sample_memory().rss_bytes.value_or(0) - baseline;
    qInfo("RSS grew by %.1f MB over 200 images (cache budget %.1f MB)", grown / 1048576.0,
          settings.host_cache_bytes / 1048576.0);
    QVERIFY2(grown < settings.host_cache_bytes + (32LL << 20),
             qPrintable(QString("RSS grew by %1 bytes").arg(grown)));
    // Bounded, not merely small: the second hundred images must not keep growing memory.
    const long long late_growth = sample_memory().rss_bytes.value_or(0) - halfway;
    qInfo("RSS grew by %.1f MB over the last 100 images", late_growth / 1048576.0);
    QVERIFY2(late_growth < (12LL << 20),
             qPrintable(QString("late growth %1 bytes").arg(late_growth)));
}

void TestEngine::warm_loading_preloads_configured_models() {
    EngineSettings settings = test_settings();
    settings.warm_models = true;
    settings.models = {mini_model_};
    Engine engine(settings);
    QVERIFY(engine.wait_idle(60000));
    QCOMPARE(int(engine.models().size()), 1);
    QCOMPARE(engine.models().front().path, mini_model_);
    const MetricsSnapshot m = engine.metrics().snapshot();
    QVERIFY(m.model_load_ms.has_value() && *m.model_load_ms > 0);
    QVERIFY(!m.first_request_ms.has_value());  // nothing asked yet: no cold request measured
}

QTEST_GUILESS_MAIN(TestEngine)
#include "test_engine.moc"
