// BiRefNet parity with the official models/birefnet.py + the model card's pre-processing and
// inference.py's post-processing on tests/data/birefnet (a square and a wide image, every
// checkpoint of the forward), configuration inference, the published layouts key for key, and
// the files a BiRefNet loader must refuse or accept (.pth, safetensors, _orig_mod. keys).
// ATen and our ATen-using headers come before Qt's: Qt's `slots` macro breaks ATen's headers.
#include <ATen/ATen.h>

#include "io/checkpoint.h"
#include "io/image_reader.h"
#include "models/birefnet/birefnet_config.h"
#include "models/birefnet/birefnet_model.h"
#include "models/birefnet/birefnet_network.h"
#include "models/birefnet/birefnet_transforms.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "hostile_checkpoint.h"
#include "sam_golden.h"
#include "test_data.h"

using namespace ps;

namespace {

// tests/data/birefnet/README.md, "Tolerances" (max |diff| against the reference's fp32 run).
struct Tolerances {
    double features = 0, logits = 0, matte = 0;
    int matte_u8 = 0;
    double matte_u8_mean = 0;
};

Tolerances tolerances_for(const QString& precision) {
    if (precision == "bf16") return {0.8, 0.45, 0.06, 16, 0.01};
    return {2e-5, 2e-5, 1e-5, 1, 1e-3};
}

std::string data(const QString& name) {
    return test_data_path("birefnet", name);
}

io::TensorMap load_file(const std::string& path) {
    auto file = io::load_checkpoint(path);
    if (!file.ok()) qWarning("%s", file.message().c_str());
    return file.ok() ? file->tensors : io::TensorMap{};
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble).cpu() - b.to(at::kDouble).cpu()).abs().max().item<double>();
}

void expect_close(const at::Tensor& got, const io::TensorMap& golden, const std::string& key,
                  double limit) {
    const auto it = golden.find(key);
    QVERIFY2(it != golden.end(), ("golden tensor missing: " + key).c_str());
    QVERIFY2(got.sizes() == it->second.sizes(), (key + ": shape differs").c_str());
    const double diff = max_abs_diff(got, it->second);
    qInfo("%s %s: max |diff| %.3g (tolerance %.3g)", qPrintable(QTest::currentDataTag()),
          key.c_str(), diff, limit);
    QVERIFY2(diff <= limit, qPrintable(QString("%1: max |diff| %2 > %3")
                                           .arg(QString::fromStdString(key))
                                           .arg(diff)
                                           .arg(limit)));
}

birefnet::BiRefNetOptions cpu_options(const QString& precision,
                                      const QString& device = QStringLiteral("cpu")) {
    birefnet::BiRefNetOptions options;
    options.device = device == "cuda" ? runtime::Device::Cuda : runtime::Device::Cpu;
    options.precision = *runtime::parse_precision(precision.toStdString());
    return options;
}

// CUDA rows where a GPU is present (the GPU machine), as test_isnet_parity.
QStringList devices() {
    QStringList out{"cpu"};
    if (runtime::cuda_available()) out << "cuda";
    return out;
}

at::Device device_of(const QString& device) {
    return device == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
}

cv::Mat read_rgb(const std::string& path) {
    auto image = io::read_rgb_image(path);
    if (!image.ok()) qWarning("%s", image.message().c_str());
    return image.ok() ? *image : cv::Mat();
}

}  // namespace

class TestBirefnetParity : public QObject {
    Q_OBJECT

