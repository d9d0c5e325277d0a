// EngineSettings::from_environment: the one reader of the PHOTOSYNTH_* variables. Each variable
// set with qputenv reaches its field; invalid values keep the default with a warning naming them.
#include <QRegularExpression>
#include <QtTest>

#include <climits>
#include <thread>

#include "engine/engine_settings.h"
#include "image/downscale.h"
#include "io/image_corpus.h"  // corpus::ScopedEnv

using corpus::ScopedEnv;
using ps::engine::EngineSettings;

namespace {

const char* const kVariables[] = {"PHOTOSYNTH_MAX_WORKERS",
                                  "PHOTOSYNTH_EMBED_CACHE_MB",
                                  "PHOTOSYNTH_DOWNSCALE_MAX",
                                  "PHOTOSYNTH_DEVICE",
                                  "PHOTOSYNTH_PRECISION",
                                  "PHOTOSYNTH_WARM_MODEL",
                                  "PHOTOSYNTH_MODELS",
                                  "PHOTOSYNTH_SLOW_MS",
                                  "PHOTOSYNTH_CPU_HUGE_PAGES",
                                  "PHOTOSYNTH_MAX_FILE_MB",
                                  "PHOTOSYNTH_MAX_PIXELS",
                                  "PHOTOSYNTH_CUDA_GRAPHS",
                                  "PHOTOSYNTH_CUDNN_BENCHMARK",
                                  "PHOTOSYNTH_VIT_KERNELS",
                                  "PHOTOSYNTH_CUDNN_CONV_RELU",
                                  "PHOTOSYNTH_CONV_NORM_KERNELS",
                                  "PHOTOSYNTH_ENCODE_AHEAD_FIRST",
                                  "PHOTOSYNTH_DEFORM_SHARED_SAMPLING",
                                  "PHOTOSYNTH_HIERA_WINDOW_ATTENTION",
                                  "PHOTOSYNTH_ATTENTION_MERGE_KERNEL"};

}  // namespace

