// BatchNorm folding: TinyViT's ConvBatchNorm and U²-Net's REBNCONV against the unfolded ops.
// ATen and our ATen-using headers come before Qt's: Qt's `slots` macro breaks ATen's headers.
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <tuple>

#include "models/runtime/attention_merge.h"
#include "models/runtime/conv_norm.h"
#include "models/runtime/layers.h"
#include "models/runtime/rope_rows.h"
#include "models/runtime/row_layer_norm.h"
#include "models/runtime/rsu_block.h"
#include "models/runtime/weights.h"

#include <QtTest>

using namespace ps;

namespace {

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
}

// Random BatchNorm statistics far from the identity (the variance well away from 1), so that a
// fold that forgot a term could not pass.
void add_batch_norm(std::map<std::string, at::Tensor>& tensors, const std::string& prefix,
                    int64_t channels) {
    tensors[prefix + ".weight"] = at::randn({channels}) * 0.5 + 1.0;
    tensors[prefix + ".bias"] = at::randn({channels});
    tensors[prefix + ".running_mean"] = at::randn({channels}) * 0.3;
    tensors[prefix + ".running_var"] = at::rand({channels}) * 3.0 + 0.05;
}

at::Tensor batch_norm(const at::Tensor& x, const std::map<std::string, at::Tensor>& tensors,
                      const std::string& prefix) {
    return at::batch_norm(x, tensors.at(prefix + ".weight"), tensors.at(prefix + ".bias"),
                          tensors.at(prefix + ".running_mean"), tensors.at(prefix + ".running_var"),
                          /*training=*/false, 0.1, 1e-5, /*cudnn_enabled=*/false);
}

// A convolution's or a norm's parameters on the GPU, for the kernels' rows.
ps::runtime::Conv2d on_gpu(ps::runtime::Conv2d conv) {
    conv.weight = conv.weight.to(at::kCUDA), conv.bias = conv.bias.to(at::kCUDA);
    return conv;
}

ps::runtime::LayerNorm2d on_gpu(ps::runtime::LayerNorm2d norm) {
    norm.weight = norm.weight.to(at::kCUDA), norm.bias = norm.bias.to(at::kCUDA);
    return norm;
}

}  // namespace

class TestLayers : public QObject {
    Q_OBJECT
  private slots:
    void folded_conv_batch_norm_matches_unfolded_data();
    void folded_conv_batch_norm_matches_unfolded();
    void folded_rebnconv_matches_unfolded();
    void fold_keeps_dtype_and_memory_format();
    void fold_keeps_shape_errors();
    void pointwise_fold_matches_two_convolutions();
    void linear_epilogues_data();
    void linear_epilogues();
    void layer_norm_kernel_data();
    void layer_norm_kernel();
    void channel_layer_norm_data();
    void channel_layer_norm();
    void conv_norm_gelu_kernel_data();
    void conv_norm_gelu_kernel();
    void conv_norm_gelu_declines();
    void depthwise_norm_kernel_data();
    void depthwise_norm_kernel();
    void rope_kernel_data();
    void rope_kernel();
    void rope_kernel_declines();
    void attention_merge_kernel_data();
    void attention_merge_kernel();
};

void TestLayers::folded_conv_batch_norm_matches_unfolded_data() {
    QTest::addColumn<int>("in");
    QTest::addColumn<int>("out");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("groups");
    // The shapes TinyViT uses: patch embedding, MBConv's 1x1 and depthwise 3x3, a strided merge.
    QTest::newRow("3x3 stride 2") << 3 << 8 << 3 << 2 << 1;
    QTest::newRow("1x1") << 8 << 32 << 1 << 1 << 1;
    QTest::newRow("depthwise 3x3") << 32 << 32 << 3 << 1 << 32;
    QTest::newRow("depthwise 3x3 stride 2") << 16 << 16 << 3 << 2 << 16;
}

void TestLayers::folded_conv_batch_norm_matches_unfolded() {
    QFETCH(int, in);
    QFETCH(int, out);
    QFETCH(int, kernel);
    QFETCH(int, stride);
    QFETCH(int, groups);
    at::manual_seed(7);
    std::map<std::string, at::Tensor> tensors;
    tensors["layer.c.weight"] = at::randn({out, in / groups, kernel, kernel});
    add_batch_norm(tensors, "layer.bn", out);
    const runtime::Weights w(tensors, "test.safetensors");
    const int64_t padding = kernel / 2;
    const runtime::ConvBatchNorm layer =
        runtime::ConvBatchNorm::load(w, "layer", in, out, kernel, stride, padding, groups);

    const at::Tensor x = at::randn({2, in, 13, 11});
    const at::Tensor conv = at::conv2d(x, tensors["layer.c.weight"], {}, {stride, stride},
                                       {padding, padding}, {1, 1}, groups);
    const at::Tensor expected = batch_norm(conv, tensors, "layer.bn");
    const at::Tensor got = layer(x);
    QCOMPARE(got.sizes(), expected.sizes());
    const double diff = max_abs_diff(got, expected);
    QVERIFY2(diff <= 1e-5, qPrintable(QString("max |diff| %1 > 1e-5").arg(diff)));
}

