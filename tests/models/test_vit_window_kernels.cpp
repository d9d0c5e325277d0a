// The GPU window kernels of the ViT attention against the reference's formulation (pad, window,
// scale q.k + decomposed relative positions, softmax, unpad) computed with plain ATen ops.
// Runs where the kernels are compiled in and a GPU answers (the GPU machine); skipped elsewhere.
#include <ATen/ATen.h>
#include <torch/version.h>

#include <QtTest>

#include "models/sam/vit_window_attention.h"

using namespace ps::sam;

namespace {

struct Case {
    int64_t batch, height, width, span_h, span_w, heads, head_dim;
};

struct Inputs {
    at::Tensor qkv, bias, rel_h, rel_w;
};

Inputs make_inputs(const Case& c, at::ScalarType type) {
    at::manual_seed(7);
    const auto opts = at::TensorOptions().dtype(type).device(at::kCUDA);
    const int64_t C3 = 3 * c.heads * c.head_dim;
    return {at::randn({c.batch, c.height, c.width, C3}, opts),
            at::randn({C3}, opts),
            at::randn({c.span_h, c.span_h, c.head_dim}, opts) * 0.1,
            at::randn({c.span_w, c.span_w, c.head_dim}, opts) * 0.1};
}

// The reference: SAM's window_partition of the zero-padded input (projected: the bias), its
// Attention with add_decomposed_rel_pos, window_unpartition. In float32.
at::Tensor reference_attention(const Case& c, const Inputs& in, double scale) {
    const int64_t C3 = in.qkv.size(3), C = C3 / 3, hd = c.head_dim;
    const int64_t Hp = (c.height + c.span_h - 1) / c.span_h * c.span_h;
    const int64_t Wp = (c.width + c.span_w - 1) / c.span_w * c.span_w;
    at::Tensor full = in.bias.to(at::kFloat).view({1, 1, 1, C3}).expand({c.batch, Hp, Wp, C3}).clone();
    full.slice(1, 0, c.height).slice(2, 0, c.width).copy_(in.qkv.to(at::kFloat));
    const int64_t tokens = c.span_h * c.span_w;
    const at::Tensor rows = full.view({c.batch, Hp / c.span_h, c.span_h, Wp / c.span_w, c.span_w, C3})
                                .permute({0, 1, 3, 2, 4, 5})
                                .reshape({-1, tokens, 3, c.heads, hd})
                                .permute({2, 0, 3, 1, 4})
                                .reshape({3, -1, tokens, hd});
    const at::Tensor q = rows[0], k = rows[1], v = rows[2];
    const int64_t BH = q.size(0);
    at::Tensor attn = at::matmul(q * scale, k.transpose(-2, -1));
    const at::Tensor r_q = q.reshape({BH, c.span_h, c.span_w, hd});
    const at::Tensor rel_h = at::einsum("bhwc,hkc->bhwk", {r_q, in.rel_h.to(at::kFloat)});
    const at::Tensor rel_w = at::einsum("bhwc,wkc->bhwk", {r_q, in.rel_w.to(at::kFloat)});
    attn = (attn.view({BH, c.span_h, c.span_w, c.span_h, c.span_w}) + rel_h.unsqueeze(4) +
            rel_w.unsqueeze(3))
               .view({BH, tokens, tokens});
    const at::Tensor out = at::matmul(at::softmax(attn, -1), v);
    return out.view({-1, c.heads, c.span_h, c.span_w, hd})
        .permute({0, 2, 3, 1, 4})
        .reshape({c.batch, Hp / c.span_h, Wp / c.span_w, c.span_h, c.span_w, C})
        .permute({0, 1, 3, 2, 4, 5})
        .reshape({c.batch, Hp, Wp, C})
        .slice(1, 0, c.height)
        .slice(2, 0, c.width);
}

at::Tensor fused_attention(const Case& c, const Inputs& in, double scale) {
    const WindowAttentionRows rows = split_qkv_rel_pos(in.qkv, in.bias, in.rel_h, in.rel_w,
                                                       c.heads, c.span_h, c.span_w, scale);
#if TORCH_VERSION_MAJOR >= 2
    const at::Tensor out = at::scaled_dot_product_attention(
        rows.q.unsqueeze(0), rows.k.unsqueeze(0), rows.v.unsqueeze(0), {}, 0.0, false, 1.0);
#else
    const at::Tensor out = at::matmul(at::softmax(at::matmul(rows.q, rows.k.transpose(-2, -1)), -1), rows.v).unsqueeze(0);
#endif
    return merge_window_heads(out.squeeze(0), c.batch, c.height, c.width, c.heads, c.span_h,
                              c.span_w);
}

}  // namespace

