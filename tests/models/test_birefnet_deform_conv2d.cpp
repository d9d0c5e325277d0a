// runtime::deform_conv2d against torchvision.ops.deform_conv2d's semantics (the golden stand-in,
// itself checked against torchvision: tests/data/birefnet/README.md) in float64 and float32, and
// two cases whose answer is known by construction (zero offsets = conv2d; a whole-pixel offset =
// a shifted convolution).
#include <ATen/ATen.h>

#include "io/checkpoint.h"
#include "models/runtime/deform_conv2d.h"
#include "models/runtime/device.h"

#include <QtTest>

#include "test_data.h"

using namespace ps;

class TestBirefnetDeformConv2d : public QObject {
    Q_OBJECT

  private slots:
    void matches_torchvision_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<double>("tolerance");
        QTest::addColumn<bool>("cuda");
        QTest::addColumn<bool>("channels_last");
        // Relative to the largest output (outputs reach ~40: sums of up to 392 random products).
        // bfloat16 rounds the inputs and offsets (a 5-pixel offset by 0.02 pixels) before the
        // float32 computation. Channels-last maps of one group take the pixel-major im2col (on
        // the CPU its twin, packs of 2 doubles or 4 floats where the channels allow: cases 0-2,
        // single channels: case 4); case 3 (two groups) the ATen path.
        const int f64 = static_cast<int>(at::kDouble), f32 = static_cast<int>(at::kFloat),
                  bf16 = static_cast<int>(at::kBFloat16);
        QTest::newRow("float64") << f64 << 1e-13 << false << false;
        QTest::newRow("float32") << f32 << 5e-6 << false << false;
        QTest::newRow("bfloat16") << bf16 << 0.06 << false << false;
        QTest::newRow("float64 channels-last") << f64 << 1e-13 << false << true;
        QTest::newRow("float32 channels-last") << f32 << 5e-6 << false << true;
        QTest::newRow("bfloat16 channels-last") << bf16 << 0.06 << false << true;
        // On the GPU machine: the im2col kernels (columns and GEMM in the input's precision, so
        // bfloat16 also rounds the columns; channels-last: the pixel-major kernel, packs of 4
        // floats or 8 bfloat16), and float64 through the ATen path.
        if (runtime::cuda_available()) {
            QTest::newRow("cuda float64") << f64 << 1e-13 << true << false;
            QTest::newRow("cuda float32") << f32 << 5e-6 << true << false;
            QTest::newRow("cuda bfloat16") << bf16 << 0.06 << true << false;
            QTest::newRow("cuda float32 channels-last") << f32 << 5e-6 << true << true;
            QTest::newRow("cuda bfloat16 channels-last") << bf16 << 0.06 << true << true;
        }
    }
    void matches_torchvision() {
        QFETCH(int, dtype);
        QFETCH(double, tolerance);
        QFETCH(bool, cuda);
        QFETCH(bool, channels_last);
        const auto type = static_cast<at::ScalarType>(dtype);
        const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
        const at::MemoryFormat format =
            channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
        const auto on = [&](const at::Tensor& t) {
            const at::Tensor placed = t.to(device, type);
            return placed.dim() == 4 ? placed.contiguous(format) : placed;
        };
        auto file =
            io::load_checkpoint(test_data_path("birefnet", "deform_conv2d_cases.safetensors"));
        QVERIFY2(file.ok(), file.ok() ? "" : file.message().c_str());
        const io::TensorMap& t = file->tensors;
        int cases = 0;
        for (;; ++cases) {
            const std::string p = "case" + std::to_string(cases) + ".";
            if (!t.count(p + "input")) break;
            const at::Tensor geometry = t.at(p + "geometry");
            runtime::DeformConvGeometry g;
            g.stride_h = g.stride_w = geometry[0].item<int64_t>();
            g.pad_h = g.pad_w = geometry[1].item<int64_t>();
            g.dilation_h = g.dilation_w = geometry[2].item<int64_t>();
            const at::Tensor mask = t.count(p + "mask") ? on(t.at(p + "mask")) : at::Tensor();
            const at::Tensor got =
                runtime::deform_conv2d(on(t.at(p + "input")), on(t.at(p + "offset")),
                                       on(t.at(p + "weight")), on(t.at(p + "bias")), mask, g)
                    .cpu();
            QCOMPARE(got.scalar_type(), type);
            // The pixel-major path (one group) writes the channels-last output directly.
            const bool one_group = t.at(p + "weight").size(1) == t.at(p + "input").size(1);
            QVERIFY(!(channels_last && one_group) ||
                    got.suggest_memory_format() == at::MemoryFormat::ChannelsLast);
            const at::Tensor& expected = t.at(p + "output");
            QCOMPARE(got.sizes(), expected.sizes());
            const double diff = (got.to(at::kDouble) - expected).abs().max().item<double>() /
                                expected.abs().max().item<double>();
            qInfo("case %d: max |diff| / max |output| %.3g (tolerance %.3g)", cases, diff,
                  tolerance);
            QVERIFY(diff <= tolerance);
        }
        QCOMPARE(cases, 5);
    }

    void zero_offsets_are_a_convolution() {
        at::manual_seed(1);
        const at::Tensor x = at::randn({1, 5, 9, 8}, at::kDouble);
        const at::Tensor w = at::randn({4, 5, 3, 3}, at::kDouble);
        const at::Tensor b = at::randn({4}, at::kDouble);
        runtime::DeformConvGeometry g;
        g.pad_h = g.pad_w = 1;
        const at::Tensor got =
            runtime::deform_conv2d(x, at::zeros({1, 18, 9, 8}, at::kDouble), w, b, at::Tensor(), g);
        const at::Tensor expected = at::conv2d(x, w, b, 1, 1);
        QVERIFY((got - expected).abs().max().item<double>() < 1e-12);
    }

    void a_whole_pixel_offset_shifts_the_input() {
        // dx = +1 at every tap of a 1 x 1 kernel reads the right neighbour; the last column reads
        // outside the image and is 0. The mask scales it.
        const at::Tensor x = at::arange(12, at::kDouble).view({1, 1, 3, 4});
        at::Tensor offset = at::zeros({1, 2, 3, 4}, at::kDouble);
        offset.select(1, 1).fill_(1.0);
        const at::Tensor mask = at::full({1, 1, 3, 4}, 0.5, at::kDouble);
        const at::Tensor got = runtime::deform_conv2d(
            x, offset, at::ones({1, 1, 1, 1}, at::kDouble), at::Tensor(), mask, {});
        const at::Tensor expected =
            at::tensor({0.5, 1.0, 1.5, 0.0, 2.5, 3.0, 3.5, 0.0, 4.5, 5.0, 5.5, 0.0}, at::kDouble)
                .view({1, 1, 3, 4});
        QVERIFY(at::equal(got, expected));
    }

    // Convolutions in half precision on CUDA leave channels-last maps, which take the
    // pixel-major im2col. Same answer as from NCHW maps, in float64 (its CPU twin against the
    // ATen path) here and float32 (against the NCHW kernel) on the GPU machine, for 2 images and
    // 2 offset groups.
    void channels_last_maps_give_the_same_result_data() {
        QTest::addColumn<bool>("cuda");
        QTest::newRow("cpu") << false;
        if (runtime::cuda_available()) QTest::newRow("cuda") << true;
    }
    void channels_last_maps_give_the_same_result() {
        QFETCH(bool, cuda);
        const at::TensorOptions options =
            at::TensorOptions(cuda ? at::kFloat : at::kDouble)
                .device(cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU));
        at::manual_seed(2);
        const at::Tensor x = at::randn({2, 8, 9, 11}, options);
        const at::Tensor offset = at::randn({2, 2 * 2 * 9, 9, 11}, options).mul_(2);
        const at::Tensor mask = at::rand({2, 2 * 9, 9, 11}, options);
        const at::Tensor w = at::randn({6, 8, 3, 3}, options);
        const at::Tensor b = at::randn({6}, options);
        runtime::DeformConvGeometry g;
        g.pad_h = g.pad_w = 1;
        const auto last = [](const at::Tensor& t) {
            return t.contiguous(at::MemoryFormat::ChannelsLast);
        };
        const at::Tensor nchw = runtime::deform_conv2d(x, offset, w, b, mask, g);
        const at::Tensor nhwc = runtime::deform_conv2d(last(x), last(offset), w, b, last(mask), g);
        // Relative to the largest output: on the GPU the two kernels' GEMMs sum in different
        // orders (channel-major against tap-major columns).
        const double diff =
            (nchw - nhwc).abs().max().item<double>() / nchw.abs().max().item<double>();
        QVERIFY2(diff <= (cuda ? 5e-6 : 1e-13), QByteArray::number(diff).constData());
    }

    // BiRefNet's offsets and modulator are channel slices of one channels-last convolution's
    // output: the pixel-major im2col reads them in place at their strides. Same answer as from
    // contiguous NCHW copies (the ATen path here, the NCHW kernel on the GPU machine); 13
    // channels: single-channel units; 2 offset groups of 16: packs.
    void sliced_offsets_are_read_in_place_data() {
        QTest::addColumn<bool>("cuda");
        QTest::addColumn<int>("channels");
        QTest::newRow("cpu packs") << false << 32;
        QTest::newRow("cpu single channels") << false << 13;
        if (runtime::cuda_available()) {
            QTest::newRow("cuda packs") << true << 32;
            QTest::newRow("cuda single channels") << true << 13;
        }
    }
    void sliced_offsets_are_read_in_place() {
        QFETCH(bool, cuda);
        QFETCH(int, channels);
        const at::TensorOptions options =
            at::TensorOptions(cuda ? at::kFloat : at::kDouble)
                .device(cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU));
        const int64_t groups = channels % 2 == 0 ? 2 : 1, taps = 9;
        at::manual_seed(3);
        const auto last = [](const at::Tensor& t) {
            return t.contiguous(at::MemoryFormat::ChannelsLast);
        };
        const at::Tensor x = last(at::randn({1, channels, 10, 13}, options));
        const at::Tensor both =
            last(at::randn({1, 3 * groups * taps + 5, 10, 13}, options).mul_(3));
        const at::Tensor offset = both.slice(1, 0, 2 * groups * taps);
        const at::Tensor mask =
            2. * at::sigmoid(both.slice(1, 2 * groups * taps, 3 * groups * taps));
        const at::Tensor w = last(at::randn({7, channels, 3, 3}, options));
        const at::Tensor b = at::randn({7}, options);
        runtime::DeformConvGeometry g;
        g.pad_h = g.pad_w = 1;
        const at::Tensor got = runtime::deform_conv2d(x, offset, w, b, mask, g);
        QCOMPARE(got.suggest_memory_format(), at::MemoryFormat::ChannelsLast);
        const at::Tensor expected = runtime::deform_conv2d(x.contiguous(), offset.contiguous(),
                                                           w.contiguous(), b, mask.contiguous(), g);
        const double diff =
            (got - expected).abs().max().item<double>() / expected.abs().max().item<double>();
        QVERIFY2(diff <= (cuda ? 5e-6 : 1e-13), QByteArray::number(diff).constData());
    }

    // DeformPredictedOffsets (BiRefNet's branches): the raw channels of the predicting
    // convolution, its biases and the 2 * sigmoid applied as each sample's offsets are read, on
    // the pixel-major path (the CPU twin, the kernel on the GPU machine), against the offsets and
    // mask made first in ATen passes. Two offset groups: the biases are indexed per group and tap.
    void predicted_offsets_data() {
        QTest::addColumn<bool>("cuda");
        QTest::addColumn<bool>("channels_last");
        for (const bool cuda : {false, true}) {
            if (cuda && !runtime::cuda_available()) continue;
            for (const bool last : {false, true})
                QTest::newRow(
                    (std::string(cuda ? "cuda" : "cpu") + (last ? " channels-last" : " NCHW"))
                        .c_str())
                    << cuda << last;
        }
    }
    void predicted_offsets() {
        QFETCH(bool, cuda);
        QFETCH(bool, channels_last);
        const at::TensorOptions options =
            at::TensorOptions(cuda ? at::kFloat : at::kDouble)
                .device(cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU));
        const int64_t groups = 2, taps = 9;
        at::manual_seed(6);
        const auto layout = [channels_last](const at::Tensor& t) {
            return channels_last ? t.contiguous(at::MemoryFormat::ChannelsLast) : t;
        };
        const at::Tensor x = layout(at::randn({2, 16, 9, 11}, options));
        const at::Tensor both = layout(at::randn({2, 3 * groups * taps + 3, 9, 11}, options));
        const at::Tensor raw_offset = both.slice(1, 0, 2 * groups * taps);
        const at::Tensor raw_mask = both.slice(1, 2 * groups * taps, 3 * groups * taps);
        const at::Tensor w = layout(at::randn({8, 16, 3, 3}, options));
        const at::Tensor b = at::randn({8}, options);
        runtime::DeformPredictedOffsets predicted;
        predicted.offset_bias = at::randn({2 * groups * taps}, options).mul_(2);
        predicted.mask_bias = at::randn({groups * taps}, options);
        predicted.mask_sigmoid_scale = 2;
        runtime::DeformConvGeometry g;
        g.pad_h = g.pad_w = 1;
        const at::Tensor got = runtime::deform_conv2d(x, raw_offset, w, b, raw_mask, g, predicted);
        const at::Tensor offset = raw_offset + predicted.offset_bias.view({1, -1, 1, 1});
        const at::Tensor mask =
            2. * at::sigmoid(raw_mask + predicted.mask_bias.view({1, -1, 1, 1}));
        const at::Tensor expected = runtime::deform_conv2d(x, offset, w, b, mask, g);
        const double diff =
            (got - expected).abs().max().item<double>() / expected.abs().max().item<double>();
        QVERIFY2(diff <= (cuda ? 5e-6 : 1e-13), QByteArray::number(diff).constData());
        // A linear mask (scale 0) takes only the bias.
        predicted.mask_sigmoid_scale = 0;
        const at::Tensor linear =
            runtime::deform_conv2d(x, raw_offset, w, b, raw_mask, g, predicted);
        const at::Tensor expected_linear = runtime::deform_conv2d(
            x, offset, w, b, raw_mask + predicted.mask_bias.view({1, -1, 1, 1}), g);
        const double linear_diff = (linear - expected_linear).abs().max().item<double>() /
                                   expected_linear.abs().max().item<double>();
        QVERIFY2(linear_diff <= (cuda ? 5e-6 : 1e-13), QByteArray::number(linear_diff).constData());
    }

    // set_deform_shared_sampling: one lane of each sample's packs works out its sampling point
    // for the others (the GPU machine's channels-last kernel; nothing changes elsewhere). The
    // same arithmetic, so the same bits, for 2 to 16 lanes a sample and one or two offset groups.
    void shared_sampling_changes_nothing_data() {
        QTest::addColumn<bool>("cuda");
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("groups");
        const int f32 = static_cast<int>(at::kFloat), bf16 = static_cast<int>(at::kBFloat16);
        for (const bool cuda : {false, true}) {
            if (cuda && !runtime::cuda_available()) continue;
            const std::string on = cuda ? "cuda" : "cpu";
            QTest::newRow((on + " bf16 64 channels").c_str()) << cuda << bf16 << 64 << 1;
            QTest::newRow((on + " float32 64 channels").c_str()) << cuda << f32 << 64 << 1;
            QTest::newRow((on + " bf16 2 groups of 16").c_str()) << cuda << bf16 << 32 << 2;
        }
    }
    void shared_sampling_changes_nothing() {
        QFETCH(bool, cuda);
        QFETCH(int, dtype);
        QFETCH(int, channels);
        QFETCH(int, groups);
        const at::TensorOptions options =
            at::TensorOptions(static_cast<at::ScalarType>(dtype))
                .device(cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU));
        const int64_t taps = 9;
        at::manual_seed(7);
        const auto last = [](const at::Tensor& t) {
            return t.contiguous(at::MemoryFormat::ChannelsLast);
        };
        // 7 x 13 = 91 pixels: the last warp of units is partly past the end.
        const at::Tensor x = last(at::randn({1, channels, 7, 13}, options));
        const at::Tensor both = last(at::randn({1, 3 * groups * taps, 7, 13}, options).mul_(2));
        const at::Tensor w = last(at::randn({8, channels, 3, 3}, options));
        runtime::DeformPredictedOffsets predicted;
        predicted.offset_bias = at::randn({2 * groups * taps}, options);
        predicted.mask_bias = at::randn({groups * taps}, options);
        predicted.mask_sigmoid_scale = 2;
        runtime::DeformConvGeometry g;
        g.pad_h = g.pad_w = 1;
        const auto run = [&] {
            return runtime::deform_conv2d(x, both.slice(1, 0, 2 * groups * taps), w, at::Tensor(),
                                          both.slice(1, 2 * groups * taps, 3 * groups * taps), g,
                                          predicted);
        };
        const at::Tensor plain = run();
        runtime::set_deform_shared_sampling(true);
        const at::Tensor shared = run();
        runtime::set_deform_shared_sampling(false);
        QVERIFY(at::equal(plain, shared));
    }

    // geometry.relu: max(0, ·) of the plain output, inside the GEMM's epilogue on the
    // channels-last path (with a bias: cuBLASLt's on the GPU machine, bfloat16 there as BiRefNet
    // runs it), a pass of its own on NCHW maps and without a bias.
    void relu_is_max_of_zero_data() {
        QTest::addColumn<bool>("cuda");
        QTest::addColumn<bool>("channels_last");
        QTest::addColumn<bool>("with_bias");
        for (const bool cuda : {false, true}) {
            if (cuda && !runtime::cuda_available()) continue;
            for (const bool last : {false, true})
                for (const bool bias : {false, true})
                    QTest::newRow((std::string(cuda ? "cuda" : "cpu") +
                                   (last ? " channels-last" : " NCHW") +
                                   (bias ? " bias" : " no bias"))
                                      .c_str())
                        << cuda << last << bias;
        }
    }
    void relu_is_max_of_zero() {
        QFETCH(bool, cuda);
        QFETCH(bool, channels_last);
        QFETCH(bool, with_bias);
        const at::TensorOptions options =
            at::TensorOptions(cuda ? at::kBFloat16 : at::kDouble)
                .device(cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU));
        at::manual_seed(4);
        const auto layout = [channels_last](const at::Tensor& t) {
            return channels_last ? t.contiguous(at::MemoryFormat::ChannelsLast) : t;
        };
        const at::Tensor x = layout(at::randn({2, 16, 9, 11}, options));
        const at::Tensor offset = layout(at::randn({2, 2 * 9, 9, 11}, options).mul_(2));
        const at::Tensor mask = layout(at::rand({2, 9, 9, 11}, options));
        const at::Tensor w = layout(at::randn({8, 16, 3, 3}, options));
        const at::Tensor b = with_bias ? at::randn({8}, options) : at::Tensor();
        runtime::DeformConvGeometry g;
        g.pad_h = g.pad_w = 1;
        const at::Tensor plain = runtime::deform_conv2d(x, offset, w, b, mask, g);
        g.relu = true;
        const at::Tensor got = runtime::deform_conv2d(x, offset, w, b, mask, g);
        QCOMPARE(got.sizes(), plain.sizes());
        QVERIFY(got.min().item<double>() >= 0);
        // The same GEMM either way: equal, but on the GPU for where the bias meets the sums
        // (float32 in the epilogue, else after rounding): relative to the largest output.
        const double diff =
            (got.to(at::kDouble) - at::relu(plain).to(at::kDouble)).abs().max().item<double>() /
            plain.abs().max().item<double>();
        QVERIFY2(diff <= (cuda ? 0.01 : 0.0), QByteArray::number(diff).constData());
    }

    void inconsistent_shapes_are_refused() {
        QVERIFY_EXCEPTION_THROWN(
            runtime::deform_conv2d(at::zeros({1, 4, 5, 5}), at::zeros({1, 17, 5, 5}),
                                   at::zeros({2, 4, 3, 3}), at::Tensor(), at::Tensor(),
                                   {1, 1, 1, 1}),
            std::invalid_argument);
        runtime::DeformPredictedOffsets predicted;
        predicted.offset_bias = at::zeros({17});
        QVERIFY_EXCEPTION_THROWN(
            runtime::deform_conv2d(at::zeros({1, 4, 5, 5}), at::zeros({1, 18, 5, 5}),
                                   at::zeros({2, 4, 3, 3}), at::Tensor(), at::Tensor(),
                                   {1, 1, 1, 1}, predicted),
            std::invalid_argument);
    }
};

QTEST_MAIN(TestBirefnetDeformConv2d)
#include "test_birefnet_deform_conv2d.moc"