void TestLayers::folded_rebnconv_matches_unfolded() {
    at::manual_seed(11);
    std::map<std::string, at::Tensor> tensors;
    tensors["block.conv_s1.weight"] = at::randn({12, 6, 3, 3}) * 0.3;
    tensors["block.conv_s1.bias"] = at::randn({12});
    add_batch_norm(tensors, "block.bn_s1", 12);
    const runtime::Weights w(tensors, "test.safetensors");
    const int64_t dilation = 2;
    const runtime::ReBnConv layer = runtime::ReBnConv::load(w, "block", 6, 12, dilation);

    const at::Tensor x = at::randn({1, 6, 17, 10});
    const at::Tensor conv =
        at::conv2d(x, tensors["block.conv_s1.weight"], tensors["block.conv_s1.bias"], {1, 1},
                   {dilation, dilation}, {dilation, dilation}, 1);
    const at::Tensor expected = at::relu(batch_norm(conv, tensors, "block.bn_s1"));
    const at::Tensor got = layer(x);
    QCOMPARE(got.sizes(), expected.sizes());
    // Both signs reach the ReLU, or the test would not see a wrong clamp.
    QVERIFY(expected.eq(0).any().item<bool>() && expected.gt(0).any().item<bool>());
    const double diff = max_abs_diff(got, expected);
    QVERIFY2(diff <= 1e-5, qPrintable(QString("max |diff| %1 > 1e-5").arg(diff)));
}

void TestLayers::fold_keeps_dtype_and_memory_format() {
    // As U²-Net's weights arrive on CUDA in half precision: NHWC, bf16. The fold works in
    // float64 and must hand back the same kind of tensor, rounded once.
    at::manual_seed(3);
    const at::Tensor weight =
        at::randn({8, 4, 3, 3}).to(at::kBFloat16).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor bias = at::randn({8}).to(at::kBFloat16);
    const runtime::BatchNormStats norm{at::ones({8}, at::kBFloat16), at::zeros({8}, at::kBFloat16),
                                       at::zeros({8}, at::kBFloat16),
                                       at::full({8}, 4.0, at::kBFloat16)};
    const runtime::FoldedConv folded = runtime::fold_batch_norm(weight, bias, norm);
    QCOMPARE(folded.weight.scalar_type(), at::kBFloat16);
    QCOMPARE(folded.bias.scalar_type(), at::kBFloat16);
    QVERIFY(folded.weight.is_contiguous(at::MemoryFormat::ChannelsLast));
    QCOMPARE(folded.weight.sizes(), weight.sizes());
    // The scale is 1 / sqrt(4 + 1e-5) = 0.5 * (1 - 1.25e-6),
    // which rounded once to bf16 is exactly half of each value.
    QCOMPARE(max_abs_diff(folded.weight, weight.to(at::kDouble) * 0.5), 0.0);
    QCOMPARE(max_abs_diff(folded.bias, bias.to(at::kDouble) * 0.5), 0.0);
}

void TestLayers::fold_keeps_shape_errors() {
    std::map<std::string, at::Tensor> tensors;
    tensors["layer.c.weight"] = at::randn({8, 3, 3, 3});
    add_batch_norm(tensors, "layer.bn", 8);
    tensors["layer.bn.running_var"] = at::ones({7});
    const runtime::Weights w(tensors, "test.safetensors");
    try {
        runtime::ConvBatchNorm::load(w, "layer", 3, 8, 3, 2, 1, 1);
        QFAIL("a running_var of the wrong length was accepted");
    } catch (const runtime::WeightError& error) {
        QCOMPARE(QString::fromStdString(error.what()),
                 QString("test.safetensors: tensor layer.bn.running_var has shape [7], "
                         "expected [8]"));
    }
}

