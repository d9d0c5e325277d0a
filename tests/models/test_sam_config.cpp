// Architecture inference: official layouts, the golden checkpoints, custom shapes, foreign files.
#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>
#include <opencv2/core.hpp>

#include "golden_dir.h"
#include "io/checkpoint.h"
#include "models/sam/sam_model.h"
#include "models/sam/sam_network.h"
#include "models/sam/sam_shapes.h"
#include "sam_fixtures.h"

using namespace ps;

namespace {

// Shape-only tensors: a zero-stride view of one scalar, so vit_h costs no memory.
io::TensorMap placeholder_tensors(const sam::SamConfig& config) {
    io::TensorMap tensors;
    for (const auto& [key, spec] : sam::sam_tensor_specs(config)) {
        const at::Tensor scalar = at::zeros({}, spec.integer ? at::kLong : at::kFloat);
        tensors[key] = scalar.expand(spec.shape);
    }
    return tensors;
}

}  // namespace

class TestSamConfig : public QObject {
    Q_OBJECT
private slots:
    void official_layouts_are_inferred_data();
    void official_layouts_are_inferred();
    void golden_checkpoints_match_official_layout_data();
    void golden_checkpoints_match_official_layout();
    void custom_architecture_runs_end_to_end();
    void foreign_and_broken_files_are_explained_data();
    void foreign_and_broken_files_are_explained();
};

void TestSamConfig::official_layouts_are_inferred_data() {
    QTest::addColumn<QString>("arch");
    for (const char* arch : {"vit_b", "vit_l", "vit_h", "mobile_sam"}) QTest::newRow(arch) << arch;
}

void TestSamConfig::official_layouts_are_inferred() {
    QFETCH(QString, arch);
    const sam::SamConfig expected = sam::official_sam_config(arch.toStdString());
    const io::TensorMap tensors = placeholder_tensors(expected);
    auto inferred = sam::infer_sam_config(tensors, "synthetic.pth");
    QVERIFY2(inferred.ok(), inferred.ok() ? "" : inferred.message().c_str());
    QCOMPARE(QString::fromStdString(inferred->arch), arch);
    if (expected.encoder == sam::EncoderKind::ViT) {
        QCOMPARE(inferred->vit.embed_dim, expected.vit.embed_dim);
        QCOMPARE(inferred->vit.depth, expected.vit.depth);
        QCOMPARE(inferred->vit.num_heads, expected.vit.num_heads);
        QCOMPARE(inferred->vit.global_blocks, expected.vit.global_blocks);
        QCOMPARE(inferred->vit.window_size_per_block, expected.vit.window_size_per_block);
    } else {
        QCOMPARE(inferred->tiny_vit.embed_dims, expected.tiny_vit.embed_dims);
        QCOMPARE(inferred->tiny_vit.depths, expected.tiny_vit.depths);
        QCOMPARE(inferred->tiny_vit.num_heads, expected.tiny_vit.num_heads);
        QCOMPARE(inferred->tiny_vit.window_sizes, expected.tiny_vit.window_sizes);
        QCOMPARE(inferred->tiny_vit.merge_strides, expected.tiny_vit.merge_strides);
    }
    QCOMPARE(inferred->prompt_dim, int64_t(256));
    QCOMPARE(inferred->decoder_depth, int64_t(2));
    QCOMPARE(inferred->decoder_mlp_dim, int64_t(2048));
    QCOMPARE(inferred->iou_head_hidden, int64_t(256));
    // Published parameter counts: vit_b 93.7M, vit_l 312.3M, vit_h 641.1M, MobileSAM 10.1M.
    const std::map<QString, std::pair<double, double>> params{
        {"vit_b", {93.6e6, 93.8e6}}, {"vit_l", {312.2e6, 312.4e6}},
        {"vit_h", {641.0e6, 641.2e6}}, {"mobile_sam", {10.0e6, 10.2e6}}};
    const double count = static_cast<double>(inferred->parameter_count);
    QVERIFY2(count > params.at(arch).first && count < params.at(arch).second,
             qPrintable(QString("%1 parameters").arg(count)));
    // Every key the network reads exists with the right shape (its constructor checks them).
    sam::SamNetwork network(tensors, *inferred, "synthetic.pth");
    QCOMPARE(network.config().arch, inferred->arch);
}

void TestSamConfig::golden_checkpoints_match_official_layout_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("sam_vit_tiny") << "sam_vit_tiny.pth";
    QTest::newRow("mobile_sam_tiny") << "mobile_sam_tiny.pth";
}

