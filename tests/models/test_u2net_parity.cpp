// U²-NetP parity with the official u2net.py on the golden case, config inference, foreign files.
// ATen and our ATen-using headers come before Qt's: Qt's `slots` macro breaks ATen's headers.
#include <ATen/ATen.h>

#include "io/checkpoint.h"
#include "io/image_reader.h"
#include "models/u2net/u2net_config.h"
#include "models/u2net/u2net_model.h"
#include "models/u2net/u2net_network.h"
#include "models/u2net/u2net_transforms.h"

#include <QTemporaryDir>
#include <QtTest>

#include "hostile_checkpoint.h"
#include "sam_golden.h"

using namespace ps;

namespace {

// ../shared/golden/README.md, "U²-NetP tolerances": max |diff| for d0/d1, mean |diff| for the
// matte in [0, 1] units. The input is computed in fp32 whatever the model precision.
struct Tolerances {
    double input = 1e-6, d0 = 0, d1 = 0, matte_mean = 0;
};

Tolerances tolerances_for(const QString& precision) {
    if (precision == "bf16") return {1e-6, 0.012, 0.07, 0.01};
    return {1e-6, 1e-5, 2e-5, 1e-4};
}

// Done-when 1 of issue 5: remove-bg's matte within 0.01 mean absolute difference.
constexpr double kDoneWhenMatteMean = 0.01;

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kFloat).cpu() - b.to(at::kFloat).cpu()).abs().max().item<double>();
}

// Mean |a - b| of two 8-bit mattes, in [0, 1] units.
double matte_mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    return cv::mean(diff)[0] / 255.0;
}

void expect_close(const at::Tensor& got, const io::TensorMap& golden, const std::string& key,
                  double limit) {
    const auto it = golden.find(key);
    QVERIFY2(it != golden.end(), ("golden tensor missing: " + key).c_str());
    QVERIFY2(got.sizes() == it->second.sizes(),
             (key + ": shape differs from the golden one").c_str());
    const double diff = max_abs_diff(got, it->second);
    QVERIFY2(diff <= limit, qPrintable(QString("%1: max |diff| %2 > tolerance %3")
                                           .arg(QString::fromStdString(key))
                                           .arg(diff)
                                           .arg(limit)));
}

// Shape-only tensors: a zero-stride view of one scalar, so u2net's 44M parameters cost nothing.
io::TensorMap placeholder_tensors(const u2net::U2NetConfig& config) {
    io::TensorMap tensors;
    for (const auto& [key, spec] : u2net::u2net_tensor_specs(config)) {
        tensors[key] = at::zeros({}, spec.integer ? at::kLong : at::kFloat).expand(spec.shape);
    }
    return tensors;
}

}  // namespace

class TestU2NetParity : public QObject {
    Q_OBJECT
  private slots:
    void golden_case_data();
    void golden_case();
    void official_layouts_are_inferred_data();
    void official_layouts_are_inferred();
    void golden_checkpoint_matches_official_layout();
    void odd_input_sizes_keep_their_size();
    void matte_is_min_max_normalised();
    void foreign_and_broken_files_are_explained_data();
    void foreign_and_broken_files_are_explained();
};

void TestU2NetParity::golden_case_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("device");
    QTest::addColumn<QString>("precision");
    QStringList devices{"cpu"};
    if (runtime::cuda_available()) devices << "cuda";
    // As in test_sam_parity: PHOTOSYNTH_TEST_BF16=0 skips the (slow on CPU) bf16 rows.
    const bool bf16 = qgetenv("PHOTOSYNTH_TEST_BF16") != "0";
    for (const QString& device : devices) {
        for (const QString& precision : QStringList{"fp32", "bf16"}) {
            if (precision == "bf16" && !bf16) continue;
            for (const char* file : {"u2netp.pth", "u2netp.safetensors"}) {
                QTest::newRow(qPrintable(QString("%1/%2/%3").arg(file, device, precision)))
                    << file << device << precision;
            }
        }
    }
}