  private slots:
    void tiny_config_is_inferred() {
        const io::TensorMap tensors = load_file(data("birefnet_tiny.pth"));
        auto config = birefnet::infer_birefnet_config(tensors, "birefnet_tiny.pth");
        QVERIFY2(config.ok(), config.ok() ? "" : config.message().c_str());
        QCOMPARE(config->arch, std::string("birefnet_custom"));
        QCOMPARE(config->backbone.embed_dim, int64_t{10});
        QCOMPARE(config->channels, (std::array<int64_t, 4>{160, 80, 40, 20}));
        QCOMPARE(config->dec_inter, int64_t{8});
        QCOMPARE(config->aspp_channels, int64_t{32});
        QCOMPARE(config->ipt_inter, int64_t{8});
        QCOMPARE(config->gdt_channels, int64_t{16});
        QCOMPARE(config->input_width, int64_t{1024});
        // The layout lists exactly the file's keys, with their shapes.
        const runtime::TensorSpecs specs = birefnet::birefnet_tensor_specs(*config);
        QCOMPARE(specs.size(), tensors.size());
        for (const auto& [key, spec] : specs) {
            QVERIFY2(tensors.count(key), ("missing in the file: " + key).c_str());
            QVERIFY2(tensors.at(key).sizes() == at::IntArrayRef(spec.shape), key.c_str());
        }
    }

