// SAM 2.1 through the engine, as the app's clicks, annotation batches and `segment` use it:
// load_model says "sam2", encode caches the embedding (image_embed and the high-resolution
// features) like SAM's, decode answers the golden prompts exactly as Sam2Model run alone and
// within the golden masks' tolerance, wrong-kind requests are refused in one line, and the
// benchmark times its stages. The tiny golden checkpoint of tests/data/sam2 keeps it fast.
#include "sam2_test_data.h"  // ATen-using headers before Qt's `slots` macro

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>
#include <tuple>

#include "engine/benchmark.h"
#include "engine/checkpoint_discovery.h"
#include "engine/engine.h"
#include "engine_benchmark_check.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "io/image_reader.h"
#include "models/sam2/sam2_model.h"
#include "sam_golden.h"
#include "test_data.h"

using namespace ps;
using namespace ps::engine;

namespace {

const QString kFamily = "sam2";

// What sam2_tiny.pt does not store, as test_sam2_parity reads it (sam2_test_data.h).
sam2::Sam2LayoutOverrides tiny_layout() {
    return tiny_sam2_options("cpu", runtime::Precision::Fp32).layout;
}

std::string tiny_path() {
    return test_data_path(kFamily, "sam2_tiny.pt");
}

cv::Mat golden_image() {
    auto rgb = io::read_rgb_image(test_data_path(kFamily, "image.png"));
    return rgb ? *rgb : cv::Mat();
}

// image_prompts.json's prompts; "mask_from" K takes prompt K's best low-resolution logits from
// `earlier` (the golden's mask_input is exactly that: p0's highest-IoU mask).
runtime::Prompt prompt_at(int index, const std::vector<runtime::MaskSet>& earlier) {
    int mask_from = -1;
    runtime::Prompt prompt = sam2_golden_prompt(index, &mask_from);
    if (mask_from >= 0) {
        const runtime::MaskSet& from = earlier.at(size_t(mask_from));
        prompt.mask_input = from.low_res_logits[size_t(from.best_index)];
    }
    return prompt;
}

int prompt_count() {
    return sam2_golden_prompt_count();
}

}  // namespace

class TestSam2Engine : public QObject {
    Q_OBJECT
  private slots:
    void load_model_reports_sam2();
    void discovery_names_sam2();
    void decode_equals_the_model_and_the_golden_masks();
    void second_encode_is_a_cache_hit_and_batches_pin();
    void disk_cache_round_trip_gives_the_same_masks();
    void published_layout_defaults_load_and_decode();
    void wrong_kind_is_refused_in_one_line();
    void benchmark_times_sam2_stages();
};

void TestSam2Engine::load_model_reports_sam2() {
    Engine engine(cpu_test_settings());
    auto info = wait(engine.load_model(tiny_path()));
    QVERIFY2(info.ok(), info.ok() ? "" : info.message().c_str());
    QCOMPARE(QString::fromStdString(info->family), QString("sam2"));
    QCOMPARE(QString::fromStdString(info->arch), QString("sam2.1_hiera_custom"));
    QCOMPARE(QString::fromStdString(info->device), QString("cpu"));
    QCOMPARE(QString::fromStdString(info->precision), QString("fp32"));
    // README: 748,330 state-dict floats (748,298 parameters + the 32-float Fourier matrix)
    QCOMPARE(info->parameters, 748330LL);
    QVERIFY(is_promptable_family(info->family));
    QVERIFY(!is_matting_family(info->family));
    QVERIFY(require_family(*info, "sam").ok());
    QVERIFY(!require_family(*info, "matting").ok());
    QVERIFY(!engine.model_config(info->id).has_value());  // a SamConfig is SAM 1's
    QVERIFY(engine.sam2_model_config(info->id).has_value());
    QCOMPARE(engine.sam2_model_config(info->id)->image_size, int64_t(1024));  // not stored

    // Layout overrides make another model (another id, other embeddings).
    auto tiny = wait(engine.load_model(tiny_path(), {runtime::Device::Cpu}, tiny_layout()));
    QVERIFY2(tiny.ok(), tiny.ok() ? "" : tiny.message().c_str());
    QVERIFY(tiny->id != info->id);
    QCOMPARE(engine.sam2_model_config(tiny->id)->image_size, int64_t(256));
    QCOMPARE(int(engine.models().size()), 2);
}

