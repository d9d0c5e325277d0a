// SAM 2 architecture inference: the four published layouts from their specs, a custom layout
// end to end, and foreign or broken files refused in one line that names the file and tensor.
#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>
#include <opencv2/core.hpp>

#include <filesystem>
#include <fstream>

#include "golden_dir.h"
#include "io/checkpoint.h"
#include "models/runtime/tensor_specs.h"
#include "models/sam2/sam2_config.h"
#include "models/sam2/sam2_model.h"

using namespace ps;

namespace {

// Shape-only tensors: a zero-stride view of one scalar, so the large layout costs no memory.
io::TensorMap placeholder_tensors(const sam2::Sam2Config& config) {
    io::TensorMap tensors;
    for (const auto& [key, spec] : sam2::sam2_tensor_specs(config)) {
        const at::Tensor scalar = at::zeros({}, spec.integer ? at::kLong : at::kFloat);
        tensors[key] = scalar.expand(spec.shape);
    }
    return tensors;
}

// A small unpublished layout (two blocks fewer than hiera_t per stage, narrow widths) that runs
// in a blink: 128² input, windows that divide every stage map, one global block.
sam2::Sam2Config tiny_config() {
    sam2::Sam2Config c = sam2::official_sam2_config("sam2.1_hiera_t");
    c.arch = "sam2.1_hiera_custom";
    c.image_size = 128;
    c.hiera.embed_dim = 8;
    c.hiera.num_heads = 1;
    c.hiera.stages = {1, 2, 2, 1};
    c.hiera.window_spec = {4, 4, 4, 2};
    c.hiera.global_att_blocks = {4};
    c.hiera.pos_embed_bkg = {7, 7};
    const std::vector<int64_t> dims = c.hiera.dims();
    c.backbone_channels.assign(dims.rbegin(), dims.rend());
    c.d_model = 32;
    c.decoder_mlp_dim = 64;
    c.iou_head_hidden = 32;
    c.mem_dim = 16;
    c.memory_attention_layers = 1;
    c.memory_attention_ffn = 64;
    return c;
}

sam2::Sam2Options tiny_options() {
    const sam2::Sam2Config c = tiny_config();
    sam2::Sam2Options options;
    options.device = runtime::Device::Cpu;
    options.layout.image_size = c.image_size;
    options.layout.num_heads = c.hiera.num_heads;
    options.layout.window_spec = c.hiera.window_spec;
    options.layout.global_att_blocks = c.hiera.global_att_blocks;
    return options;
}

std::string save(const QTemporaryDir& dir, const std::string& name, const io::TensorMap& tensors) {
    const std::string path = (dir.path() + "/" + QString::fromStdString(name)).toStdString();
    const Status saved = io::save_safetensors(path, tensors, {{"format", "pt"}});
    if (!saved) qFatal("%s", saved.message().c_str());
    return path;
}

}  // namespace

class TestSam2Config : public QObject {
    Q_OBJECT
  private slots:
    void official_layouts_are_inferred_data();
    void official_layouts_are_inferred();
    void hiera_blocks_follow_the_yaml();
    void unknown_arch_is_refused();
    void custom_layout_runs_end_to_end();
    void foreign_and_broken_files_are_explained_data();
    void foreign_and_broken_files_are_explained();
};

void TestSam2Config::official_layouts_are_inferred_data() {
    // Key counts and numbers of values of SAM2Base(...).state_dict() built from the sam2.1 yamls
    // with the official code (facebookresearch/sam2 2b90b9f, torch 1.13): 38.9M / 46.1M / 80.9M
    // / 224.4M, the gaussian matrix buffer of the prompt encoder included.
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("tensors");
    QTest::addColumn<qint64>("values");
    QTest::newRow("hiera_t") << "sam2.1_hiera_t" << 471 << qint64(38962754);
    QTest::newRow("hiera_s") << "sam2.1_hiera_s" << 519 << qint64(46060610);
    QTest::newRow("hiera_b+") << "sam2.1_hiera_b+" << 615 << qint64(80850434);
    QTest::newRow("hiera_l") << "sam2.1_hiera_l" << 903 << qint64(224446898);
}