void TestU2NetParity::golden_case() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, device);
    QFETCH(QString, precision);
    const Tolerances tol = tolerances_for(precision);
    u2net::U2NetOptions options;
    options.device = *runtime::parse_device(device.toStdString());
    options.precision = *runtime::parse_precision(precision.toStdString());
    auto loaded = u2net::U2NetModel::load(golden_path(checkpoint), options);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.message().c_str());
    const u2net::U2NetModel& model = **loaded;
    QCOMPARE(QString::fromStdString(model.config().arch), QString("u2netp"));
    const u2net::U2NetNetwork& net = model.network();

    auto golden_file = io::load_checkpoint(golden_path("u2netp_case.safetensors"));
    QVERIFY2(golden_file.ok(), golden_file.ok() ? "" : golden_file.message().c_str());
    const io::TensorMap& golden = golden_file->tensors;
    auto rgb = io::read_rgb_image(golden_path("images/u2net_input.png"));
    QVERIFY2(rgb.ok(), rgb.ok() ? "" : rgb.message().c_str());
    QCOMPARE(rgb->rows, 300);
    QCOMPARE(rgb->cols, 451);

    // Step 1: the Pillow resize is bit-exact.
    const cv::Mat resized = u2net::resize_for_u2net(*rgb, 320);
    const at::Tensor ours_resized = at::from_blob(resized.data, {320, 320, 3}, at::kByte);
    QVERIFY2(at::equal(ours_resized, golden.at("resized")), "resized image is not bit-exact");

    // Step 2: normalisation.
    const at::Tensor input = u2net::normalize_for_u2net(resized, net.device());
    expect_close(input, golden, "input", tol.input);

    // Step 3: the network, on the golden input so that only the network is compared.
    const u2net::SideOutputs outputs = net.forward(golden.at("input").to(net.device()));
    expect_close(outputs[0], golden, "d0", tol.d0);
    expect_close(outputs[1], golden, "d1", tol.d1);
    for (const at::Tensor& d : outputs) QCOMPARE(d.sizes(), golden.at("d0").sizes());

    // Step 4: the public API end to end, against the reference matte.
    auto result = model.run(*rgb);
    QVERIFY2(result.ok(), result.ok() ? "" : result.message().c_str());
    const cv::Mat expected = read_grey_png(golden_dir() + "/u2netp_matte.png");
    QVERIFY2(!expected.empty(), "cannot read u2netp_matte.png");
    QCOMPARE(result->matte.type(), CV_8UC1);
    QCOMPARE(result->matte.rows, expected.rows);
    QCOMPARE(result->matte.cols, expected.cols);
    const double mean_diff = matte_mean_abs_diff(result->matte, expected);
    QVERIFY2(mean_diff <= tol.matte_mean && mean_diff <= kDoneWhenMatteMean,
             qPrintable(QString("matte mean |diff| %1 > %2").arg(mean_diff).arg(tol.matte_mean)));
    QVERIFY(result->preprocess_ms > 0 && result->forward_ms > 0 && result->postprocess_ms > 0);
    qInfo("%s: preprocess %.1f ms, forward %.1f ms, postprocess %.1f ms, matte mean |diff| %.2e",
          qPrintable(QTest::currentDataTag()), result->preprocess_ms, result->forward_ms,
          result->postprocess_ms, mean_diff);
}

void TestU2NetParity::official_layouts_are_inferred_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<double>("parameters");  // weights and biases, BatchNorm buffers excluded
    // u2net.pth holds 44.0M parameters (176.3 MB as float32), u2netp.pth 1.13M (4.7 MB).
    QTest::newRow("u2net") << "u2net" << 44.0e6;
    QTest::newRow("u2netp") << "u2netp" << 1.13e6;
}

void TestU2NetParity::official_layouts_are_inferred() {
    QFETCH(QString, arch);
    QFETCH(double, parameters);
    const u2net::U2NetConfig expected = u2net::official_u2net_config(arch.toStdString());
    const io::TensorMap tensors = placeholder_tensors(expected);
    auto inferred = u2net::infer_u2net_config(tensors, "synthetic.pth");
    QVERIFY2(inferred.ok(), inferred.ok() ? "" : inferred.message().c_str());
    QCOMPARE(QString::fromStdString(inferred->arch), arch);
    QCOMPARE(inferred->stages.size(), expected.stages.size());
    for (size_t i = 0; i < expected.stages.size(); ++i) {
        const u2net::RsuConfig &got = inferred->stages[i], &want = expected.stages[i];
        QCOMPARE(QString::fromStdString(got.name), QString::fromStdString(want.name));
        QCOMPARE(got.height, want.height);
        QCOMPARE(got.dilated, want.dilated);
        QCOMPARE(got.in_ch, want.in_ch);
        QCOMPARE(got.mid_ch, want.mid_ch);
        QCOMPARE(got.out_ch, want.out_ch);
    }
    QCOMPARE(inferred->side_in, expected.side_in);
    int64_t learnable = 0;
    for (const auto& [key, tensor] : tensors) {
        if (key.find("running_") == std::string::npos && tensor.is_floating_point()) {
            learnable += tensor.numel();
        }
    }
    QVERIFY2(std::abs(double(learnable) - parameters) < 0.01 * parameters,
             qPrintable(QString("%1 parameters").arg(learnable)));
    // Every key the network reads exists with the right shape (its constructor checks them).
    u2net::U2NetNetwork network(tensors, *inferred, "synthetic.pth");
    QCOMPARE(QString::fromStdString(network.config().arch), arch);
}