void TestSam2Engine::discovery_names_sam2() {
    const DiscoveredCheckpoint c = inspect_checkpoint(QString::fromStdString(tiny_path()));
    QVERIFY2(c.usable(), qPrintable(c.error));
    QCOMPARE(c.family, QString("sam2"));
    QCOMPARE(c.arch, QString("sam2.1_hiera_custom"));
    QCOMPARE(c.parameter_count, std::int64_t(748330));
}

void TestSam2Engine::decode_equals_the_model_and_the_golden_masks() {
    const cv::Mat rgb = golden_image();
    QVERIFY(!rgb.empty());
    sam2::Sam2Options options{runtime::Device::Cpu, runtime::Precision::Fp32, {}, tiny_layout()};
    auto direct = sam2::Sam2Model::load(tiny_path(), options);
    QVERIFY2(direct.ok(), direct.ok() ? "" : direct.message().c_str());
    auto direct_embedding = (*direct)->encode(rgb);
    QVERIFY(direct_embedding.ok());

    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(tiny_path(), {runtime::Device::Cpu}, tiny_layout()));
    auto image = wait(engine.open_image(rgb, "image.png"));
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    QVERIFY(image.ok());
    QCOMPARE(image->work_width, rgb.cols);  // no downscale: masks at the golden's size

    const QJsonObject tolerance = sam2_json("sam2_tolerances.json")["final_masks"]
                                      .toObject()["image"]
                                      .toObject()["fp32_tol"]
                                      .toObject();
    std::vector<runtime::MaskSet> ours, alone;
    for (int k = 0; k < prompt_count(); ++k) {
        // Decode without an explicit encode first: the click path encodes on a miss.
        auto masks = wait(engine.decode(image->id, model->id, prompt_at(k, ours), k));
        QVERIFY2(masks.ok(), masks.ok() ? "" : masks.message().c_str());
        auto expected = (*direct)->decode(**direct_embedding, prompt_at(k, alone));
        QVERIFY(expected.ok());
        QCOMPARE(masks->masks.size(), expected->masks.size());
        QCOMPARE(masks->best_index, expected->best_index);
        for (size_t m = 0; m < masks->masks.size(); ++m) {
            QCOMPARE(masks->iou[m], expected->iou[m]);
            QCOMPARE(cv::countNonZero(masks->masks[m] != expected->masks[m]), 0);
            const QString png =
                test_data_dir(kFamily) + QString("/image__p%1_mask%2.png").arg(k).arg(m);
            const MaskAgreement agreement = compare_masks(masks->masks[m], read_grey_png(png));
            QVERIFY2(agreement.iou >= tolerance["min_iou"].toDouble(2) &&
                         agreement.differing_fraction <=
                             tolerance["max_differing_fraction"].toDouble(-1),
                     qPrintable(QString("p%1 mask %2: IoU %3, %4 differ")
                                    .arg(k)
                                    .arg(m)
                                    .arg(agreement.iou)
                                    .arg(agreement.differing_fraction)));
        }
        ours.push_back(std::move(masks.value()));
        alone.push_back(std::move(expected.value()));
    }
    // Seven prompts, one encode: the embedding was cached after the first click.
    const MetricsSnapshot metrics = engine.metrics().snapshot();
    QCOMPARE(metrics.stage(Stage::Encode).count, 1LL);
    QCOMPARE(metrics.stage(Stage::MaskDecode).count, static_cast<long long>(prompt_count()));
}