// BiRefNet's output head: a 3 x 3 convolution with padding (its border rows included) and the
// 1 x 1 one after it, against the two run in float64; also without either bias.
void TestLayers::pointwise_fold_matches_two_convolutions() {
    at::manual_seed(5);
    const at::Tensor x = at::randn({2, 6, 9, 7}, at::kDouble);
    const at::Tensor weight = at::randn({5, 6, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor bias = at::randn({5});
    const at::Tensor pointwise = at::randn({2, 5, 1, 1}), pointwise_bias = at::randn({2});
    const auto wide = [](const at::Tensor& t) {
        return t.defined() ? t.to(at::kDouble) : at::Tensor();
    };
    for (const bool with_biases : {true, false}) {
        const at::Tensor b = with_biases ? bias : at::Tensor();
        const at::Tensor pb = with_biases ? pointwise_bias : at::Tensor();
        const at::Tensor expected =
            at::conv2d(at::conv2d(x, wide(weight), wide(b), 1, 1), wide(pointwise), wide(pb));
        const runtime::FoldedConv folded = runtime::fold_pointwise(weight, b, pointwise, pb);
        QCOMPARE(folded.weight.scalar_type(), at::kFloat);
        QVERIFY(folded.weight.is_contiguous(at::MemoryFormat::ChannelsLast));
        QCOMPARE(folded.weight.sizes(), (at::IntArrayRef{2, 6, 3, 3}));
        const at::Tensor got = at::conv2d(x, wide(folded.weight), wide(folded.bias), 1, 1);
        const double diff = max_abs_diff(got, expected);
        QVERIFY2(diff <= 1e-5, qPrintable(QString("max |diff| %1 > 1e-5").arg(diff)));
    }
}

// Linear::gelu_flat and flat_onto against the separate passes: exactly those on the CPU and in
// float32; on the GPU in bfloat16 (the GPU machine) with the GELU in cuBLASLt's epilogue (tanh
// form, within 3e-4 of erf) and the residual accumulated in the product, within a bfloat16 step
// of outputs up to ~8. Also with the epilogues switched off: the separate passes again.
void TestLayers::linear_epilogues_data() {
    QTest::addColumn<QString>("device");
    QTest::addColumn<int>("dtype");
    QTest::addColumn<double>("tolerance");
    QTest::newRow("cpu float32") << "cpu" << static_cast<int>(at::kFloat) << 0.0;
    QTest::newRow("cpu bfloat16") << "cpu" << static_cast<int>(at::kBFloat16) << 0.0;
    if (at::hasCUDA()) {
        QTest::newRow("cuda float32") << "cuda" << static_cast<int>(at::kFloat) << 1e-5;
        QTest::newRow("cuda bfloat16") << "cuda" << static_cast<int>(at::kBFloat16) << 0.07;
    }
}

void TestLayers::linear_epilogues() {
    QFETCH(QString, device);
    QFETCH(int, dtype);
    QFETCH(double, tolerance);
    const at::TensorOptions on =
        at::TensorOptions()
            .dtype(static_cast<at::ScalarType>(dtype))
            .device(device == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU));
    at::manual_seed(7);
    ps::runtime::Linear fc1{at::randn({64, 32}).mul_(0.2).to(on), at::randn({64}).to(on), {}};
    ps::runtime::Linear fc2{at::randn({32, 64}).mul_(0.1).to(on), at::randn({32}).to(on), {}};
    const at::Tensor x = at::randn({2, 5, 7, 32}).to(on),
                     residual = at::randn({2, 5, 7, 32}).to(on);
    const at::Tensor hidden = at::gelu(fc1.flat(x));
    const at::Tensor expected = residual + fc2.flat(hidden);
    for (const bool enabled : {true, false}) {
        ps::runtime::set_gemm_epilogues(enabled);
        const at::Tensor h = fc1.gelu_flat(x);
        const at::Tensor out = fc2.flat_onto(h, residual + fc2.bias, true);
        const double exact = enabled && ps::runtime::gemm_epilogues(x) ? tolerance : 0.0;
        QCOMPARE(h.sizes(), hidden.sizes());
        QCOMPARE(out.sizes(), expected.sizes());
        const double dh = (h.to(at::kDouble) - hidden.to(at::kDouble)).abs().max().item<double>();
        QVERIFY2(dh <= exact, QByteArray::number(dh));
        // The residual's bias rounded once more (bfloat16) and the add inside the product.
        const double step = on.dtype() == at::kBFloat16 ? 0.07 : 1e-5;
        const double d =
            (out.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
        QVERIFY2(d <= std::max(exact, step), QByteArray::number(d));
        // Without the bias in the residual: the plain residual + product.
        QVERIFY(at::allclose(fc2.flat_onto(h, residual, false).to(at::kDouble),
                             (residual + fc2.flat(h)).to(at::kDouble)));
    }
    ps::runtime::set_gemm_epilogues(true);
}

// Our one-warp-a-row LayerNorm kernel against float64 on the same rounded inputs, at the
// widths of Hiera (96..768), Swin (192..1536 after merging: 1024 the largest taken) and SAM 2's
// memory attention (256), with an offset mean and a spread that make a wrong variance visible.
// Elsewhere (CPU, float32, a width it does not take) it declines and ATen's runs.
void TestLayers::layer_norm_kernel_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("channels");
    if (!at::hasCUDA()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
    for (const int channels : {96, 144, 256, 768, 1024})
        for (const auto& [name, type] :
             {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16}, {"fp16", at::kHalf}})
            QTest::newRow((std::string(name) + " " + std::to_string(channels)).c_str())
                << static_cast<int>(type) << channels;
}

void TestLayers::layer_norm_kernel() {
    QFETCH(int, dtype);
    QFETCH(int, channels);
    const auto type = static_cast<at::ScalarType>(dtype);
    at::manual_seed(11);
    const at::Tensor x = (at::randn({3, 37, channels}, at::kDouble) * 4 + 3).to(type);
    const at::Tensor weight = (at::randn({channels}, at::kDouble) + 1).to(type);
    const at::Tensor bias = at::randn({channels}, at::kDouble).to(type);
    const at::Device cuda(at::kCUDA);
    const at::Tensor got =
        ps::runtime::layer_norm_rows(x.to(cuda), weight.to(cuda), bias.to(cuda), 1e-6);
    QVERIFY(got.defined());
    QCOMPARE(got.scalar_type(), type);
    const at::Tensor expected = at::layer_norm(x.to(at::kDouble), {channels},
                                               weight.to(at::kDouble), bias.to(at::kDouble), 1e-6);
    // One rounding of outputs up to ~|4 w + b|: 2^-8 relative in bfloat16, 2^-11 in float16.
    const double tolerance = type == at::kBFloat16 ? 0.06 : 0.008;
    const double diff = max_abs_diff(got.cpu(), expected);
    qInfo("max |diff| %.3g", diff);
    QVERIFY2(diff <= tolerance, QByteArray::number(diff));
    // Switched off (PHOTOSYNTH_LAYER_NORM_KERNEL=0), float32, an unsupported width: declined.
    ps::runtime::set_layer_norm_kernel(false);
    QVERIFY(
        !ps::runtime::layer_norm_rows(x.to(cuda), weight.to(cuda), bias.to(cuda), 1e-6).defined());
    ps::runtime::set_layer_norm_kernel(true);
    QVERIFY(!ps::runtime::layer_norm_rows(x.to(cuda).to(at::kFloat), weight.to(cuda).to(at::kFloat),
                                          bias.to(cuda).to(at::kFloat), 1e-6)
                 .defined());
    QVERIFY(!ps::runtime::layer_norm_rows(x.to(cuda).narrow(-1, 0, channels - 4),
                                          weight.to(cuda).narrow(0, 0, channels - 4),
                                          bias.to(cuda).narrow(0, 0, channels - 4), 1e-6)
                 .defined());
}

// LayerNorm2d's normalisation through our kernels against float64: SAM 2's mask downsampler and
// fuser widths (4, 16, 64: one thread a pixel; 256: laid out channels last, one warp a row), from
// NCHW maps and from channels-last ones, returned channels last and contiguous.
void TestLayers::channel_layer_norm_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("channels");
    QTest::addColumn<bool>("channels_last");
    if (!at::hasCUDA()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
    for (const int channels : {4, 16, 64, 256})
        for (const bool last : {false, true})
            for (const auto& [name, type] :
                 {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16},
                  {"fp16", at::kHalf}})
                QTest::newRow((std::string(name) + " " + std::to_string(channels) +
                               (last ? " channels last" : " NCHW"))
                                  .c_str())
                    << static_cast<int>(type) << channels << last;
}

