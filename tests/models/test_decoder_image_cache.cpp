// The mask decoder's per-image projections (ImageProjections) change no bit of any result.
#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include "golden_dir.h"
#include "io/image_reader.h"
#include "models/sam/sam_model.h"
#include "models/sam/sam_network.h"
#include "models/sam/sam_transforms.h"
#include "models/sam/sam_types.h"
#include "sam_fixtures.h"

using namespace ps;

namespace {

struct Loaded {
    std::unique_ptr<sam::SamModel> model;
    std::shared_ptr<const sam::SamEmbedding> embedding;
    QString problem;
};

// "generated": a seeded two-block decoder on a 256-pixel model; else a golden checkpoint.
Loaded load_and_encode(const QString& source, const QString& precision, const QString& folder) {
    Loaded out;
    sam::SamOptions options;
    options.device = runtime::Device::Cpu;
    options.precision = *runtime::parse_precision(precision.toStdString());
    std::string path;
    cv::Mat rgb;
    if (source == "generated") {
        sam::SamConfig config = custom_vit_config(16);
        config.decoder_depth = 2;  // the cached block and one after it
        path = write_sam_checkpoint(folder, config, 11);
        rgb = cv::Mat(180, 256, CV_8UC3);
        cv::RNG(5).fill(rgb, cv::RNG::UNIFORM, 0, 256);
    } else {
        path = golden_path(source);
        auto image = io::read_rgb_image(golden_path("images/coffee.png"));
        if (!image.ok()) {
            out.problem = QString::fromStdString(image.message());
            return out;
        }
        rgb = *image;
    }
    auto model = sam::SamModel::load(path, options);
    if (!model.ok()) {
        out.problem = QString::fromStdString(model.message());
        return out;
    }
    auto embedding = (*model)->encode(rgb);
    if (!embedding.ok()) {
        out.problem = QString::fromStdString(embedding.message());
        return out;
    }
    out.model = std::move(model.value());
    out.embedding = embedding.value();
    return out;
}

// Prompts in original-image pixels, as fractions of its width and height.
std::vector<sam::SamPrompt> prompt_sets(const sam::SamEmbedding& embedding) {
    const double w = embedding.original.width, h = embedding.original.height;
    std::vector<sam::SamPrompt> prompts(6);
    prompts[0].points = {{0.5 * w, 0.4 * h, 1}};
    prompts[1].points = {{0.3 * w, 0.6 * h, 1}, {0.7 * w, 0.2 * h, 0}};
    prompts[1].multimask = false;
    prompts[2].box = std::array<double, 4>{0.1 * w, 0.2 * h, 0.8 * w, 0.9 * h};
    prompts[3].box = std::array<double, 4>{0.2 * w, 0.1 * h, 0.6 * w, 0.7 * h};
    prompts[3].multimask = false;
    prompts[4].points = {{0.4 * w, 0.5 * h, 1}, {0.45 * w, 0.55 * h, 0}};
    prompts[4].box = std::array<double, 4>{0.05 * w, 0.05 * h, 0.95 * w, 0.95 * h};
    for (int i = 0; i < 5; ++i)
        prompts[5].points.push_back({(0.1 + 0.15 * i) * w, (0.9 - 0.1 * i) * h, i % 2});
    prompts[5].multimask = false;
    return prompts;
}

sam::EncodedPrompt encode(const sam::SamModel& model, const sam::SamEmbedding& embedding,
                          const sam::SamPrompt& prompt) {
    const sam::SamNetwork& net = model.network();
    const sam::PromptTensors t =
        sam::prompt_to_tensors(prompt, embedding.original, embedding.resized, net.device());
    return net.encode_prompt(t.point_coords, t.labels, t.box, t.mask_input);
}

bool same(const sam::DecodedMasks& a, const sam::DecodedMasks& b) {
    return at::equal(a.low_res_logits, b.low_res_logits) &&
           at::equal(a.iou_predictions, b.iou_predictions);
}

// The public decode's logits and IoUs against the network's, bit for bit.
bool same(const sam::SamMaskSet& masks, const sam::DecodedMasks& expected) {
    const at::Tensor logits = expected.low_res_logits.to(at::kFloat);
    const at::Tensor iou = expected.iou_predictions.to(at::kFloat);
    if (int64_t(masks.low_res_logits.size()) != logits.size(1)) return false;
    for (size_t i = 0; i < masks.low_res_logits.size(); ++i) {
        const int64_t k = int64_t(i);
        if (!at::equal(masks.low_res_logits[i]->logits, logits.slice(1, k, k + 1))) return false;
        if (masks.iou[i] != iou[0][k].item<float>()) return false;
    }
    return true;
}

sam::ImageProjections zeros_like(const sam::ImageProjections& p) {
    return {at::zeros_like(p.token_to_image_k), at::zeros_like(p.token_to_image_v),
            at::zeros_like(p.image_to_token_q)};
}

}  // namespace

class TestDecoderImageCache : public QObject {
    Q_OBJECT
  private slots:
    void cached_matches_uncached_data();
    void cached_matches_uncached();
    void mask_prompt_bypasses_cache_data() { cached_matches_uncached_data(); }
    void mask_prompt_bypasses_cache();
    void imported_embedding_has_projections();
};

void TestDecoderImageCache::cached_matches_uncached_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("precision");
    QTest::newRow("generated/fp32") << "generated"
                                    << "fp32";
    QTest::newRow("generated/bf16") << "generated"
                                    << "bf16";
    QTest::newRow("sam_vit_tiny/fp32") << "sam_vit_tiny.pth"
                                       << "fp32";
    QTest::newRow("mobile_sam_tiny/fp32") << "mobile_sam_tiny.pth"
                                          << "fp32";
}