void TestSam2Engine::second_encode_is_a_cache_hit_and_batches_pin() {
    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(tiny_path(), {runtime::Device::Cpu}, tiny_layout()));
    auto image = wait(engine.open_image(golden_image(), "image.png"));
    QVERIFY(model.ok() && image.ok());
    auto first = wait(engine.encode(image->id, model->id));
    QVERIFY2(first.ok(), first.ok() ? "" : first.message().c_str());
    QVERIFY(!first->cache_hit);
    QCOMPARE(QString::fromStdString(first->source), QString("encoder"));
    QVERIFY(first->encode_ms > 0);
    auto second = wait(engine.encode(image->id, model->id));
    QVERIFY(second.ok());
    QVERIFY(second->cache_hit);
    QCOMPARE(QString::fromStdString(second->source), QString("host cache"));
    QCOMPARE(second->encode_ms, 0.0);
    // The cache holds the image embedding and both high-resolution maps: at 256, 32x16x16 +
    // 4x64x64 + 8x32x32 floats.
    const long long expected_bytes = 4LL * (32 * 16 * 16 + 4 * 64 * 64 + 8 * 32 * 32);
    QCOMPARE(engine.metrics().snapshot().host_cache.bytes, expected_bytes);

    // A batch's encode stays with its image (not the shared cache), and its decodes find it.
    auto other = wait(engine.open_image(golden_image().t(), "transposed"));
    QVERIFY(other.ok());
    auto batch = wait(engine.encode(other->id, model->id, Priority::Batch));
    QVERIFY(batch.ok() && !batch->cache_hit);
    QCOMPARE(engine.metrics().snapshot().host_cache.bytes, expected_bytes);
    runtime::Prompt prompt;
    prompt.points = {{100, 100, 1}};
    prompt.multimask = false;
    auto masks = wait(engine.decode(other->id, model->id, prompt));
    QVERIFY(masks.ok());
    QCOMPARE(masks->masks.size(), size_t(1));
    QCOMPARE(masks->masks[0].cols, 300);
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Encode).count, 2LL);
}

void TestSam2Engine::disk_cache_round_trip_gives_the_same_masks() {
    // A folder's stored embeddings (Engine::enable_disk_cache): a later session answers SAM 2's
    // clicks from the file (image_embed and both high-resolution maps) without the encoder.
    QTemporaryDir dir;
    runtime::Prompt prompt = prompt_at(3, {});
    // A session on the folder: the tiny model and the golden image, loaded.
    const auto open_session = [&](Engine& engine) {
        const bool cached = engine.enable_disk_cache(dir.path()).ok();
        auto model = wait(engine.load_model(tiny_path(), {runtime::Device::Cpu}, tiny_layout()));
        auto image = wait(engine.open_image(golden_image(), "image.png"));
        return std::make_tuple(cached && model.ok() && image.ok(), model, image);
    };
    runtime::MaskSet first_masks;
    {
        Engine engine(cpu_test_settings());
        auto [opened, model, image] = open_session(engine);
        QVERIFY(opened);
        auto encoded = wait(engine.encode(image->id, model->id));
        QVERIFY(encoded.ok() && !encoded->cache_hit);
        auto masks = wait(engine.decode(image->id, model->id, prompt));
        QVERIFY(masks.ok());
        first_masks = std::move(masks.value());
    }
    Engine engine(cpu_test_settings());
    auto [opened, model, image] = open_session(engine);
    QVERIFY(opened);
    auto encoded = wait(engine.encode(image->id, model->id));
    QVERIFY2(encoded.ok(), encoded.ok() ? "" : encoded.message().c_str());
    QVERIFY(encoded->cache_hit);
    QCOMPARE(QString::fromStdString(encoded->source), QString("disk cache"));
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Encode).count, 0LL);
    auto masks = wait(engine.decode(image->id, model->id, prompt));
    QVERIFY(masks.ok());
    QCOMPARE(masks->masks.size(), first_masks.masks.size());
    QCOMPARE(masks->iou[0], first_masks.iou[0]);
    QCOMPARE(cv::countNonZero(masks->masks[0] != first_masks.masks[0]), 0);

    // The same file under another layout (image size 1024) does not share the entry.
    auto other = wait(engine.load_model(tiny_path()));
    QVERIFY(other.ok());
    auto reencoded = wait(engine.encode(image->id, other->id));
    QVERIFY(reencoded.ok());
    QVERIFY(!reencoded->cache_hit);
}

