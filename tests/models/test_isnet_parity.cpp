// ISNet parity with DIS's official isnet.py + Inference.py on tests/data/isnet (three images and
// the network alone), configuration inference, and the files an ISNet loader must refuse.
// ATen and our ATen-using headers come before Qt's: Qt's `slots` macro breaks ATen's headers.
#include <ATen/ATen.h>

#include "io/checkpoint.h"
#include "io/image_reader.h"
#include "models/isnet/isnet_config.h"
#include "models/isnet/isnet_model.h"
#include "models/isnet/isnet_network.h"
#include "models/isnet/isnet_transforms.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "hostile_checkpoint.h"
#include "sam_golden.h"
#include "test_data.h"

using namespace ps;

namespace {

// tests/data/isnet/README.md, "Tolerances": max |diff| of the side maps (d1 in [0, 1]), the soft
// matte's max and mean |diff|, the 8-bit matte's max (grey levels) and mean (in [0, 1] units).
struct Tolerances {
    double sides = 0, matte_max = 0, matte_mean = 0;
    int matte_u8_max = 0;
    double matte_u8_mean = 0;
};

Tolerances tolerances_for(const QString& precision) {
    if (precision == "bf16") return {0.2, 0.25, 0.04, 45, 0.04};
    return {5e-5, 2e-4, 1e-5, 1, 1e-3};
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble).cpu() - b.to(at::kDouble).cpu()).abs().max().item<double>();
}

double mean_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble).cpu() - b.to(at::kDouble).cpu()).abs().mean().item<double>();
}

// Logs the difference (the README's "seen" columns come from these lines).
void expect_close(const at::Tensor& got, const io::TensorMap& golden, const std::string& key,
                  double limit) {
    const auto it = golden.find(key);
    QVERIFY2(it != golden.end(), ("golden tensor missing: " + key).c_str());
    QVERIFY2(got.sizes() == it->second.sizes(),
             (key + ": shape differs from the golden one").c_str());
    const double diff = max_abs_diff(got, it->second);
    qInfo("%s %s: max |diff| %.3g (tolerance %.3g)", qPrintable(QTest::currentDataTag()),
          key.c_str(), diff, limit);
    QVERIFY2(diff <= limit, qPrintable(QString("%1: max |diff| %2 > tolerance %3")
                                           .arg(QString::fromStdString(key))
                                           .arg(diff)
                                           .arg(limit)));
}

io::TensorMap load_golden(const QString& name) {
    auto file = io::load_checkpoint(isnet_data_path(name));
    if (!file.ok()) qWarning("%s", file.message().c_str());
    return file.ok() ? file->tensors : io::TensorMap{};
}

isnet::IsNetOptions options_for(const QString& device, const QString& precision) {
    isnet::IsNetOptions options;
    options.device = *runtime::parse_device(device.toStdString());
    options.precision = *runtime::parse_precision(precision.toStdString());
    return options;
}

// Shape-only tensors: a zero-stride view of one scalar, so isnet's 44M parameters cost nothing.
io::TensorMap placeholder_tensors(const isnet::IsNetConfig& config) {
    io::TensorMap tensors;
    for (const auto& [key, spec] : isnet::isnet_tensor_specs(config)) {
        tensors[key] = at::zeros({}, spec.integer ? at::kLong : at::kFloat).expand(spec.shape);
    }
    return tensors;
}

QStringList devices() {
    QStringList out{"cpu"};
    if (runtime::cuda_available()) out << "cuda";
    return out;
}

QStringList precisions() {
    // As test_u2net_parity: PHOTOSYNTH_TEST_BF16=0 skips the (slow on CPU) bf16 rows.
    return qgetenv("PHOTOSYNTH_TEST_BF16") == "0" ? QStringList{"fp32"}
                                                  : QStringList{"fp32", "bf16"};
}

}  // namespace

class TestIsNetParity : public QObject {
    Q_OBJECT
  private slots:
    void network_alone_data();
    void network_alone();
    void golden_case_data();
    void golden_case();
    void official_layout_is_inferred();
    void golden_checkpoint_matches_its_layout();
    void transforms_follow_inference_py();
    void foreign_and_broken_files_are_explained_data();
    void foreign_and_broken_files_are_explained();
};

void TestIsNetParity::network_alone_data() {
    QTest::addColumn<QString>("device");
    QTest::addColumn<QString>("precision");
    for (const QString& device : devices())
        for (const QString& precision : precisions())
            QTest::newRow(qPrintable(device + "/" + precision)) << device << precision;
}

