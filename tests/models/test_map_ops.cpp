// runtime::resize_concat, resize_add and max_pool_2x2_ceil against the ATen compositions they
// replace (F.interpolate + torch.cat, F.interpolate + add, F.max_pool2d(ceil_mode=True)), run in
// float64 on the CPU: on the CPU they are those compositions; on the GPU machine the CUDA rows
// run the fused channels-last kernels, packed (channels a multiple of 16 bytes) and one value at
// a time (3 channels), in float32, float16 and bfloat16.
#include <ATen/ATen.h>

#include "models/runtime/device.h"
#include "models/runtime/map_ops.h"

#include <QtTest>

#include <cmath>

using namespace ps;

namespace {

// Largest |got - reference| relative to max(|reference|, 1): each output is one rounding of a
// float32 computation on already-rounded inputs, so half an ulp of a half-precision type bounds
// it; in float32 the interpolation weights' own rounding (float32 source indices, as in ATen)
// reaches a few 1e-6.
double relative_error(const at::Tensor& got, const at::Tensor& reference) {
    const at::Tensor g = got.to(at::kCPU, at::kDouble);
    const at::Tensor r = reference.to(at::kCPU, at::kDouble);
    return ((g - r).abs() / r.abs().clamp_min(1.0)).max().item<double>();
}

at::Tensor random_map(int64_t n, int64_t c, int64_t h, int64_t w, at::ScalarType type,
                      at::Device device, uint64_t seed) {
    at::manual_seed(seed);
    return at::randn({n, c, h, w}, at::kDouble)
        .to(device, type)
        .contiguous(at::MemoryFormat::ChannelsLast);
}

at::Tensor reference_resize(const at::Tensor& x, int64_t h, int64_t w, bool align_corners) {
    return at::upsample_bilinear2d(x.to(at::kCPU, at::kDouble), {h, w}, align_corners);
}

}  // namespace

class TestMapOps : public QObject {
    Q_OBJECT

  private slots:
    void matches_aten_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<bool>("cuda");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("cpu float64") << static_cast<int>(at::kDouble) << false << 1e-15;
        QTest::newRow("cpu float32") << static_cast<int>(at::kFloat) << false << 1e-5;
        if (runtime::cuda_available()) {
            QTest::newRow("cuda float32") << static_cast<int>(at::kFloat) << true << 1e-5;
            QTest::newRow("cuda float16") << static_cast<int>(at::kHalf) << true << 0.5 / 1024;
            QTest::newRow("cuda bfloat16") << static_cast<int>(at::kBFloat16) << true << 0.5 / 128;
        }
    }
    void matches_aten() {
        QFETCH(int, dtype);
        QFETCH(bool, cuda);
        QFETCH(double, tolerance);
        const auto type = static_cast<at::ScalarType>(dtype);
        const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
        for (const int64_t channels : {16, 3}) {
            const QByteArray label = QByteArray::number(static_cast<qlonglong>(channels)) + " ch";
            // Up (align_corners False), already the size, a 1 x 1 map (align_corners True: its
            // value everywhere), down: one output of 11 x 13.
            const at::Tensor up = random_map(2, channels, 5, 7, type, device, 1);
            const at::Tensor same = random_map(2, 2 * channels, 11, 13, type, device, 2);
            const at::Tensor dot = random_map(2, channels, 1, 1, type, device, 3);
            const at::Tensor down = random_map(2, channels, 23, 29, type, device, 4);
            const at::Tensor got =
                runtime::resize_concat({{up}, {same}, {dot, true}, {down, true}}, 11, 13);
            const at::Tensor expected =
                at::cat({reference_resize(up, 11, 13, false), same.to(at::kCPU, at::kDouble),
                         reference_resize(dot, 11, 13, true), reference_resize(down, 11, 13, true)},
                        1);
            QCOMPARE(got.sizes(), expected.sizes());
            QVERIFY2(got.device().type() == device.type(), label);
            const double concat_error = relative_error(got, expected);
            QVERIFY2(concat_error <= tolerance,
                     (label + " resize_concat " + QByteArray::number(concat_error)).constData());

            const at::Tensor addend = random_map(2, channels, 12, 12, type, device, 5);
            const at::Tensor small = random_map(2, channels, 6, 6, type, device, 6);
            // F.interpolate returns the element type, then the add rounds again.
            const at::Tensor resized =
                reference_resize(small, 12, 12, true).to(type).to(at::kDouble);
            const at::Tensor sum = runtime::resize_add({small, true}, addend);
            const double add_error =
                relative_error(sum, resized + addend.to(at::kCPU, at::kDouble));
            QVERIFY2(add_error <= 3 * tolerance,
                     (label + " resize_add " + QByteArray::number(add_error)).constData());

            // Odd sizes keep their last row and column; a NaN wins its window, as in ATen.
            at::Tensor pooled_in = random_map(2, channels, 7, 9, type, device, 7);
            pooled_in.index_put_({1, channels - 1, 6, 8}, std::nan(""));
            const at::Tensor pooled = runtime::max_pool_2x2_ceil(pooled_in);
            const at::Tensor pooled_expected = at::max_pool2d(pooled_in.to(at::kCPU, at::kDouble),
                                                              {2, 2}, {2, 2}, {0, 0}, {1, 1}, true);
            QCOMPARE(pooled.sizes(), pooled_expected.sizes());
            const at::Tensor p = pooled.to(at::kCPU, at::kDouble);
            QVERIFY2(std::isnan(p[1][channels - 1][3][4].item<double>()), label);
            QVERIFY2(at::equal(at::nan_to_num(p, 0), at::nan_to_num(pooled_expected, 0)), label);
        }
    }

    // The fused kernels keep the maps channels-last, as ATen's NHWC kernels do, so the next
    // convolution needs no copy.
    void gpu_results_stay_channels_last() {
        if (!runtime::cuda_available()) QSKIP("no CUDA device here; runs on the GPU machine");
        const at::Tensor a = random_map(1, 16, 4, 4, at::kBFloat16, at::kCUDA, 8);
        const at::Tensor b = random_map(1, 16, 8, 8, at::kBFloat16, at::kCUDA, 9);
        QVERIFY(
            runtime::resize_concat({{a}, {b}}, 8, 8).is_contiguous(at::MemoryFormat::ChannelsLast));
        QVERIFY(runtime::max_pool_2x2_ceil(b).is_contiguous(at::MemoryFormat::ChannelsLast));
    }
};

QTEST_GUILESS_MAIN(TestMapOps)
#include "test_map_ops.moc"