void TestDecoderImageCache::cached_matches_uncached() {
    QFETCH(QString, source);
    QFETCH(QString, precision);
    QTemporaryDir dir;
    const Loaded loaded = load_and_encode(source, precision, dir.path());
    QVERIFY2(loaded.model, qPrintable(loaded.problem));
    const sam::SamEmbedding& emb = *loaded.embedding;
    const sam::SamNetwork& net = loaded.model->network();

    // Made at encode time on the CPU, and counted in the cache's bytes.
    QVERIFY(emb.decoder_image.defined());
    const long long projection_bytes = emb.decoder_image.bytes();
    QCOMPARE(projection_bytes, 3LL * emb.embedding.size(2) * emb.embedding.size(3) *
                                   net.config().prompt_dim / net.config().attention_downsample *
                                   int64_t(emb.embedding.element_size()));
    QCOMPARE(sam::embedding_bytes(emb), (long long)emb.embedding.nbytes() + projection_bytes);

    const sam::ImageProjections zeros = zeros_like(emb.decoder_image);
    for (const sam::SamPrompt& prompt : prompt_sets(emb)) {
        const sam::EncodedPrompt encoded = encode(*loaded.model, emb, prompt);
        const sam::DecodedMasks plain = net.decode_masks(emb.embedding, encoded, prompt.multimask);
        const sam::DecodedMasks cached =
            net.decode_masks(emb.embedding, encoded, prompt.multimask, &emb.decoder_image);
        QVERIFY2(same(plain, cached), "cached projections changed the decoder's output");
        QCOMPARE(plain.low_res_logits.size(1), prompt.multimask ? 3 : 1);
        // The projections are really read: wrong ones give another result.
        QVERIFY(!same(plain, net.decode_masks(emb.embedding, encoded, prompt.multimask, &zeros)));
        // The public API (which uses them) agrees too.
        auto masks = loaded.model->decode(emb, prompt);
        QVERIFY2(masks.ok(), masks.ok() ? "" : masks.message().c_str());
        QVERIFY2(same(*masks, plain), "SamModel::decode differs from the uncached decoder");
    }
}

// A mask input changes the dense embedding, so the projections must not be used.
void TestDecoderImageCache::mask_prompt_bypasses_cache() {
    QFETCH(QString, source);
    QFETCH(QString, precision);
    QTemporaryDir dir;
    const Loaded loaded = load_and_encode(source, precision, dir.path());
    QVERIFY2(loaded.model, qPrintable(loaded.problem));
    const sam::SamEmbedding& emb = *loaded.embedding;
    const sam::SamNetwork& net = loaded.model->network();
    const sam::ImageProjections zeros = zeros_like(emb.decoder_image);

    for (sam::SamPrompt prompt : prompt_sets(emb)) {
        auto first = loaded.model->decode(emb, prompt);
        QVERIFY2(first.ok(), first.ok() ? "" : first.message().c_str());
        prompt.mask_input = first->low_res_logits[size_t(first->best_index)];
        const sam::EncodedPrompt encoded = encode(*loaded.model, emb, prompt);
        QVERIFY(encoded.has_mask_input);
        const sam::DecodedMasks plain = net.decode_masks(emb.embedding, encoded, prompt.multimask);
        // Ignored, even when wrong.
        QVERIFY(same(plain, net.decode_masks(emb.embedding, encoded, prompt.multimask, &zeros)));
        QVERIFY(same(
            plain, net.decode_masks(emb.embedding, encoded, prompt.multimask, &emb.decoder_image)));
        // Were they used, the result would differ: the bypass is what keeps it right.
        sam::EncodedPrompt as_if_no_mask = encoded;
        as_if_no_mask.has_mask_input = false;
        QVERIFY(!same(plain, net.decode_masks(emb.embedding, as_if_no_mask, prompt.multimask,
                                              &emb.decoder_image)));
        auto refined = loaded.model->decode(emb, prompt);
        QVERIFY2(refined.ok(), refined.ok() ? "" : refined.message().c_str());
        QVERIFY2(same(*refined, plain), "SamModel::decode with a mask input differs");
    }
}

// An embedding read back from the disk store gets the same projections as a fresh encode.
void TestDecoderImageCache::imported_embedding_has_projections() {
    QTemporaryDir dir;
    const Loaded loaded = load_and_encode("generated", "fp32", dir.path());
    QVERIFY2(loaded.model, qPrintable(loaded.problem));
    const sam::SamEmbedding& emb = *loaded.embedding;
    auto imported = loaded.model->import_embedding(sam::export_embedding(emb));
    QVERIFY2(imported.ok(), imported.ok() ? "" : imported.message().c_str());
    const sam::ImageProjections& a = emb.decoder_image;
    const sam::ImageProjections& b = (*imported)->decoder_image;
    QVERIFY(b.defined());
    QVERIFY(at::equal(a.token_to_image_k, b.token_to_image_k));
    QVERIFY(at::equal(a.token_to_image_v, b.token_to_image_v));
    QVERIFY(at::equal(a.image_to_token_q, b.image_to_token_q));
    QCOMPARE(sam::embedding_bytes(**imported), sam::embedding_bytes(emb));
}

QTEST_APPLESS_MAIN(TestDecoderImageCache)
#include "test_decoder_image_cache.moc"