void TestSamConfig::golden_checkpoints_match_official_layout() {
    QFETCH(QString, file);
    auto checkpoint = io::load_checkpoint(golden_path(file));
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.message().c_str());
    auto config = sam::infer_sam_config(checkpoint->tensors, file.toStdString());
    QVERIFY2(config.ok(), config.ok() ? "" : config.message().c_str());
    // The layout generated from the inferred configuration is exactly the file's layout.
    const auto specs = sam::sam_tensor_specs(*config);
    for (const auto& [key, tensor] : checkpoint->tensors) {
        const auto it = specs.find(key);
        QVERIFY2(it != specs.end(), ("unexpected key in the file: " + key).c_str());
        QVERIFY2(tensor.sizes() == at::IntArrayRef(it->second.shape), key.c_str());
    }
    QCOMPARE(specs.size(), checkpoint->tensors.size());
}

void TestSamConfig::custom_architecture_runs_end_to_end() {
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/custom.safetensors").toStdString();
    QVERIFY(io::save_safetensors(path, random_sam_tensors(custom_vit_config(), 7)).ok());
    auto model = sam::SamModel::load(path, {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    const sam::SamConfig& c = (*model)->config();
    QCOMPARE(c.vit.embed_dim, int64_t(48));
    QCOMPARE(c.vit.num_heads, int64_t(3));
    QCOMPARE(c.vit.window_size_per_block, (std::vector<int64_t>{8, 8, 0}));
    QCOMPARE(c.decoder_depth, int64_t(1));
    QCOMPARE(c.iou_head_depth, int64_t(2));

    cv::Mat image(90, 130, CV_8UC3);
    cv::randu(image, 0, 255);
    auto embedding = (*model)->encode(image);
    QVERIFY2(embedding.ok(), embedding.ok() ? "" : embedding.message().c_str());
    sam::SamPrompt prompt;
    prompt.points = {{40.5, 30, 1}, {100, 70, 0}};
    auto masks = (*model)->decode(**embedding, prompt);
    QVERIFY2(masks.ok(), masks.ok() ? "" : masks.message().c_str());
    QCOMPARE(int(masks->masks.size()), 3);
    QCOMPARE(masks->masks[0].rows, 90);
    QCOMPARE(masks->masks[0].cols, 130);
    for (float iou : masks->iou) QVERIFY(std::isfinite(iou));
}

void TestSamConfig::foreign_and_broken_files_are_explained_data() {
    QTest::addColumn<QString>("case_name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("u2net") << "u2net" << "looks like a U²-Net";
    QTest::newRow("missing tensor") << "missing" << "missing tensor mask_decoder.iou_prediction_head.layers.0.weight";
    QTest::newRow("wrong shape") << "shape" << "image_encoder.neck.0.weight has shape [32, 50, 1, 1]";
    QTest::newRow("encoder only") << "encoder_only" << "no prompt_encoder.*";
    QTest::newRow("plain tensors") << "plain" << "not a Segment Anything checkpoint";
}

void TestSamConfig::foreign_and_broken_files_are_explained() {
    QFETCH(QString, case_name);
    QFETCH(QString, expected);
    io::TensorMap tensors;
    if (case_name == "u2net") {
        auto file = io::load_checkpoint(golden_path("u2netp.pth"));
        QVERIFY(file.ok());
        tensors = file->tensors;
    } else {
        auto file = io::load_checkpoint(golden_path("sam_vit_tiny.pth"));
        QVERIFY(file.ok());
        tensors = file->tensors;
        if (case_name == "missing") {
            tensors.erase("mask_decoder.iou_prediction_head.layers.0.weight");
        } else if (case_name == "shape") {
            tensors["image_encoder.neck.0.weight"] = at::zeros({32, 50, 1, 1});
        } else if (case_name == "encoder_only") {
            for (auto it = tensors.begin(); it != tensors.end();) {
                it = it->first.rfind("image_encoder.", 0) == 0 ? std::next(it) : tensors.erase(it);
            }
        } else if (case_name == "plain") {
            tensors = {{"weight", at::zeros({3})}, {"bias", at::zeros({3})}};
        }
    }
    // Through the file path too, as a user meets it.
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/case.safetensors").toStdString();
    QVERIFY(io::save_safetensors(path, tensors).ok());
    auto model = sam::SamModel::load(path);
    QVERIFY(!model.ok());
    QVERIFY2(QString::fromStdString(model.message()).contains(expected), model.message().c_str());
    QVERIFY2(model.message().rfind("case.safetensors: ", 0) == 0, model.message().c_str());
}

QTEST_APPLESS_MAIN(TestSamConfig)
#include "test_sam_config.moc"