void TestIsNetParity::network_alone() {
    // An 88 x 136 input: conv_in halves it to 44 x 68, and ceil-mode pooling takes it down to
    // 2 x 3, so every odd size on the way is met.
    QFETCH(QString, device);
    QFETCH(QString, precision);
    auto model =
        isnet::IsNetModel::load(isnet_data_path("isnet_tiny.pth"), options_for(device, precision));
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    const io::TensorMap golden = load_golden("isnet_tiny__network.safetensors");
    QVERIFY(golden.count("input"));
    const isnet::IsNetNetwork& net = (*model)->network();
    const isnet::SideOutputs sides = net.forward(golden.at("input").to(net.device()));
    const double limit = tolerances_for(precision).sides;
    for (int k = 0; k < 6; ++k) expect_close(sides[k], golden, "d" + std::to_string(k + 1), limit);
    QCOMPARE(max_abs_diff(net.forward_d1(golden.at("input").to(net.device())), sides[0]), 0.0);
}

void TestIsNetParity::golden_case_data() {
    QTest::addColumn<QString>("image");
    QTest::addColumn<QString>("device");
    QTest::addColumn<QString>("precision");
    for (const QString& device : devices())
        for (const QString& precision : precisions())
            for (const char* image : {"landscape", "portrait", "large"})
                QTest::newRow(qPrintable(QString("%1/%2/%3").arg(image, device, precision)))
                    << image << device << precision;
}

void TestIsNetParity::golden_case() {
    QFETCH(QString, image);
    QFETCH(QString, device);
    QFETCH(QString, precision);
    const Tolerances tol = tolerances_for(precision);
    auto loaded =
        isnet::IsNetModel::load(isnet_data_path("isnet_tiny.pth"), options_for(device, precision));
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.message().c_str());
    const isnet::IsNetModel& model = **loaded;
    QCOMPARE(QString::fromStdString(model.config().arch), QString("isnet_custom"));
    QCOMPARE(model.input_size(), 1024);
    const isnet::IsNetNetwork& net = model.network();
    const io::TensorMap golden = load_golden("isnet_tiny__" + image + ".safetensors");
    QVERIFY(golden.count("resized_sum"));
    auto rgb = io::read_rgb_image(isnet_data_path(image + ".png"));
    QVERIFY2(rgb.ok(), rgb.ok() ? "" : rgb.message().c_str());

    // Step 1: the resize to 1024 x 1024 and its truncation to uint8 are bit-exact.
    const at::Tensor resized = isnet::resize_for_isnet(*rgb, 1024);
    QCOMPARE(resized.sum().item<int64_t>(), golden.at("resized_sum").item<int64_t>());
    const at::Tensor sub = resized[0].slice(1, 0, 1024, 8).slice(2, 0, 1024, 8).permute({1, 2, 0});
    QVERIFY2(at::equal(sub.contiguous(), golden.at("resized_sub")), "resized image differs");

    // Step 2: the network on our input, d1 against every 8th pixel of the reference's.
    const at::Tensor input = isnet::normalize_for_isnet(resized, net.device());
    const at::Tensor d1 = net.forward_d1(input);
    QCOMPARE(d1.sizes(), at::IntArrayRef({1, 1, 1024, 1024}));
    expect_close(d1.slice(2, 0, 1024, 8).slice(3, 0, 1024, 8), golden, "d1_sub", tol.sides);

    // Step 3: the post-processing on our d1 (the float matte where the file holds it).
    if (golden.count("matte")) {
        const at::Tensor soft = isnet::soft_matte_from_d1(d1, rgb->rows, rgb->cols);
        const at::Tensor expected = golden.at("matte").unsqueeze(0);
        QCOMPARE(soft.sizes(), expected.sizes());
        const double max_diff = max_abs_diff(soft, expected);
        const double mean_diff = mean_abs_diff(soft, expected);
        qInfo("soft matte: max |diff| %.3g, mean %.3g", max_diff, mean_diff);
        QVERIFY2(
            max_diff <= tol.matte_max && mean_diff <= tol.matte_mean,
            qPrintable(QString("soft matte |diff| max %1 mean %2").arg(max_diff).arg(mean_diff)));
    }

    // Step 4: the public API end to end, against the reference's 8-bit matte.
    auto result = model.run(*rgb);
    QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
    const cv::Mat expected =
        read_grey_png(isnet_data_dir() + "/isnet_tiny__" + image + "_matte.png");
    QVERIFY2(!expected.empty(), "cannot read the golden matte");
    QCOMPARE(result->matte.type(), CV_8UC1);
    QCOMPARE(result->matte.rows, expected.rows);
    QCOMPARE(result->matte.cols, expected.cols);
    cv::Mat diff;
    cv::absdiff(result->matte, expected, diff);
    double worst = 0;
    cv::minMaxLoc(diff, nullptr, &worst);
    const double mean_diff = cv::mean(diff)[0] / 255.0;
    QVERIFY2(
        worst <= tol.matte_u8_max && mean_diff <= tol.matte_u8_mean,
        qPrintable(QString("8-bit matte |diff| max %1 levels, mean %2").arg(worst).arg(mean_diff)));
    QVERIFY(result->preprocess_ms > 0 && result->forward_ms > 0 && result->postprocess_ms > 0);
    qInfo(
        "%s: preprocess %.1f ms, forward %.1f ms, postprocess %.1f ms, 8-bit matte max %g "
        "levels, mean |diff| %.2e",
        qPrintable(QTest::currentDataTag()), result->preprocess_ms, result->forward_ms,
        result->postprocess_ms, worst, mean_diff);
}