void TestLayers::channel_layer_norm() {
    QFETCH(int, dtype);
    QFETCH(int, channels);
    QFETCH(bool, channels_last);
    const auto type = static_cast<at::ScalarType>(dtype);
    at::manual_seed(17);
    const at::Tensor x = (at::randn({2, channels, 9, 7}, at::kDouble) * 4 + 3).to(type);
    const at::Tensor weight = (at::randn({channels}, at::kDouble) + 1).to(type);
    const at::Tensor bias = at::randn({channels}, at::kDouble).to(type);
    const at::Device cuda(at::kCUDA);
    at::Tensor input = x.to(cuda);
    if (channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor got =
        ps::runtime::layer_norm_channels(input, weight.to(cuda), bias.to(cuda), 1e-6);
    QVERIFY(got.defined());
    QCOMPARE(got.sizes(), (std::vector<int64_t>{2, 9, 7, channels}));
    QVERIFY(got.is_contiguous());
    const at::Tensor expected = at::layer_norm(x.to(at::kDouble).permute({0, 2, 3, 1}), {channels},
                                               weight.to(at::kDouble), bias.to(at::kDouble), 1e-6);
    const double tolerance = type == at::kBFloat16 ? 0.06 : 0.008;
    const double diff = max_abs_diff(got.cpu(), expected);
    qInfo("max |diff| %.3g", diff);
    QVERIFY2(diff <= tolerance, QByteArray::number(diff));
    // A width the kernels do not take, and switched off: declined (ATen's layer norm then).
    QVERIFY(!ps::runtime::layer_norm_channels(input.narrow(1, 0, channels - 1),
                                              weight.to(cuda).narrow(0, 0, channels - 1),
                                              bias.to(cuda).narrow(0, 0, channels - 1), 1e-6)
                 .defined());
    ps::runtime::set_layer_norm_kernel(false);
    QVERIFY(
        !ps::runtime::layer_norm_channels(input, weight.to(cuda), bias.to(cuda), 1e-6).defined());
    ps::runtime::set_layer_norm_kernel(true);
}

// SAM 2's mask downsampler stages through our fused kernel (3 x 3 convolution, stride 2, padding
// 1; LayerNorm2d; GELU) against the same three steps in float64 on the same rounded inputs, each
// step's output rounded to the element type as the reference's operators round them: the first
// stage from an NCHW mask of one channel, the others from the channels-last map the previous
// stage wrote; odd sizes, so the padding's edges are on both sides.
void TestLayers::conv_norm_gelu_kernel_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("in");
    QTest::addColumn<int>("out");
    if (!at::hasCUDA()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
    for (const auto& [in, out] : {std::pair<int, int>{1, 4}, {4, 16}, {16, 64}})
        for (const auto& [name, type] :
             {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16}, {"fp16", at::kHalf}})
            QTest::newRow(
                (std::string(name) + " " + std::to_string(in) + " -> " + std::to_string(out))
                    .c_str())
                << static_cast<int>(type) << in << out;
}