void TestSam2Config::official_layouts_are_inferred() {
    QFETCH(QString, arch);
    QFETCH(int, tensors);
    QFETCH(qint64, values);
    const sam2::Sam2Config expected = sam2::official_sam2_config(arch.toStdString());
    QCOMPARE(static_cast<int>(sam2::sam2_tensor_specs(expected).size()), tensors);
    QCOMPARE(static_cast<qint64>(expected.parameter_count), values);

    auto inferred = sam2::infer_sam2_config(placeholder_tensors(expected), "synthetic.pt");
    QVERIFY2(inferred.ok(), inferred.ok() ? "" : inferred.message().c_str());
    QCOMPARE(QString::fromStdString(inferred->arch), arch);
    QCOMPARE(inferred->hiera.embed_dim, expected.hiera.embed_dim);
    QCOMPARE(inferred->hiera.stages, expected.hiera.stages);
    QCOMPARE(inferred->hiera.num_heads, expected.hiera.num_heads);
    QCOMPARE(inferred->hiera.window_spec, expected.hiera.window_spec);
    QCOMPARE(inferred->hiera.global_att_blocks, expected.hiera.global_att_blocks);
    QCOMPARE(inferred->hiera.pos_embed_bkg, expected.hiera.pos_embed_bkg);
    QCOMPARE(inferred->hiera.mlp_ratio, int64_t(4));
    QCOMPARE(inferred->backbone_channels, expected.backbone_channels);
    QCOMPARE(inferred->d_model, int64_t(256));
    QCOMPARE(inferred->mem_dim, int64_t(64));
    QCOMPARE(inferred->num_maskmem, int64_t(7));
    QVERIFY(inferred->use_high_res_features);
    QVERIFY(inferred->pred_obj_scores && inferred->pred_obj_scores_mlp);
    QCOMPARE(static_cast<qint64>(inferred->parameter_count), values);
    QCOMPARE(QString::fromStdString(inferred->dtype), QString("float32"));
    // The short names of the CLI name the same layouts.
    const std::string short_name = arch.toStdString().substr(std::string("sam2.1_").size());
    QCOMPARE(sam2::official_sam2_config(short_name).parameter_count, expected.parameter_count);
}

void TestSam2Config::hiera_blocks_follow_the_yaml() {
    // hiera_t: stages [1, 2, 7, 2], windows (8, 4, 14, 7) lagging a block, global 5, 7, 9,
    // q-pooling at the first block of stages 2-4.
    const sam2::HieraConfig h = sam2::official_sam2_config("sam2.1_hiera_t").hiera;
    const std::vector<int64_t> windows = {8, 8, 4, 4, 14, 0, 14, 0, 14, 0, 14, 7};
    const std::vector<int64_t> heads = {1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 8, 8};
    const std::vector<int64_t> dims = {96, 192, 192, 384, 384, 384, 384, 384, 384, 384, 768, 768};
    for (int64_t b = 0; b < h.depth(); ++b) {
        QCOMPARE(h.block_window(b), windows[b]);
        QCOMPARE(h.block_heads(b), heads[b]);
        QCOMPARE(h.block_dim_out(b), dims[b]);
        QCOMPARE(h.block_q_pool(b), b == 1 || b == 3 || b == 10);
    }
    QCOMPARE(h.stage_ends(), (std::vector<int64_t>{0, 2, 9, 11}));
}

void TestSam2Config::unknown_arch_is_refused() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sam2::official_sam2_config("hiera_xl"));
}