class TestEngineSettings : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() {
        for (const char* name : kVariables) qunsetenv(name);
    }

    void defaults_without_environment() {
        const EngineSettings s = EngineSettings::from_environment();
        QCOMPARE(s.max_workers, std::max(1, int(std::thread::hardware_concurrency())));
        QCOMPARE(s.host_cache_bytes, EngineSettings::kAutomaticCache);
        QCOMPARE(s.downscale_max, ps::image::kDefaultDownscaleMax);
        QCOMPARE(s.device, ps::runtime::Device::Auto);
        QCOMPARE(s.precision, ps::runtime::Precision::Fp32);
        QVERIFY(!s.warm_models);
        QVERIFY(s.models.empty());
        QCOMPARE(s.slow_ms, 2000.0);
        QVERIFY(s.cpu_huge_pages);
        QVERIFY(s.gpu.cuda_graphs && s.gpu.cudnn_benchmark && s.gpu.vit_kernels &&
                s.gpu.cudnn_conv_relu);
        QCOMPARE(s.image_read.max_file_bytes,
                 ps::io::ImageReadOptions::kDefaultMaxFileMegabytes * 1024 * 1024);
        QCOMPARE(s.image_read.max_pixels, ps::io::ImageReadOptions::kDefaultMaxPixels);
    }

    void reads_each_variable() {
        const ScopedEnv workers("PHOTOSYNTH_MAX_WORKERS", "3");
        const ScopedEnv cache("PHOTOSYNTH_EMBED_CACHE_MB", " 123 ");
        const ScopedEnv downscale("PHOTOSYNTH_DOWNSCALE_MAX", "2048");
        const ScopedEnv device("PHOTOSYNTH_DEVICE", "cpu");
        const ScopedEnv precision("PHOTOSYNTH_PRECISION", "bf16");
        const ScopedEnv warm("PHOTOSYNTH_WARM_MODEL", "1");
        const ScopedEnv models("PHOTOSYNTH_MODELS", "/m/a.pth::/m/b.pth");
        const ScopedEnv slow("PHOTOSYNTH_SLOW_MS", "5");
        const ScopedEnv huge("PHOTOSYNTH_CPU_HUGE_PAGES", "0");
        const ScopedEnv file_mb("PHOTOSYNTH_MAX_FILE_MB", "7");
        const ScopedEnv pixels("PHOTOSYNTH_MAX_PIXELS", "1000");
        const ScopedEnv graphs("PHOTOSYNTH_CUDA_GRAPHS", "0");
        const ScopedEnv benchmark("PHOTOSYNTH_CUDNN_BENCHMARK", "0");
        const ScopedEnv kernels("PHOTOSYNTH_VIT_KERNELS", "0");
        const ScopedEnv conv_relu("PHOTOSYNTH_CUDNN_CONV_RELU", "0");
        const EngineSettings s = EngineSettings::from_environment();
        QCOMPARE(s.max_workers, 3);
        QCOMPARE(s.host_cache_bytes, 123LL * 1024 * 1024);
        QCOMPARE(s.downscale_max, 2048);
        QCOMPARE(s.device, ps::runtime::Device::Cpu);
        QCOMPARE(s.precision, ps::runtime::Precision::Bf16);
        QVERIFY(s.warm_models);
        QCOMPARE(s.models, (std::vector<std::string>{"/m/a.pth", "/m/b.pth"}));
        QCOMPARE(s.slow_ms, 5.0);
        QVERIFY(!s.cpu_huge_pages);
        QCOMPARE(s.image_read.max_file_bytes, 7LL * 1024 * 1024);
        QCOMPARE(s.image_read.max_pixels, 1000LL);
        QVERIFY(!s.gpu.cuda_graphs);
        QVERIFY(!s.gpu.cudnn_benchmark);
        QVERIFY(!s.gpu.vit_kernels);
        QVERIFY(!s.gpu.cudnn_conv_relu);
    }

    void zero_means_off() {
        const ScopedEnv cache("PHOTOSYNTH_EMBED_CACHE_MB", "0");
        const ScopedEnv downscale("PHOTOSYNTH_DOWNSCALE_MAX", "0");
        const ScopedEnv slow("PHOTOSYNTH_SLOW_MS", "0");
        const EngineSettings s = EngineSettings::from_environment();
        QCOMPARE(s.host_cache_bytes, 0LL);  // no host cache, not the automatic budget
        QCOMPARE(s.downscale_max, 0);
        QCOMPARE(s.slow_ms, 0.0);
    }

    void switches_turn_off_only_with_zero() {
        const ScopedEnv huge("PHOTOSYNTH_CPU_HUGE_PAGES", "1");
        const ScopedEnv graphs("PHOTOSYNTH_CUDA_GRAPHS", "off");  // only "0" turns a path off
        const ScopedEnv warm("PHOTOSYNTH_WARM_MODEL", "yes");
        const EngineSettings s = EngineSettings::from_environment();
        QVERIFY(s.cpu_huge_pages);
        QVERIFY(s.gpu.cuda_graphs);
        QVERIFY(!s.warm_models);  // only "1" warms
    }

    // An opt-in switch (a kernel that measured no faster) turns on only with "1"; the others
    // are on unless "0".
    void opt_in_switches_turn_on_only_with_one() {
        {
            const EngineSettings s = EngineSettings::from_environment();
            QVERIFY(!s.gpu.conv_norm_kernels);
            QVERIFY(!s.gpu.encode_ahead_first);
            QVERIFY(!s.gpu.deform_shared_sampling);
            QVERIFY(s.gpu.hiera_window_attention);
            QVERIFY(s.gpu.attention_merge_kernel);
        }
        {
            const ScopedEnv conv("PHOTOSYNTH_CONV_NORM_KERNELS", "yes");
            const ScopedEnv hiera("PHOTOSYNTH_HIERA_WINDOW_ATTENTION", "0");
            const ScopedEnv merge("PHOTOSYNTH_ATTENTION_MERGE_KERNEL", "0");
            const EngineSettings s = EngineSettings::from_environment();
            QVERIFY(!s.gpu.conv_norm_kernels);
            QVERIFY(!s.gpu.hiera_window_attention);
            QVERIFY(!s.gpu.attention_merge_kernel);
        }
        {
            const ScopedEnv conv("PHOTOSYNTH_CONV_NORM_KERNELS", "1");
            const ScopedEnv first("PHOTOSYNTH_ENCODE_AHEAD_FIRST", "1");
            const ScopedEnv deform("PHOTOSYNTH_DEFORM_SHARED_SAMPLING", "1");
            const EngineSettings s = EngineSettings::from_environment();
            QVERIFY(s.gpu.conv_norm_kernels);
            QVERIFY(s.gpu.encode_ahead_first);
            QVERIFY(s.gpu.deform_shared_sampling);
        }
    }

    void invalid_values_keep_the_default_data() {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("workers zero") << QByteArray("PHOTOSYNTH_MAX_WORKERS") << QByteArray("0");
        QTest::newRow("workers text") << QByteArray("PHOTOSYNTH_MAX_WORKERS") << QByteArray("many");
        for (const char* value : {"lots", "-5", "12.5", "", "99999999999999999999"})
            QTest::addRow("cache %s", value)
                << QByteArray("PHOTOSYNTH_EMBED_CACHE_MB") << QByteArray(value);
        for (const char* value : {"-1", "big", "1024px", "99999999999"})
            QTest::addRow("downscale %s", value)
                << QByteArray("PHOTOSYNTH_DOWNSCALE_MAX") << QByteArray(value);
        QTest::newRow("device") << QByteArray("PHOTOSYNTH_DEVICE") << QByteArray("tpu");
        QTest::newRow("precision") << QByteArray("PHOTOSYNTH_PRECISION") << QByteArray("fp8");
        QTest::newRow("slow text") << QByteArray("PHOTOSYNTH_SLOW_MS") << QByteArray("fast");
        QTest::newRow("slow negative") << QByteArray("PHOTOSYNTH_SLOW_MS") << QByteArray("-1");
        QTest::newRow("file mb") << QByteArray("PHOTOSYNTH_MAX_FILE_MB") << QByteArray("0");
        QTest::newRow("pixels") << QByteArray("PHOTOSYNTH_MAX_PIXELS") << QByteArray("x");
    }
    void invalid_values_keep_the_default() {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, value);
        const EngineSettings defaults = EngineSettings::from_environment();
        const ScopedEnv env(name.constData(), value);
        // An empty value counts as unset for the variables read with qgetenv().isEmpty().
        if (!value.isEmpty() || name == "PHOTOSYNTH_EMBED_CACHE_MB")
            QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QString::fromLatin1(name)));
        const EngineSettings s = EngineSettings::from_environment();
        QCOMPARE(s.max_workers, defaults.max_workers);
        QCOMPARE(s.host_cache_bytes, defaults.host_cache_bytes);
        QCOMPARE(s.downscale_max, defaults.downscale_max);
        QCOMPARE(s.device, defaults.device);
        QCOMPARE(s.precision, defaults.precision);
        QCOMPARE(s.slow_ms, defaults.slow_ms);
        QCOMPARE(s.image_read.max_file_bytes, defaults.image_read.max_file_bytes);
        QCOMPARE(s.image_read.max_pixels, defaults.image_read.max_pixels);
    }
};

QTEST_GUILESS_MAIN(TestEngineSettings)
#include "test_engine_settings.moc"