void TestLayers::conv_norm_gelu_kernel() {
    QFETCH(int, dtype);
    QFETCH(int, in);
    QFETCH(int, out);
    const auto type = static_cast<at::ScalarType>(dtype);
    at::manual_seed(23);
    const at::Tensor x = (at::randn({2, in, 17, 13}, at::kDouble) * 2).to(type);
    ps::runtime::Conv2d conv;
    conv.weight = (at::randn({out, in, 3, 3}, at::kDouble) / std::sqrt(9.0 * in)).to(type);
    conv.bias = (at::randn({out}, at::kDouble) * 0.1).to(type);
    conv.stride = 2, conv.padding = 1;
    ps::runtime::LayerNorm2d norm;
    norm.weight = (at::randn({out}, at::kDouble) * 0.5 + 1).to(type);
    norm.bias = (at::randn({out}, at::kDouble) * 0.5).to(type);
    const at::Device cuda(at::kCUDA);
    const ps::runtime::Conv2d conv_gpu = on_gpu(conv);
    const ps::runtime::LayerNorm2d norm_gpu = on_gpu(norm);
    at::Tensor input = x.to(cuda);
    if (in > 1) input = input.contiguous(at::MemoryFormat::ChannelsLast);
    ps::runtime::set_conv_norm_kernels(true);  // off by default until this row has passed
    const at::Tensor got = ps::runtime::conv_norm_gelu(input, conv_gpu, norm_gpu);
    QVERIFY(got.defined());
    QCOMPARE(got.sizes(), (std::vector<int64_t>{2, 9, 7, out}));
    QVERIFY(got.is_contiguous());
    const auto rounded = [type](const at::Tensor& t) { return t.to(type).to(at::kDouble); };
    const at::Tensor conved = rounded(at::conv2d(x.to(at::kDouble), conv.weight.to(at::kDouble),
                                                 conv.bias.to(at::kDouble), 2, 1));
    const at::Tensor normed =
        rounded(at::layer_norm(conved.permute({0, 2, 3, 1}), {out}, norm.weight.to(at::kDouble),
                               norm.bias.to(at::kDouble), norm.eps));
    const at::Tensor expected = at::gelu(normed);
    // A rounding of the convolution's output that goes the other way (float32 sums against
    // float64's) moves the norm's input by one unit in the last place.
    const double tolerance = type == at::kBFloat16 ? 0.06 : 0.008;
    const double diff = max_abs_diff(got.cpu(), expected);
    qInfo("max |diff| %.3g", diff);
    QVERIFY2(diff <= tolerance, QByteArray::number(diff));
    // An NCHW map of several channels (the kernel reads channels last): declined.
    if (in > 1)
        QVERIFY(
            !ps::runtime::conv_norm_gelu(x.to(cuda).contiguous(), conv_gpu, norm_gpu).defined());
    // Switched off (the default for now): declined, the caller's three operators.
    ps::runtime::set_conv_norm_kernels(false);
    QVERIFY(!ps::runtime::conv_norm_gelu(input, conv_gpu, norm_gpu).defined());
}