    void published_layouts_match_the_official_code_data() {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<QString>("backbone");
        QTest::addColumn<QString>("arch");
        QTest::newRow("BiRefNet") << "birefnet"
                                  << "swin_v1_l"
                                  << "birefnet";
        QTest::newRow("BiRefNet_HR") << "birefnet_hr"
                                     << "swin_v1_l"
                                     << "birefnet";
        QTest::newRow("BiRefNet_dynamic") << "birefnet_dynamic"
                                          << "swin_v1_l"
                                          << "birefnet";
        QTest::newRow("BiRefNet_lite") << "birefnet_lite"
                                       << "swin_v1_t"
                                       << "birefnet_lite";
        QTest::newRow("BiRefNet_lite-2K") << "birefnet_lite_2k"
                                          << "swin_v1_t"
                                          << "birefnet_lite";
    }
    void published_layouts_match_the_official_code() {
        QFETCH(QString, variant);
        QFETCH(QString, backbone);
        QFETCH(QString, arch);
        QFile file(QString::fromStdString(data("official_layouts.json")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject layout =
            QJsonDocument::fromJson(file.readAll()).object().value(backbone).toObject();
        QVERIFY(!layout.isEmpty());
        const birefnet::BiRefNetConfig config =
            birefnet::official_birefnet_config(variant.toStdString());
        QCOMPARE(QString::fromStdString(config.arch), arch);
        const runtime::TensorSpecs specs = birefnet::birefnet_tensor_specs(config);
        QCOMPARE(static_cast<qsizetype>(specs.size()), layout.size());
        io::TensorMap placeholders;
        for (const auto& [key, spec] : specs) {
            const QJsonArray entry = layout.value(QString::fromStdString(key)).toArray();
            QVERIFY2(!entry.isEmpty(), ("not in the official layout: " + key).c_str());
            std::vector<int64_t> shape;
            for (const auto& n : entry.at(0).toArray()) shape.push_back(n.toInteger());
            QVERIFY2(shape == spec.shape, key.c_str());
            QCOMPARE(entry.at(1).toString() == "int64", spec.integer);
            placeholders[key] =
                at::zeros({}, spec.integer ? at::kLong : at::kFloat).expand(spec.shape);
        }
        // And the inference names the variant from such a file (shapes alone; the size from
        // the file name).
        const std::string name = variant == "birefnet_hr"        ? "BiRefNet_HR-general.pth"
                                 : variant == "birefnet_lite_2k" ? "BiRefNet_lite-2K.pth"
                                 : variant == "birefnet_dynamic" ? "BiRefNet_dynamic-general.pth"
                                                                 : "model.safetensors";
        auto inferred = birefnet::infer_birefnet_config(placeholders, name);
        QVERIFY2(inferred.ok(), inferred.ok() ? "" : inferred.message().c_str());
        QCOMPARE(QString::fromStdString(inferred->arch), arch);
        QCOMPARE(inferred->input_width, config.input_width);
        QCOMPARE(inferred->input_height, config.input_height);
        QCOMPARE(inferred->dynamic_input, config.dynamic_input);
        QCOMPARE(inferred->backbone_name, backbone.toStdString());
    }

    void network_steps_data() {
        QTest::addColumn<QString>("image");
        QTest::addColumn<QString>("device");
        QTest::addColumn<QString>("precision");
        for (const char* image : {"square", "wide"}) {
            for (const QString& device : devices()) {
                for (const char* precision : {"fp32", "bf16"}) {
                    QTest::newRow(qPrintable(QString("%1 %2 %3").arg(image, device, precision)))
                        << image << device << precision;
                }
            }
        }
    }
    void network_steps() {
        QFETCH(QString, image);
        QFETCH(QString, device);
        QFETCH(QString, precision);
        const Tolerances tol = tolerances_for(precision);
        auto model = birefnet::BiRefNetModel::load(data("birefnet_tiny.pth"),
                                                   cpu_options(precision, device));
        QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
        const io::TensorMap golden = load_file(data("birefnet_tiny__" + image + ".safetensors"));
        QVERIFY(!golden.empty());
        c10::InferenceMode guard;
        const birefnet::BiRefNetSteps steps =
            (*model)->network().forward_steps(golden.at("input").to(device_of(device)));
        expect_close(steps.x1, golden, "x1", tol.features);
        expect_close(steps.x2, golden, "x2", tol.features);
        expect_close(steps.x3, golden, "x3", tol.features);
        expect_close(steps.x4, golden, "x4", tol.features);
        expect_close(steps.x4_squeezed, golden, "x4_squeezed", tol.features);
        expect_close(steps.logits, golden, "logits", tol.logits);
    }

    void image_to_matte_data() { network_steps_data(); }
    void image_to_matte() {
        QFETCH(QString, image);
        QFETCH(QString, device);
        QFETCH(QString, precision);
        const Tolerances tol = tolerances_for(precision);
        const io::TensorMap golden = load_file(data("birefnet_tiny__" + image + ".safetensors"));
        const cv::Mat rgb = read_rgb(data(image + ".png"));
        QVERIFY(!rgb.empty() && !golden.empty());
        const at::Tensor input = golden.at("input");
        const int width = static_cast<int>(input.size(3)), height = static_cast<int>(input.size(2));
        // Step 1: Pillow's bilinear resize is bit-exact, and the normalisation exact too.
        const cv::Mat resized = birefnet::resize_for_birefnet(rgb, width, height);
        const at::Tensor resized_tensor = golden.at("resized");
        QVERIFY(
            at::equal(at::from_blob(resized.data, {height, width, 3}, at::kByte), resized_tensor));
        QCOMPARE(max_abs_diff(birefnet::normalize_for_birefnet(resized, at::kCPU), input), 0.0);
        // Step 2: the network from the golden input, then the post-processing.
        auto model = birefnet::BiRefNetModel::load(data("birefnet_tiny.pth"),
                                                   cpu_options(precision, device));
        QVERIFY(model.ok());
        c10::InferenceMode guard;
        const at::Tensor logits = (*model)->network().forward(input.to(device_of(device)));
        if (golden.count("matte")) {
            expect_close(birefnet::soft_matte_from_logits(logits, rgb.rows, rgb.cols), golden,
                         "matte", tol.matte);
        }
        // Step 3: the model's run on the image, against the 8-bit matte inference.py writes.
        const cv::Mat expected =
            read_grey_png(QString::fromStdString(data("birefnet_tiny__" + image + "_matte.png")));
        const cv::Mat matte = birefnet::matte_from_logits(logits, rgb.rows, rgb.cols);
        QCOMPARE(matte.size(), expected.size());
        cv::Mat diff;
        cv::absdiff(matte, expected, diff);
        double worst = 0;
        cv::minMaxLoc(diff, nullptr, &worst);
        const double mean = cv::mean(diff)[0] / 255.0;
        qInfo("%s 8-bit matte: max %g levels, mean %.3g", qPrintable(QTest::currentDataTag()),
              worst, mean);
        QVERIFY(worst <= tol.matte_u8);
        QVERIFY(mean <= tol.matte_u8_mean);
    }

    void dynamic_runs_at_the_images_size() {
        // A file named like BiRefNet_dynamic runs at the image's size rounded down to multiples
        // of 32 (200 x 130 -> 192 x 128), resized with Pillow's bicubic, as inference.py's
        // loader does; the golden case "dynamic" is square.png through that path.
        QTemporaryDir dir;
        const QString path = dir.filePath("BiRefNet_dynamic-tiny.pth");
        QVERIFY(QFile::copy(QString::fromStdString(data("birefnet_tiny.pth")), path));
        auto model = birefnet::BiRefNetModel::load(path.toStdString(), cpu_options("fp32"));
        QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
        QVERIFY((*model)->config().dynamic_input);
        const io::TensorMap golden = load_file(data("birefnet_tiny__dynamic.safetensors"));
        const cv::Mat rgb = read_rgb(data("square.png"));
        QVERIFY(!golden.empty() && !rgb.empty());
        const cv::Mat resized = birefnet::resize_for_birefnet_dynamic(rgb);
        QCOMPARE(resized.cols, 192);
        QCOMPARE(resized.rows, 128);
        QVERIFY(
            at::equal(at::from_blob(resized.data, {128, 192, 3}, at::kByte), golden.at("resized")));
        {
            // The normalisation is exact (image_to_matte), so its output is the golden input.
            c10::InferenceMode guard;
            const at::Tensor input = birefnet::normalize_for_birefnet(resized, at::kCPU);
            expect_close((*model)->network().forward(input), golden, "logits",
                         tolerances_for("fp32").logits);
        }
        auto out = (*model)->run(rgb);
        QVERIFY2(out.ok(), out.ok() ? "" : out.message().c_str());
        const cv::Mat expected =
            read_grey_png(QString::fromStdString(data("birefnet_tiny__dynamic_matte.png")));
        QCOMPARE(out->matte.size(), expected.size());
        cv::Mat diff;
        cv::absdiff(out->matte, expected, diff);
        double worst = 0;
        cv::minMaxLoc(diff, nullptr, &worst);
        QVERIFY2(worst <= 1, qPrintable(QString("max |diff| %1 levels").arg(worst)));
    }

    void dynamic_size_is_bounded() {
        // Within the bound: the image's own size in multiples of 32, as upstream.
        const cv::Mat small(100, 200, CV_8UC3, cv::Scalar(10, 20, 30));
        QCOMPARE(birefnet::resize_for_birefnet_dynamic(small).size(), cv::Size(192, 96));
        // Past it: aspect ratio kept, the largest multiples of 32 within the bound
        // (sqrt(4096 / 20000) = 0.4525: 90.5 x 45.3 -> 64 x 32), and flat stays flat.
        const cv::Mat bounded = birefnet::resize_for_birefnet_dynamic(small, 64 * 64);
        QCOMPARE(bounded.size(), cv::Size(64, 32));
        QVERIFY(bounded.at<cv::Vec3b>(5, 5) == cv::Vec3b(10, 20, 30));
        // The default bound: a 48-megapixel photo runs at 2304² or less, not at its own size.
        const cv::Mat huge(6000, 8000, CV_8UC3, cv::Scalar::all(0));
        const cv::Mat resized = birefnet::resize_for_birefnet_dynamic(huge);
        QCOMPARE(resized.size(), cv::Size(2656, 1984));
        QVERIFY(int64_t(resized.total()) <= birefnet::kBiRefNetDynamicMaxPixels);
    }

    void run_uses_the_configured_input_size() {
        // The tiny file has no input size: 1024 x 1024 (config.size); run() resizes to it and
        // returns a matte at the image's size.
        auto model = birefnet::BiRefNetModel::load(data("birefnet_tiny.pth"), cpu_options("fp32"));
        QVERIFY(model.ok());
        QCOMPARE((*model)->family(), std::string("birefnet"));
        QCOMPARE((*model)->input_size(), 1024);
        const cv::Mat rgb = read_rgb(data("square.png"));
        auto out = (*model)->run(rgb);
        QVERIFY2(out.ok(), out.ok() ? "" : out.message().c_str());
        QCOMPARE(out->matte.size(), rgb.size());
        QCOMPARE(out->matte.type(), CV_8UC1);
    }

    void wrapped_and_safetensors_files_load_alike() {
        // HF's model.safetensors and a torch.compile'd .pth ("_orig_mod." keys) give the same
        // network as the plain state dict.
        const io::TensorMap tensors = load_file(data("birefnet_tiny.pth"));
        QTemporaryDir dir;
        const std::string plain = (dir.path() + "/model.safetensors").toStdString();
        const std::string wrapped = (dir.path() + "/compiled.safetensors").toStdString();
        io::TensorMap prefixed;
        for (const auto& [key, t] : tensors) prefixed["_orig_mod." + key] = t;
        QVERIFY(io::save_safetensors(plain, tensors).ok());
        QVERIFY(io::save_safetensors(wrapped, prefixed).ok());
        const io::TensorMap golden = load_file(data("birefnet_tiny__square.safetensors"));
        c10::InferenceMode guard;
        at::Tensor reference;
        for (const std::string& path : {data("birefnet_tiny.pth"), plain, wrapped}) {
            auto model = birefnet::BiRefNetModel::load(path, cpu_options("fp32"));
            QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
            const at::Tensor logits = (*model)->network().forward(golden.at("input"));
            if (!reference.defined()) reference = logits;
            QVERIFY(at::equal(logits, reference));
        }
    }

    void foreign_and_broken_files_are_explained_data() {
        QTest::addColumn<QString>("case_name");
        QTest::addColumn<QString>("expected");
        QTest::newRow("isnet")
            << "isnet"
            << "looks like an ISNet checkpoint (conv_in.*, side1.*), not BiRefNet";
        QTest::newRow("truncated") << "truncated"
                                   << "birefnet_truncated.pth";
        QTest::newRow("missing tensor") << "missing"
                                        << "missing tensor decoder.gdt_convs_attn_3.0.bias";
        QTest::newRow("wrong shape")
            << "shape"
            << "tensor decoder.decoder_block2.conv_in.weight has shape [8, 50, 1, 1], expected "
               "[8, 50, 3, 3]";
        QTest::newRow("NaN weight")
            << "nan"
            << "tensor decoder.decoder_block1.dec_att.conv1.weight holds NaN";
        QTest::newRow("other backbone") << "vgg"
                                        << "no Swin-V1 patch embedding";
    }
    void foreign_and_broken_files_are_explained() {
        QFETCH(QString, case_name);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const std::string path = hostile_checkpoint(
            dir, case_name, data("birefnet_tiny.pth"), "birefnet_truncated.pth",
            {{"isnet", test_data_path("isnet", "isnet_tiny.pth")}},
            [&case_name](io::TensorMap& tensors) {
                if (case_name == "missing") {
                    tensors.erase("decoder.gdt_convs_attn_3.0.bias");
                } else if (case_name == "shape") {
                    tensors["decoder.decoder_block2.conv_in.weight"] = at::zeros({8, 50, 1, 1});
                } else if (case_name == "nan") {
                    at::Tensor t =
                        tensors.at("decoder.decoder_block1.dec_att.conv1.weight").clone();
                    t.view({-1})[3] = std::numeric_limits<float>::quiet_NaN();
                    tensors["decoder.decoder_block1.dec_att.conv1.weight"] = t;
                } else if (case_name == "vgg") {
                    io::TensorMap vgg;
                    for (const auto& [key, t] : tensors) {
                        if (key.rfind("bb.", 0) != 0) vgg[key] = t;
                    }
                    vgg["bb.conv1.0.weight"] = at::zeros({64, 3, 3, 3});
                    tensors = vgg;
                }
            });
        QVERIFY(!path.empty());
        auto model = birefnet::BiRefNetModel::load(path, cpu_options("fp32"));
        QVERIFY(!model.ok());
        const QString problem = load_error_problem(model.message(), path, expected);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
};

QTEST_MAIN(TestBirefnetParity)
#include "test_birefnet_parity.moc"