void TestSam2Engine::published_layout_defaults_load_and_decode() {
    // Without overrides the file runs as a custom layout at 1024 (what the CLI does with it):
    // still exactly the model alone.
    const cv::Mat rgb = golden_image();
    auto direct = sam2::Sam2Model::load(tiny_path(), {runtime::Device::Cpu});
    QVERIFY(direct.ok());
    auto embedding = (*direct)->encode(rgb);
    QVERIFY(embedding.ok());
    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(tiny_path()));
    auto image = wait(engine.open_image(rgb, "image.png"));
    QVERIFY(model.ok() && image.ok());
    const runtime::Prompt prompt = prompt_at(3, {});  // a box and a point
    auto masks = wait(engine.decode(image->id, model->id, prompt));
    QVERIFY2(masks.ok(), masks.ok() ? "" : masks.message().c_str());
    auto expected = (*direct)->decode(**embedding, prompt);
    QVERIFY(expected.ok());
    QCOMPARE(masks->masks.size(), expected->masks.size());
    QCOMPARE(cv::countNonZero(masks->masks[0] != expected->masks[0]), 0);
}

void TestSam2Engine::wrong_kind_is_refused_in_one_line() {
    Engine engine(cpu_test_settings());
    auto sam2 = wait(engine.load_model(tiny_path()));
    auto isnet = wait(engine.load_model(test_data_path("isnet", "isnet_tiny.pth")));
    auto image = wait(engine.open_image(golden_image(), "image.png"));
    QVERIFY(sam2.ok() && isnet.ok() && image.ok());

    // SAM 2 asked for a matte.
    auto matte = wait(engine.matte(image->id, sam2->id));
    QVERIFY(!matte.ok());
    QCOMPARE(matte.error().kind, ErrorKind::InvalidArgument);
    const QString matte_error = QString::fromStdString(matte.message());
    QVERIFY2(matte_error.startsWith(
                 "sam2_tiny.pt: looks like a Segment Anything 2 checkpoint (sam2), not a "
                 "background-removal model"),
             qPrintable(matte_error));
    QVERIFY(!matte_error.contains('\n'));
    auto batch = wait(engine.matte_batch({golden_image()}, sam2->id));
    QVERIFY(!batch.ok());
    QCOMPARE(QString::fromStdString(batch.message()), matte_error);

    // A matting model asked for clicks names SAM 2 among what would do.
    runtime::Prompt prompt;
    prompt.points = {{10, 10, 1}};
    auto masks = wait(engine.decode(image->id, isnet->id, prompt));
    QVERIFY(!masks.ok());
    const QString click_error = QString::fromStdString(masks.message());
    QVERIFY2(click_error.startsWith("isnet_tiny.pth: looks like an ISNet background-removal") &&
                 click_error.contains("SAM 2") && !click_error.contains('\n'),
             qPrintable(click_error));
    auto encoded = wait(engine.encode(image->id, isnet->id));
    QVERIFY(!encoded.ok());
    QCOMPARE(QString::fromStdString(encoded.message()), click_error);
}

void TestSam2Engine::benchmark_times_sam2_stages() {
    ModelBenchmark report;
    check_benchmark_through_engine(
        tiny_path(), "sam2", "sam2.1_hiera_custom",
        {"preprocess", "encode", "mask_decode", "postprocess", "click_to_mask", "cached_click"},
        &report);
    QVERIFY(report.images_per_s > 0);
}

QTEST_MAIN(TestSam2Engine)
#include "test_sam2_engine.moc"