// On the CPU, in float32, or for a stage wider than 64 channels: declined everywhere.
void TestLayers::conv_norm_gelu_declines() {
    ps::runtime::Conv2d conv;
    conv.weight = at::zeros({4, 1, 3, 3}, at::kBFloat16);
    conv.bias = at::zeros({4}, at::kBFloat16);
    conv.stride = 2, conv.padding = 1;
    ps::runtime::LayerNorm2d norm;
    norm.weight = at::ones({4}, at::kBFloat16);
    norm.bias = at::zeros({4}, at::kBFloat16);
    QVERIFY(
        !ps::runtime::conv_norm_gelu(at::zeros({1, 1, 8, 8}, at::kBFloat16), conv, norm).defined());
    if (!at::hasCUDA()) return;
    const at::Device cuda(at::kCUDA);
    ps::runtime::Conv2d wide = conv;
    wide.weight = at::zeros({256, 64, 3, 3}, at::kBFloat16).to(cuda);
    wide.bias = at::zeros({256}, at::kBFloat16).to(cuda);
    ps::runtime::LayerNorm2d wide_norm;
    wide_norm.weight = at::ones({256}, at::kBFloat16).to(cuda);
    wide_norm.bias = at::zeros({256}, at::kBFloat16).to(cuda);
    QVERIFY(!ps::runtime::conv_norm_gelu(at::zeros({1, 64, 8, 8}, at::kBFloat16)
                                             .to(cuda)
                                             .contiguous(at::MemoryFormat::ChannelsLast),
                                         wide, wide_norm)
                 .defined());
    ps::runtime::Conv2d single = conv;
    single.weight = at::zeros({4, 1, 3, 3}, at::kFloat).to(cuda);
    single.bias = at::zeros({4}, at::kFloat).to(cuda);
    QVERIFY(!ps::runtime::conv_norm_gelu(at::zeros({1, 1, 8, 8}, at::kFloat).to(cuda), single, norm)
                 .defined());
}

// SAM 2's fuser blocks' depthwise convolution and LayerNorm2d through our fused kernel against the
// two steps in float64 on the same rounded inputs, the convolution's output rounded to the element
// type as cuDNN's is: 256 channels and 7 x 7 taps as published, narrower ones and other kernels;
// NCHW and channels-last maps; 37 columns, so that a row takes two segments of 32 pixels.
void TestLayers::depthwise_norm_kernel_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<bool>("channels_last");
    if (!at::hasCUDA()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
    for (const auto& [channels, kernel, last] :
         {std::tuple<int, int, bool>{256, 7, false}, {256, 7, true}, {64, 3, false}, {32, 5, true}})
        for (const auto& [name, type] :
             {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16}, {"fp16", at::kHalf}})
            QTest::newRow((std::string(name) + " " + std::to_string(channels) + " channels, " +
                           std::to_string(kernel) + " x " + std::to_string(kernel) +
                           (last ? ", channels last" : ", NCHW"))
                              .c_str())
                << static_cast<int>(type) << channels << kernel << last;
}