class TestVitWindowKernels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (!window_kernels_compiled()) QSKIP("no CUDA kernels in this build or no GPU answers");
    }

    void rows_hold_the_reference_terms() {
        // Windowed with padding on both sides, two images.
        const Case c{2, 20, 18, 7, 7, 3, 16};
        const Inputs in = make_inputs(c, at::kFloat);
        const double scale = 0.25;
        const WindowAttentionRows rows = split_qkv_rel_pos(in.qkv, in.bias, in.rel_h, in.rel_w,
                                                           c.heads, c.span_h, c.span_w, scale);
        const int64_t ext = extended_head_dim(c.head_dim, c.span_h, c.span_w);
        const int64_t windows = 2 * 3 * 3, tokens = 49;
        QCOMPARE(rows.q.sizes().vec(), (std::vector<int64_t>{windows * c.heads, tokens, ext}));
        QCOMPARE(rows.v.sizes().vec(), (std::vector<int64_t>{windows * c.heads, tokens, c.head_dim}));
        // Window (image 1, row 2, column 2) token (row 6, col 6) lies at y = 20, x = 20: padding,
        // so its k is the k part of the bias and its onehots mark row 6 and column 6.
        const int64_t window = 9 + 2 * 3 + 2, token = 6 * 7 + 6, head = 1;
        const at::Tensor k_row = rows.k[window * c.heads + head][token].cpu();
        const at::Tensor k_bias = in.bias.slice(0, (c.heads + head) * 16, (c.heads + head + 1) * 16).cpu();
        QVERIFY(at::equal(k_row.slice(0, 0, 16), k_bias));
        QCOMPARE(k_row[16 + 6].item<float>(), 1.f);       // onehot(row 6)
        QCOMPARE(k_row[16 + 7 + 6].item<float>(), 1.f);   // onehot(column 6)
        QCOMPARE(k_row.slice(0, 16).abs().sum().item<float>(), 2.f);
        // A real token: window (0, 1, 0), token (3, 4) -> y = 10, x = 4; q scaled exactly.
        const int64_t w2 = 1 * 3 + 0, t2 = 3 * 7 + 4;
        const at::Tensor q_real = in.qkv[0][10][4].slice(0, head * 16, head * 16 + 16);
        QVERIFY(at::equal(rows.q[w2 * c.heads + head][t2].slice(0, 0, 16), q_real * scale));
        QVERIFY(at::equal(rows.v[w2 * c.heads + head][t2],
                          in.qkv[0][10][4].slice(0, (2 * c.heads + head) * 16, (2 * c.heads + head + 1) * 16)));
        const at::Tensor rel_h_expected = at::matmul(in.rel_h[3], q_real);   // span_h values
        QVERIFY(at::allclose(rows.q[w2 * c.heads + head][t2].slice(0, 16, 23), rel_h_expected, 1e-5, 1e-5));
    }

    void attention_matches_reference_data() {
        QTest::addColumn<int>("precision");  // 0 float, 1 bf16, 2 half
        QTest::addColumn<bool>("global");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("heads");
        // Half precision with 6..16 heads and head_dim % 16 == 0 takes the tensor-core path (SAM:
        // ViT-B 12 x 64, ViT-L 16 x 64, ViT-H 16 x 80); float and other shapes the generic one.
        for (int p = 0; p < 3; ++p) {
            for (auto [hd, heads] : {std::pair{32, 6}, {64, 12}, {80, 16}, {24, 4}}) {
                QTest::addRow("windowed/%d/%dx%d", p, heads, hd) << p << false << hd << heads;
                QTest::addRow("global/%d/%dx%d", p, heads, hd) << p << true << hd << heads;
            }
        }
    }
    void attention_matches_reference() {
        QFETCH(int, precision);
        QFETCH(bool, global);
        QFETCH(int, head_dim);
        QFETCH(int, heads);
        const at::ScalarType type = precision == 0 ? at::kFloat : precision == 1 ? at::kBFloat16 : at::kHalf;
        const Case c = global ? Case{1, 12, 10, 12, 10, heads, head_dim}
                              : Case{1, 23, 30, 14, 14, heads, head_dim};
        const Inputs in = make_inputs(c, type);
        const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
        const at::Tensor expected = reference_attention(c, in, scale);
        const at::Tensor got = fused_attention(c, in, scale).to(at::kFloat);
        const double diff = (got - expected).abs().max().item<double>();
        const double bound = precision == 0 ? 1e-4 : precision == 1 ? 6e-2 : 1e-2;
        qInfo("max |fused - reference| = %.3g (bound %.3g)", diff, bound);
        QVERIFY(diff <= bound);
        if (precision != 0) QVERIFY(window_kernels_usable(got.to(type)));
    }
};

QTEST_GUILESS_MAIN(TestVitWindowKernels)
#include "test_vit_window_kernels.moc"