void TestIsNetParity::official_layout_is_inferred() {
    const isnet::IsNetConfig expected = isnet::official_isnet_config("isnet");
    const io::TensorMap tensors = placeholder_tensors(expected);
    // isnet-general-use.pth: 798 entries, 44,046,790 weights and biases (176.3 MB as float32
    // with the BatchNorm statistics), counted on the official ISNetDIS().
    QCOMPARE(tensors.size(), size_t(798));
    int64_t learnable = 0;
    for (const auto& [key, tensor] : tensors)
        if (key.find("running_") == std::string::npos && tensor.is_floating_point())
            learnable += tensor.numel();
    QCOMPARE(learnable, int64_t(44046790));
    auto inferred = isnet::infer_isnet_config(tensors, "isnet-general-use.pth");
    QVERIFY2(inferred.ok(), inferred.ok() ? "" : inferred.message().c_str());
    QCOMPARE(QString::fromStdString(inferred->arch), QString("isnet"));
    QCOMPARE(inferred->stem_ch, int64_t(64));
    for (size_t i = 0; i < expected.stages.size(); ++i) {
        const runtime::RsuConfig &got = inferred->stages[i], &want = expected.stages[i];
        QCOMPARE(QString::fromStdString(got.name), QString::fromStdString(want.name));
        QCOMPARE(got.height, want.height);
        QCOMPARE(got.dilated, want.dilated);
        QCOMPARE(got.in_ch, want.in_ch);
        QCOMPARE(got.mid_ch, want.mid_ch);
        QCOMPARE(got.out_ch, want.out_ch);
    }
    QCOMPARE(inferred->side_in, expected.side_in);
    // Every key the network reads exists with the right shape (its constructor checks them).
    isnet::IsNetNetwork network(tensors, *inferred, "isnet-general-use.pth");
    QCOMPARE(QString::fromStdString(network.config().arch), QString("isnet"));
}

void TestIsNetParity::golden_checkpoint_matches_its_layout() {
    // The tiny checkpoint holds exactly the keys of the official layout at 1/8 of its widths.
    auto checkpoint = io::load_checkpoint(isnet_data_path("isnet_tiny.pth"));
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.message().c_str());
    auto config = isnet::infer_isnet_config(checkpoint->tensors, "isnet_tiny.pth");
    QVERIFY2(config.ok(), config.ok() ? "" : config.message().c_str());
    const isnet::IsNetConfig official = isnet::official_isnet_config("isnet");
    QCOMPARE(config->stem_ch, official.stem_ch / 8);
    for (size_t i = 0; i < official.stages.size(); ++i) {
        QCOMPARE(config->stages[i].in_ch, official.stages[i].in_ch / 8);
        QCOMPARE(config->stages[i].mid_ch, official.stages[i].mid_ch / 8);
        QCOMPARE(config->stages[i].out_ch, official.stages[i].out_ch / 8);
    }
    const auto specs = isnet::isnet_tensor_specs(*config);
    for (const auto& [key, tensor] : checkpoint->tensors) {
        const auto it = specs.find(key);
        QVERIFY2(it != specs.end(), ("unexpected key in the file: " + key).c_str());
        QVERIFY2(tensor.sizes() == at::IntArrayRef(it->second.shape), key.c_str());
    }
    QCOMPARE(specs.size(), checkpoint->tensors.size());
}