void TestLayers::depthwise_norm_kernel() {
    QFETCH(int, dtype);
    QFETCH(int, channels);
    QFETCH(int, kernel);
    QFETCH(bool, channels_last);
    const auto type = static_cast<at::ScalarType>(dtype);
    at::manual_seed(29);
    const int64_t C = channels, k = kernel;
    const at::Tensor x = (at::randn({2, C, 13, 37}, at::kDouble) * 2).to(type);
    ps::runtime::Conv2d conv;
    conv.weight = (at::randn({C, 1, k, k}, at::kDouble) / double(k)).to(type);
    conv.bias = (at::randn({C}, at::kDouble) * 0.1).to(type);
    conv.padding = k / 2, conv.groups = C;
    ps::runtime::LayerNorm2d norm;
    norm.weight = (at::randn({C}, at::kDouble) * 0.5 + 1).to(type);
    norm.bias = (at::randn({C}, at::kDouble) * 0.5).to(type);
    const at::Device cuda(at::kCUDA);
    const ps::runtime::Conv2d conv_gpu = on_gpu(conv);
    const ps::runtime::LayerNorm2d norm_gpu = on_gpu(norm);
    at::Tensor input = x.to(cuda);
    if (channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
    ps::runtime::set_conv_norm_kernels(true);
    const at::Tensor got = ps::runtime::depthwise_conv_norm(input, conv_gpu, norm_gpu);
    QVERIFY(got.defined());
    QCOMPARE(got.sizes(), (std::vector<int64_t>{2, 13, 37, C}));
    QVERIFY(got.is_contiguous());
    const at::Tensor conved = at::conv2d(x.to(at::kDouble), conv.weight.to(at::kDouble),
                                         conv.bias.to(at::kDouble), 1, k / 2, 1, C)
                                  .to(type)
                                  .to(at::kDouble);
    const at::Tensor expected =
        at::layer_norm(conved.permute({0, 2, 3, 1}), {C}, norm.weight.to(at::kDouble),
                       norm.bias.to(at::kDouble), norm.eps);
    const double tolerance = type == at::kBFloat16 ? 0.06 : 0.008;
    const double diff = max_abs_diff(got.cpu(), expected);
    qInfo("max |diff| %.3g", diff);
    QVERIFY2(diff <= tolerance, QByteArray::number(diff));
    // A strided convolution, or switched off (the default for now): declined.
    ps::runtime::Conv2d strided = conv_gpu;
    strided.stride = 2;
    QVERIFY(!ps::runtime::depthwise_conv_norm(input, strided, norm_gpu).defined());
    ps::runtime::set_conv_norm_kernels(false);
    QVERIFY(!ps::runtime::depthwise_conv_norm(input, conv_gpu, norm_gpu).defined());
}

// The rotary-encoding kernel against the complex product in float64 on the same rounded inputs:
// SAM 2's shapes in small (a strided view of a projection as separate_heads gives, two frames of
// a grid then unrotated pointer tokens, several heads), values up to ~|4| so one rounding is
// 2^-8 relative in bfloat16, 2^-11 in float16. The pointer tokens come through unchanged.
void TestLayers::rope_kernel_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("pointers");
    if (!at::hasCUDA()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
    for (const auto& [name, type] :
         {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16}, {"fp16", at::kHalf}}) {
        QTest::newRow((std::string(name) + " one head, 6 pointers").c_str())
            << static_cast<int>(type) << 1 << 6;
        QTest::newRow((std::string(name) + " two heads, no pointers").c_str())
            << static_cast<int>(type) << 2 << 0;
    }
}

void TestLayers::rope_kernel() {
    QFETCH(int, dtype);
    QFETCH(int, heads);
    QFETCH(int, pointers);
    const auto type = static_cast<at::ScalarType>(dtype);
    const int64_t grid = 16, frames = 2, dim = 32, tokens = grid * frames + pointers;
    at::manual_seed(13);
    // B x T x (H x D) projected, seen as B x H x T x D (the heads' stride is D, the tokens' H x D).
    const at::Tensor projected = (at::randn({2, tokens, heads * dim}, at::kDouble) * 2).to(type);
    const at::Tensor x = projected.view({2, tokens, heads, dim}).transpose(1, 2);
    const at::Tensor angles = at::rand({grid, dim / 2}, at::kDouble) * 6.3;
    const at::Tensor freqs = at::polar(at::ones_like(angles), angles);
    const at::Device cuda(at::kCUDA);
    const at::Tensor got = ps::runtime::rope_rotate_rows(
        x.to(cuda), freqs.to(at::kComplexFloat).to(cuda), grid * frames);
    QVERIFY(got.defined());
    QCOMPARE(got.scalar_type(), type);
    QCOMPARE(got.sizes(), x.sizes());
    const at::Tensor pairs =
        x.to(at::kDouble).narrow(2, 0, grid * frames).reshape({2, heads, frames, grid, dim / 2, 2});
    const at::Tensor rotated = at::view_as_real(at::view_as_complex(pairs.contiguous()) *
                                                freqs.to(at::kComplexFloat).to(at::kComplexDouble))
                                   .reshape({2, heads, frames * grid, dim});
    const at::Tensor expected =
        at::cat({rotated, x.to(at::kDouble).narrow(2, grid * frames, pointers)}, 2);
    const double tolerance = type == at::kBFloat16 ? 0.06 : 0.008;
    const double diff = max_abs_diff(got.cpu(), expected);
    qInfo("max |diff| %.3g", diff);
    QVERIFY2(diff <= tolerance, QByteArray::number(diff));
    QVERIFY(at::equal(got.cpu().narrow(2, grid * frames, pointers),
                      x.narrow(2, grid * frames, pointers)));
}