void TestSam2Config::custom_layout_runs_end_to_end() {
    QTemporaryDir dir;
    const sam2::Sam2Config config = tiny_config();
    io::TensorMap tensors = runtime::random_tensors(sam2::sam2_tensor_specs(config), 7);
    const std::string path = save(dir, "tiny.safetensors", tensors);

    auto inferred = sam2::infer_sam2_config(tensors, "tiny.safetensors");
    QVERIFY2(inferred.ok(), inferred.ok() ? "" : inferred.message().c_str());
    QCOMPARE(QString::fromStdString(inferred->arch), QString("sam2.1_hiera_custom"));
    QCOMPARE(inferred->hiera.stages, config.hiera.stages);
    QCOMPARE(inferred->d_model, int64_t(32));

    auto model = sam2::Sam2Model::load(path, tiny_options());
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    cv::Mat image(90, 120, CV_8UC3);
    cv::randu(image, 0, 255);
    auto embedding = (*model)->encode(image);
    QVERIFY2(embedding.ok(), embedding.ok() ? "" : embedding.message().c_str());
    runtime::Prompt prompt;
    prompt.points = {{60, 45, 1}};
    auto masks = (*model)->decode(**embedding, prompt);
    QVERIFY2(masks.ok(), masks.ok() ? "" : masks.message().c_str());
    QCOMPARE(masks->masks.size(), size_t(3));
    QCOMPARE(masks->masks[0].rows, 90);
    QCOMPARE(masks->masks[0].cols, 120);
    for (float iou : masks->iou) QVERIFY(iou >= 0 && iou <= 1);  // the sigmoid IoU head

    prompt.multimask = false;
    prompt.box = std::array<double, 4>{10, 10, 100, 80};
    prompt.mask_input = masks->low_res_logits[0];
    auto single = (*model)->decode(**embedding, prompt);
    QVERIFY2(single.ok(), single.ok() ? "" : single.message().c_str());
    QCOMPARE(single->masks.size(), size_t(1));
}

void TestSam2Config::foreign_and_broken_files_are_explained_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    QTest::newRow("SAM 1") << "golden:sam_vit_tiny.pth"
                           << "sam_vit_tiny.pth: looks like a Segment Anything (SAM 1";
    QTest::newRow("U2-Net") << "golden:u2netp.pth"
                            << "u2netp.pth: looks like a U²-Net";
    QTest::newRow("truncated") << "truncated"
                               << "truncated.safetensors";
    QTest::newRow("missing tensor")
        << "missing"
        << "missing.safetensors: missing tensor sam_mask_decoder.conv_s1.weight";
    QTest::newRow("misshaped tensor")
        << "misshaped"
        << "misshaped.safetensors: tensor image_encoder.neck.convs.1.conv.weight has shape "
           "[32, 16, 1, 1], expected [32, 32, 1, 1]";
    QTest::newRow("NaN weights") << "nan"
                                 << "nan.safetensors: tensor no_mem_embed holds NaN";
    QTest::newRow("decoder missing")
        << "no_decoder"
        << "no_decoder.safetensors: has image_encoder.trunk.* but no sam_mask_decoder.*";
    QTest::newRow("bare backbone") << "bare"
                                   << "bare.safetensors: looks like a bare Hiera backbone";
}

void TestSam2Config::foreign_and_broken_files_are_explained() {
    QFETCH(QString, file);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const io::TensorMap tiny = runtime::random_tensors(sam2::sam2_tensor_specs(tiny_config()), 3);
    std::string path;
    if (file.startsWith("golden:")) {
        path = golden_path(file.mid(7));
        if (!std::filesystem::exists(path)) QSKIP("golden file not found ($PHOTOSYNTH_GOLDEN)");
    } else if (file == "truncated") {
        path = save(dir, "truncated.safetensors", tiny);
        std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    } else {
        io::TensorMap tensors = tiny;
        if (file == "missing") tensors.erase("sam_mask_decoder.conv_s1.weight");
        if (file == "misshaped")
            tensors["image_encoder.neck.convs.1.conv.weight"] = at::zeros({32, 16, 1, 1});
        if (file == "nan") tensors["no_mem_embed"].fill_(NAN);
        if (file == "no_decoder" || file == "bare") {
            for (auto it = tensors.begin(); it != tensors.end();) {
                const bool drop = file == "bare" ? it->first.rfind("image_encoder.trunk.", 0) != 0
                                                 : it->first.rfind("sam_mask_decoder.", 0) == 0;
                it = drop ? tensors.erase(it) : std::next(it);
            }
            if (file == "bare") {
                io::TensorMap bare;
                for (const auto& [key, t] : tensors) bare[key.substr(14)] = t;  // "trunk.*"
                tensors = bare;
            }
        }
        path = save(dir, file.toStdString() + ".safetensors", tensors);
    }
    auto model = sam2::Sam2Model::load(path, tiny_options());
    QVERIFY(!model.ok());
    const QString message = QString::fromStdString(model.message());
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(!message.contains('\n'), qPrintable(message));
}

QTEST_MAIN(TestSam2Config)
#include "test_sam2_config.moc"