void TestU2NetParity::golden_checkpoint_matches_official_layout() {
    auto checkpoint = io::load_checkpoint(golden_path("u2netp.pth"));
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.message().c_str());
    auto config = u2net::infer_u2net_config(checkpoint->tensors, "u2netp.pth");
    QVERIFY2(config.ok(), config.ok() ? "" : config.message().c_str());
    QCOMPARE(QString::fromStdString(config->arch), QString("u2netp"));
    QCOMPARE(config->stage("stage1").mid_ch, int64_t(16));
    QCOMPARE(config->stage("stage5d").in_ch, int64_t(128));
    const auto specs = u2net::u2net_tensor_specs(*config);
    for (const auto& [key, tensor] : checkpoint->tensors) {
        const auto it = specs.find(key);
        QVERIFY2(it != specs.end(), ("unexpected key in the file: " + key).c_str());
        QVERIFY2(tensor.sizes() == at::IntArrayRef(it->second.shape), key.c_str());
    }
    QCOMPARE(specs.size(), checkpoint->tensors.size());
}

void TestU2NetParity::odd_input_sizes_keep_their_size() {
    // 75 x 101 halves to 38 x 51, 19 x 26, 10 x 13, 5 x 7, 3 x 4 with ceil_mode; floor pooling
    // would make the decoder's concatenations fail or the outputs shrink.
    auto model = u2net::U2NetModel::load(golden_path("u2netp.pth"),
                                         {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    at::manual_seed(3);
    const u2net::SideOutputs outputs = (*model)->network().forward(at::randn({1, 3, 75, 101}));
    for (const at::Tensor& d : outputs) {
        QCOMPARE(d.sizes(), at::IntArrayRef({1, 1, 75, 101}));
        QVERIFY(at::isfinite(d).all().item<bool>());
    }
}

void TestU2NetParity::matte_is_min_max_normalised() {
    // A ramp from 0.25 to 0.75 along x (exact in binary): the matte spans 0..255 at a 1:1 size,
    // and 127.5 rounds half to even as torch.round and numpy do.
    const at::Tensor ramp = at::linspace(0.25, 0.75, 5).view({1, 1, 1, 5}).expand({1, 1, 2, 5});
    const cv::Mat matte = u2net::matte_from_d0(ramp, 2, 5);
    const std::vector<uchar> expected{0, 64, 128, 191, 255};  // round(255 * k / 4)
    for (int x = 0; x < 5; ++x) QCOMPARE(matte.at<uchar>(1, x), expected[x]);
    // A flat prediction is all background, not NaN.
    const cv::Mat flat = u2net::matte_from_d0(at::full({1, 1, 4, 4}, 0.5), 8, 8);
    QCOMPARE(cv::countNonZero(flat), 0);
    // An all-black image normalises to finite values (the reference divides 0 by 0).
    const at::Tensor black =
        u2net::normalize_for_u2net(cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(0)), at::kCPU);
    QVERIFY(at::isfinite(black).all().item<bool>());
}

void TestU2NetParity::foreign_and_broken_files_are_explained_data() {
    QTest::addColumn<QString>("case_name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("sam") << "sam"
                         << "looks like a Segment Anything checkpoint";
    QTest::newRow("mobile_sam") << "mobile_sam"
                                << "looks like a Segment Anything checkpoint";
    QTest::newRow("missing tensor") << "missing"
                                    << "missing tensor stage4.rebnconv2d.bn_s1.running_var";
    QTest::newRow("wrong width") << "width"
                                 << "stage2 reads 32 channels, but 64 arrive there";
    QTest::newRow("wrong side") << "side"
                                << "tensor side3.weight has shape [1, 32, 3, 3]";
    QTest::newRow("plain tensors") << "plain"
                                   << "not a U²-Net checkpoint";
}

void TestU2NetParity::foreign_and_broken_files_are_explained() {
    QFETCH(QString, case_name);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const std::string path = hostile_checkpoint(
        dir, case_name, golden_path("u2netp.pth"), "u2netp_truncated.pth",
        {{"sam", golden_path("sam_vit_tiny.pth")},
         {"mobile_sam", golden_path("mobile_sam_tiny.pth")}},
        [&case_name](io::TensorMap& tensors) {
            if (case_name == "missing") {
                tensors.erase("stage4.rebnconv2d.bn_s1.running_var");
            } else if (case_name == "width") {
                tensors["stage2.rebnconvin.conv_s1.weight"] = at::zeros({64, 32, 3, 3});
            } else if (case_name == "side") {
                tensors["side3.weight"] = at::zeros({1, 32, 3, 3});
            } else if (case_name == "plain") {
                tensors = {{"weight", at::zeros({3})}, {"bias", at::zeros({3})}};
            }
        });
    QVERIFY(!path.empty());
    // Through the file path, as a user meets it.
    auto model = u2net::U2NetModel::load(path, {runtime::Device::Cpu, runtime::Precision::Fp32});
    QVERIFY(!model.ok());
    const QString problem = load_error_problem(model.message(), path, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_APPLESS_MAIN(TestU2NetParity)
#include "test_u2net_parity.moc"