void TestIsNetParity::transforms_follow_inference_py() {
    // A flat image stays flat through the resize; 200 / 255 - 0.5 is the normalised value.
    const cv::Mat grey(7, 5, CV_8UC3, cv::Scalar::all(200));
    const at::Tensor resized = isnet::resize_for_isnet(grey, 16);
    QCOMPARE(resized.sizes(), at::IntArrayRef({1, 3, 16, 16}));
    QVERIFY(resized.eq(200).all().item<bool>());
    // An image already at the network's size: its bytes as they are, which is what the
    // reference's float upsample to the same size gives.
    cv::Mat noise(16, 16, CV_8UC3);
    cv::randu(noise, 0, 256);
    const at::Tensor same = isnet::resize_for_isnet(noise, 16);
    const at::Tensor hwc = at::from_blob(noise.data, {16, 16, 3}, at::kByte);
    const at::Tensor through_float =
        at::upsample_bilinear2d(hwc.to(at::kFloat).permute({2, 0, 1}).unsqueeze(0), {16, 16},
                                /*align_corners=*/false)
            .to(at::kByte);
    QVERIFY(same.equal(through_float));
    QVERIFY(same.equal(hwc.permute({2, 0, 1}).unsqueeze(0)));
    const at::Tensor input = isnet::normalize_for_isnet(resized, at::kCPU);
    QCOMPARE(input.scalar_type(), at::kFloat);
    QCOMPARE(input.max().item<float>(), 200.0f / 255.0f - 0.5f);
    // A ramp from 0.25 to 0.75 along x: min-max spans 0..1 and the 8-bit matte truncates, as
    // numpy's astype(np.uint8) does: 255 * k / 4 = 0, 63.75, 127.5, 191.25, 255.
    const at::Tensor ramp = at::linspace(0.25, 0.75, 5).view({1, 1, 1, 5}).expand({1, 1, 2, 5});
    const cv::Mat matte = isnet::matte_from_d1(ramp, 2, 5);
    const std::vector<uchar> expected{0, 63, 127, 191, 255};
    for (int x = 0; x < 5; ++x) QCOMPARE(matte.at<uchar>(1, x), expected[x]);
    // A flat prediction is all background, not NaN.
    QCOMPARE(cv::countNonZero(isnet::matte_from_d1(at::full({1, 1, 4, 4}, 0.5), 8, 8)), 0);
}

void TestIsNetParity::foreign_and_broken_files_are_explained_data() {
    QTest::addColumn<QString>("case_name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("sam") << "sam"
                         << "looks like a Segment Anything checkpoint";
    QTest::newRow("u2net") << "u2net"
                           << "looks like a U²-Net checkpoint (outconv.*, no conv_in.*), not ISNet";
    QTest::newRow("truncated") << "truncated"
                               << "isnet_truncated.pth";
    QTest::newRow("missing tensor") << "missing"
                                    << "missing tensor stage4d.rebnconv2d.bn_s1.running_var";
    QTest::newRow("wrong width") << "width"
                                 << "stage2 reads 16 channels, but 8 arrive there";
    QTest::newRow("wrong side")
        << "side"
        << "tensor side3.weight has shape [1, 8, 3, 3], expected [1, 16, 3, 3]";
    QTest::newRow("NaN weight") << "nan"
                                << "tensor stage3.rebnconv1.conv_s1.weight holds NaN";
    QTest::newRow("plain tensors") << "plain"
                                   << "is not an ISNet checkpoint: no conv_in.weight";
}

void TestIsNetParity::foreign_and_broken_files_are_explained() {
    QFETCH(QString, case_name);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const std::string path = hostile_checkpoint(
        dir, case_name, isnet_data_path("isnet_tiny.pth"), "isnet_truncated.pth",
        {{"sam", golden_path("sam_vit_tiny.pth")}, {"u2net", golden_path("u2netp.pth")}},
        [&case_name](io::TensorMap& tensors) {
            if (case_name == "missing") {
                tensors.erase("stage4d.rebnconv2d.bn_s1.running_var");
            } else if (case_name == "width") {
                tensors["stage2.rebnconvin.conv_s1.weight"] = at::zeros({16, 16, 3, 3});
            } else if (case_name == "side") {
                tensors["side3.weight"] = at::zeros({1, 8, 3, 3});
            } else if (case_name == "nan") {
                tensors["stage3.rebnconv1.conv_s1.weight"][0][0][0][0] = NAN;
            } else if (case_name == "plain") {
                tensors = {{"weight", at::zeros({3})}, {"bias", at::zeros({3})}};
            }
        });
    QVERIFY(!path.empty());
    // Through the file path, as a user meets it.
    auto model = isnet::IsNetModel::load(path, {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY(!model.ok());
    const QString problem = load_error_problem(model.message(), path, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_APPLESS_MAIN(TestIsNetParity)
#include "test_isnet_parity.moc"
