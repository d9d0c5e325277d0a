// Swin-V1's window layout with its LayerNorms (runtime/swin_windows.h): norm1 + pad + roll +
// partition, and reverse + roll + crop + residual add + norm2. On the CPU the CUDA kernels' twins
// (their index arithmetic and per-token normalisation) against ATen's composition, op for op as
// swin_v1.py; on the GPU machine the fused kernels themselves (float32, bfloat16; packs of 16
// bytes and single values) against that composition in float64.
#include <ATen/ATen.h>

#include <algorithm>
#include <tuple>

#include "models/runtime/device.h"
#include "models/runtime/layers.h"
#include "models/runtime/swin_attention.h"
#include "models/runtime/swin_windows.h"

#include <QtTest>

using namespace ps;

namespace {

struct Case {
    int64_t batch, height, width, channels, window, shift;
};

Case fetch_case() {
    QFETCH(int, height);
    QFETCH(int, width);
    QFETCH(int, channels);
    QFETCH(int, window);
    QFETCH(int, shift);
    return {2, height, width, channels, window, shift};
}

void add_case_columns() {
    QTest::addColumn<int>("height");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("shift");
}

// Padding at the bottom and right, the cyclic shift; 24 and 16 channels take packs of 16 bytes
// on the GPU, 10 single values.
void add_cases(const char* prefix) {
    const auto row = [&](const char* name) -> QTestData& {
        return QTest::newRow((std::string(prefix) + name).c_str());
    };
    row("padded, shifted") << 10 << 13 << 24 << 7 << 3;
    row("whole windows") << 14 << 14 << 16 << 7 << 0;
    row("odd channels, shifted") << 9 << 8 << 10 << 4 << 2;
}

at::Tensor tokens_of(const Case& c, int seed) {
    at::manual_seed(seed);
    return at::randn({c.batch, c.height, c.width, c.channels}, at::kDouble).mul_(2).add_(0.5);
}

runtime::LayerNorm norm_of(int64_t channels, int seed) {
    at::manual_seed(seed);
    return {at::randn({channels}, at::kDouble).mul_(0.2).add_(1),
            at::randn({channels}, at::kDouble).mul_(0.3), 1e-5};
}

runtime::LayerNorm norm_to(const runtime::LayerNorm& n, at::Device device, at::ScalarType type) {
    return {n.weight.to(device, type), n.bias.to(device, type), n.eps};
}

// The (B * nW) x w² x C attention output the merge puts back.
at::Tensor windows_of(const Case& c, int seed) {
    const int64_t padded_h = (c.height + c.window - 1) / c.window * c.window;
    const int64_t padded_w = (c.width + c.window - 1) / c.window * c.window;
    at::manual_seed(seed);
    return at::randn(
        {c.batch * padded_h * padded_w / (c.window * c.window), c.window * c.window, c.channels},
        at::kDouble);
}

double max_diff(const at::Tensor& got, const at::Tensor& expected) {
    return (got.to(at::kCPU, at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace

class TestBirefnetSwinV1Windows : public QObject {
    Q_OBJECT

  private slots:
    void twins_match_aten_data() {
        add_case_columns();
        add_cases("");
    }
    void twins_match_aten() {
        const Case c = fetch_case();
        const at::Tensor x = tokens_of(c, 1), windows = windows_of(c, 3);
        const runtime::LayerNorm norm = norm_of(c.channels, 2);
        const at::Tensor expected = runtime::swin_norm_partition(x, norm, c.window, c.shift);
        const at::Tensor twin = runtime::swin_norm_partition_twin(x, norm, c.window, c.shift);
        QCOMPARE(twin.sizes(), expected.sizes());
        QVERIFY2(max_diff(twin, expected) < 1e-12, QByteArray::number(max_diff(twin, expected)));
        // Padding rows are zeros, not normalised zeros (the reference pads after the norm).
        if (c.height % c.window != 0) QVERIFY((expected == 0).all(-1).any().item<bool>());

        const runtime::SwinResidual merged =
            runtime::swin_merge_add_norm(windows, x, norm, c.window, c.shift);
        const runtime::SwinResidual merged_twin =
            runtime::swin_merge_add_norm_twin(windows, x, norm, c.window, c.shift);
        QVERIFY(max_diff(merged_twin.sum, merged.sum) < 1e-12);
        QVERIFY(max_diff(merged_twin.normed, merged.normed) < 1e-12);
        // With the next product's bias in the sum: added after the norm read it.
        const at::Tensor bias = tokens_of({1, 1, 1, c.channels, 1, 0}, 4).view({c.channels});
        const runtime::SwinResidual biased =
            runtime::swin_merge_add_norm(windows, x, norm, c.window, c.shift, bias);
        QVERIFY(max_diff(biased.sum, merged.sum + bias) < 1e-12);
        QVERIFY(max_diff(biased.normed, merged.normed) < 1e-12);
        // The merge undoes the partition: windows of x itself put back add x to x.
        const at::Tensor plain = runtime::swin_window_partition(
            at::constant_pad_nd(x, {0, 0, 0, (c.window - c.width % c.window) % c.window, 0,
                                    (c.window - c.height % c.window) % c.window})
                .roll({-c.shift, -c.shift}, {1, 2}),
            c.window);
        const runtime::SwinResidual doubled =
            runtime::swin_merge_add_norm_twin(plain, x, norm, c.window, c.shift);
        QVERIFY(max_diff(doubled.sum, x * 2) < 1e-12);
    }

    void fused_kernels_match_aten_data() {
        add_case_columns();
        QTest::addColumn<int>("dtype");
        QTest::addColumn<double>("tolerance");
        if (!runtime::cuda_available()) QSKIP("no CUDA device: the kernels run on the GPU machine");
        // float32: the kernels' float32 moments against float64. bfloat16: one rounding of the
        // normalised values (2^-9 relative, ~0.02 at the largest) on inputs rounded the same way.
        for (const auto& [name, type, tolerance] :
             {std::tuple<const char*, at::ScalarType, double>{"float32 ", at::kFloat, 2e-5},
              {"bfloat16 ", at::kBFloat16, 0.05}}) {
            const auto row = [&](const char* what) -> QTestData& {
                return QTest::newRow((std::string(name) + what).c_str());
            };
            row("padded, shifted")
                << 10 << 13 << 24 << 7 << 3 << static_cast<int>(type) << tolerance;
            row("whole windows") << 14 << 14 << 16 << 7 << 0 << static_cast<int>(type) << tolerance;
            row("odd channels, shifted")
                << 9 << 8 << 10 << 4 << 2 << static_cast<int>(type) << tolerance;
        }
    }
    void fused_kernels_match_aten() {
        const Case c = fetch_case();
        QFETCH(int, dtype);
        QFETCH(double, tolerance);
        const auto type = static_cast<at::ScalarType>(dtype);
        const at::Device cuda(at::kCUDA);
        // Inputs rounded to the element type first, so that the float64 reference sees them too.
        const at::Tensor x = tokens_of(c, 1).to(type), windows = windows_of(c, 3).to(type);
        const runtime::LayerNorm norm = norm_to(norm_of(c.channels, 2), at::kCPU, type);
        const runtime::LayerNorm norm64 = norm_to(norm, at::kCPU, at::kDouble);
        const runtime::LayerNorm norm_gpu = norm_to(norm, cuda, type);

        const at::Tensor got =
            runtime::swin_norm_partition(x.to(cuda), norm_gpu, c.window, c.shift);
        QCOMPARE(got.scalar_type(), type);
        const at::Tensor expected =
            runtime::swin_norm_partition(x.to(at::kDouble), norm64, c.window, c.shift);
        QCOMPARE(got.sizes(), expected.sizes());
        QVERIFY2(max_diff(got, expected) <= tolerance, QByteArray::number(max_diff(got, expected)));

        const runtime::SwinResidual merged =
            runtime::swin_merge_add_norm(windows.to(cuda), x.to(cuda), norm_gpu, c.window, c.shift);
        // The sums rounded once to the element type: exactly the float64 sums rounded.
        const at::Tensor sums =
            runtime::swin_merge_add_norm(windows.to(at::kDouble), x.to(at::kDouble), norm64,
                                         c.window, c.shift)
                .sum.to(type);
        QVERIFY(at::equal(merged.sum.cpu(), sums));
        // norm2 of those rounded sums.
        const at::Tensor normed = at::layer_norm(sums.to(at::kDouble), {c.channels}, norm64.weight,
                                                 norm64.bias, norm64.eps);
        QVERIFY2(max_diff(merged.normed, normed) <= tolerance,
                 QByteArray::number(max_diff(merged.normed, normed)));
        // The next product's bias added to the written sums after the norm read them: each sum
        // + bias rounded once more (exact float32 adds of two bfloat16 values; float32's own
        // rounding equals float64's rounded), the normed values untouched.
        const at::Tensor bias =
            tokens_of({1, 1, 1, c.channels, 1, 0}, 4).view({c.channels}).to(type);
        const runtime::SwinResidual biased = runtime::swin_merge_add_norm(
            windows.to(cuda), x.to(cuda), norm_gpu, c.window, c.shift, bias.to(cuda));
        QVERIFY(
            at::equal(biased.sum.cpu(), (sums.to(at::kDouble) + bias.to(at::kDouble)).to(type)));
        QVERIFY(at::equal(biased.normed.cpu(), merged.normed.cpu()));
    }

    // The fused window attention against softmax(q k^T / sqrt(d) + bias) v in float64 on the same
    // rounded inputs: Swin's 32-wide heads with one bias for every window (unshifted blocks) and
    // one per window of an image (shifted blocks), two images, 144- and 49-token windows; Hiera's
    // wider heads without a bias; bfloat16 and float16.
    // Tolerance: the probabilities rounded once to the element type (as FlashAttention's) and the
    // output once more.
    void fused_attention_matches_reference_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("bias_windows");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<int>("head_dim");
        if (!runtime::cuda_available()) QSKIP("no CUDA device: the kernel runs on the GPU machine");
        for (const auto& [name, type] :
             {std::pair<const char*, at::ScalarType>{"bf16", at::kBFloat16}, {"fp16", at::kHalf}}) {
            // 12 x 12 windows (Swin-L, Swin-B) and 7 x 7 ones (BiRefNet_lite's Swin-T: a 64-token
            // tile with its last 15 rows and keys masked).
            for (int N : {144, 49}) {
                const std::string size = " " + std::to_string(N) + " tokens";
                QTest::newRow((std::string(name) + " one bias, 3 heads" + size).c_str())
                    << static_cast<int>(type) << 1 << 3 << N << 32;
                QTest::newRow((std::string(name) + " a bias per window, 6 heads" + size).c_str())
                    << static_cast<int>(type) << 4 << 6 << N << 32;
            }
            // Hiera's windows (SAM 2), no bias: Hiera-T's and -S's 96-channel heads in 8 x 8,
            // 4 x 4 and 7 x 7 windows, Hiera-B+'s 56 and Hiera-L's 72 (padded to 64 and 80).
            for (const auto& [heads, N, d] : {std::tuple<int, int, int>{1, 64, 96},
                                              {2, 16, 96},
                                              {8, 49, 96},
                                              {2, 64, 56},
                                              {4, 16, 56},
                                              {2, 64, 72},
                                              {16, 64, 72},
                                              {3, 30, 72}}) {
                QTest::newRow((std::string(name) + " no bias, " + std::to_string(heads) +
                               " heads of " + std::to_string(d) + ", " + std::to_string(N) +
                               " tokens")
                                  .c_str())
                    << static_cast<int>(type) << 0 << heads << N << d;
            }
        }
    }
    void fused_attention_matches_reference() {
        QFETCH(int, dtype);
        QFETCH(int, bias_windows);
        QFETCH(int, heads);
        QFETCH(int, tokens);
        QFETCH(int, head_dim);
        const auto type = static_cast<at::ScalarType>(dtype);
        const int64_t N = tokens, d = head_dim, windows = 2 * std::max(bias_windows, 2);
        at::manual_seed(5);
        const at::Tensor qkv = at::randn({windows, N, 3 * heads * d}, at::kDouble).to(type);
        at::Tensor bias;  // none for Hiera's windows
        if (bias_windows > 0)
            bias = (at::randn({bias_windows, heads, N, N}, at::kDouble) * 2).to(type);
        // The shifted blocks' mask: -100 between regions, as swin_v1.py's.
        if (bias_windows > 1)
            bias.select(0, 1).narrow(2, 0, N / 2).narrow(1, N / 2, N - N / 2).fill_(-100);
        const at::Tensor bias_gpu = bias.defined() ? bias.cuda() : at::Tensor();
        at::Tensor got = runtime::fused_window_attention(qkv.cuda(), bias_gpu, heads);
        QVERIFY(got.defined());
        got = got.cpu();
        QCOMPARE(got.sizes(), (std::vector<int64_t>{windows, N, heads * d}));
        const at::Tensor parts =
            qkv.to(at::kDouble).view({windows, N, 3, heads, d}).permute({2, 0, 3, 1, 4});
        at::Tensor scores = at::matmul(parts[0], parts[1].transpose(-2, -1)) / std::sqrt(double(d));
        if (bias.defined())
            scores = scores + bias.to(at::kDouble).repeat({windows / bias_windows, 1, 1, 1});
        const at::Tensor expected = at::matmul(at::softmax(scores, -1), parts[2])
                                        .transpose(1, 2)
                                        .reshape({windows, N, heads * d});
        const double tolerance = type == at::kBFloat16 ? 0.03 : 4e-3;
        const double diff = max_diff(got, expected);
        qInfo("max |diff| %.3g", diff);
        QVERIFY2(diff <= tolerance, QByteArray::number(diff));
        // Switched off (PHOTOSYNTH_SWIN_ATTENTION=0): undefined, the caller's
        // scaled_dot_product_attention.
        runtime::set_swin_attention_kernel(false);
        QVERIFY(!runtime::fused_window_attention(qkv.cuda(), bias_gpu, heads).defined());
        runtime::set_swin_attention_kernel(true);
    }

    void fused_attention_declines_on_the_cpu() {
        const at::Tensor qkv = at::zeros({2, 144, 3 * 3 * 32}, at::kBFloat16);
        QVERIFY(!runtime::fused_window_attention(qkv, at::zeros({3, 144, 144}, at::kBFloat16), 3)
                     .defined());
    }

    void twins_refuse_other_tensors() {
        const Case c{1, 7, 7, 8, 7, 0};
        const runtime::LayerNorm norm = norm_to(norm_of(8, 2), at::kCPU, at::kBFloat16);
        QVERIFY_EXCEPTION_THROWN(
            runtime::swin_norm_partition_twin(tokens_of(c, 1).to(at::kBFloat16), norm, 7, 0),
            std::invalid_argument);
        const runtime::LayerNorm norm64 = norm_of(8, 2);
        QVERIFY_EXCEPTION_THROWN(
            runtime::swin_merge_add_norm_twin(at::zeros({2, 49, 8}, at::kDouble), tokens_of(c, 1),
                                              norm64, 7, 0),
            std::invalid_argument);
    }
};

QTEST_MAIN(TestBirefnetSwinV1Windows)
#include "test_birefnet_swin_v1_windows.moc"