// Where the kernel does not apply the caller's complex product runs: the CPU, float32, a width
// not a multiple of 8, a table of another width.
void TestLayers::rope_kernel_declines() {
    const at::Tensor angles = at::rand({4, 8}, at::kDouble);
    const at::Tensor freqs = at::polar(at::ones_like(angles), angles).to(at::kComplexFloat);
    const at::Tensor x = at::randn({1, 1, 4, 16}).to(at::kBFloat16);
    QVERIFY(!ps::runtime::rope_rotate_rows(x, freqs, 4).defined());
    if (!at::hasCUDA()) return;
    const at::Device cuda(at::kCUDA);
    QVERIFY(!ps::runtime::rope_rotate_rows(x.to(cuda).to(at::kFloat), freqs.to(cuda), 4).defined());
    QVERIFY(!ps::runtime::rope_rotate_rows(x.to(cuda).narrow(3, 0, 12),
                                           freqs.to(cuda).narrow(1, 0, 6).contiguous(), 4)
                 .defined());
    QVERIFY(
        !ps::runtime::rope_rotate_rows(x.to(cuda), freqs.to(cuda).narrow(1, 0, 4).contiguous(), 4)
             .defined());
}

// The attention-merge kernel (opt-in) against the softmax-weighted sum in float64 on the same
// rounded parts: SAM 2's split memory attention in small (3 frames' outputs strided as cuDNN
// writes them, their log-sum-exps, the pointer tokens' part in float32), and without the extra
// part. Outputs up to ~|3|: one rounding is 2^-8 relative in bfloat16, 2^-11 in float16.
void TestLayers::attention_merge_kernel_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<bool>("extra");
    if (!at::hasCUDA()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
    for (const auto& [name, type] :
         {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16}, {"fp16", at::kHalf}})
        for (const bool extra : {true, false})
            QTest::newRow((std::string(name) + (extra ? " with pointers" : " frames only")).c_str())
                << static_cast<int>(type) << extra;
}

void TestLayers::attention_merge_kernel() {
    QFETCH(int, dtype);
    QFETCH(bool, extra);
    const auto type = static_cast<at::ScalarType>(dtype);
    const int64_t P = 3, N = 37, D = 64;
    at::manual_seed(19);
    // N x P x D stored, seen as P x N x D (cuDNN's output: tokens outermost).
    const at::Tensor parts = at::randn({N, P, D}, at::kDouble).to(type).transpose(0, 1);
    const at::Tensor lse = at::randn({P, N}, at::kDouble) * 3;
    const at::Tensor extra_out = at::randn({N, D}, at::kDouble);
    const at::Tensor extra_lse = at::randn({N}, at::kDouble) * 3;
    const at::Device cuda(at::kCUDA);
    ps::runtime::set_attention_merge_kernel(true);  // the default; no earlier test's setting
    const at::Tensor got = ps::runtime::merge_attention_parts(
        parts.to(cuda), lse.to(at::kFloat).to(cuda),
        extra ? extra_out.to(at::kFloat).to(cuda) : at::Tensor(),
        extra ? extra_lse.to(at::kFloat).to(cuda) : at::Tensor());
    QVERIFY(got.defined());
    QCOMPARE(got.scalar_type(), type);
    QCOMPARE(got.sizes(), (std::vector<int64_t>{N, D}));
    at::Tensor all = parts.to(at::kDouble), all_lse = lse.to(at::kFloat).to(at::kDouble);
    if (extra) {
        all = at::cat({all, extra_out.to(at::kFloat).to(at::kDouble).unsqueeze(0)}, 0);
        all_lse = at::cat({all_lse, extra_lse.to(at::kFloat).to(at::kDouble).unsqueeze(0)}, 0);
    }
    const at::Tensor expected = (all * at::softmax(all_lse, 0).unsqueeze(-1)).sum(0);
    const double tolerance = type == at::kBFloat16 ? 0.03 : 0.004;
    const double diff = max_abs_diff(got.cpu(), expected);
    qInfo("max |diff| %.3g", diff);
    QVERIFY2(diff <= tolerance, QByteArray::number(diff));
    // Float32 parts, or switched off: declined, the caller's operators run.
    QVERIFY(!ps::runtime::merge_attention_parts(parts.to(cuda).to(at::kFloat),
                                                lse.to(at::kFloat).to(cuda), at::Tensor(),
                                                at::Tensor())
                 .defined());
    ps::runtime::set_attention_merge_kernel(false);
    QVERIFY(!ps::runtime::merge_attention_parts(parts.to(cuda), lse.to(at::kFloat).to(cuda),
                                                at::Tensor(), at::Tensor())
                 .defined());
    ps::runtime::set_attention_merge_kernel(true);  // the default
}

QTEST_APPLESS_MAIN(TestLayers)
#include "test_layers.moc"
