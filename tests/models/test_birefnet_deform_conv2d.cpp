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
        // Relative to the largest output (outputs reach ~40: sums of up to 392 random products).
        // bfloat16 rounds the inputs and offsets (a 5-pixel offset by 0.02 pixels) before the
        // float32 computation.
        QTest::newRow("float64") << static_cast<int>(at::kDouble) << 1e-13 << false;
        QTest::newRow("float32") << static_cast<int>(at::kFloat) << 5e-6 << false;
        QTest::newRow("bfloat16") << static_cast<int>(at::kBFloat16) << 0.06 << false;
        // On the GPU machine: the im2col kernel (columns and GEMM in the input's precision, so
        // bfloat16 also rounds the columns), and float64 through the ATen path.
        if (runtime::cuda_available()) {
            QTest::newRow("cuda float64") << static_cast<int>(at::kDouble) << 1e-13 << true;
            QTest::newRow("cuda float32") << static_cast<int>(at::kFloat) << 5e-6 << true;
            QTest::newRow("cuda bfloat16") << static_cast<int>(at::kBFloat16) << 0.06 << true;
        }
    }
    void matches_torchvision() {
        QFETCH(int, dtype);
        QFETCH(double, tolerance);
        QFETCH(bool, cuda);
        const auto type = static_cast<at::ScalarType>(dtype);
        const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
        const auto on = [&](const at::Tensor& t) { return t.to(device, type); };
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

    // Convolutions in half precision on CUDA leave channels-last maps, which reach the GPU
    // kernel's NCHW reads. Same answer as from NCHW maps, in float64 through the ATen path here
    // and float32 through the kernel on the GPU machine, for 2 images and 2 offset groups.
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
        const double diff = (nchw - nhwc).abs().max().item<double>();
        QVERIFY2(diff <= (cuda ? 1e-5 : 1e-12), QByteArray::number(diff).constData());
    }

    void inconsistent_shapes_are_refused() {
        QVERIFY_EXCEPTION_THROWN(
            runtime::deform_conv2d(at::zeros({1, 4, 5, 5}), at::zeros({1, 17, 5, 5}),
                                   at::zeros({2, 4, 3, 3}), at::Tensor(), at::Tensor(),
                                   {1, 1, 1, 1}),
            std::invalid_argument);
    }
};

QTEST_MAIN(TestBirefnetDeformConv2d)
#include "test_birefnet_deform_conv2d.moc"
