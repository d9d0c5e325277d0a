// SAM2Transforms on synthetic inputs whose right answer is known by construction: ToTensor and
// ImageNet normalisation, torchvision's early exit at the target size, the antialiased resize of
// a flat image, prompt coordinates (box corners first) and the bilinear upscaling of logits.
#include <ATen/ATen.h>
#include <QtTest>
#include <opencv2/core.hpp>

#include "models/sam2/sam2_transforms.h"

using namespace ps;

class TestSam2Transforms : public QObject {
    Q_OBJECT
  private slots:
    void image_at_the_target_size_is_only_normalised();
    void flat_image_stays_flat_when_resized();
    void prompt_points_put_the_box_first();
    void logits_are_upscaled_bilinearly();
    void non_rgb_images_are_refused();
};

void TestSam2Transforms::image_at_the_target_size_is_only_normalised() {
    cv::Mat image(32, 32, CV_8UC3);
    cv::randu(image, 0, 255);
    const at::Tensor input = sam2::preprocess_for_sam2(image, 32, at::kCPU);
    QCOMPARE(input.sizes(), (at::IntArrayRef{1, 3, 32, 32}));
    const float mean[] = {0.485f, 0.456f, 0.406f}, std[] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; ++c) {
        const float expected = (image.at<cv::Vec3b>(5, 7)[c] / 255.0f - mean[c]) / std[c];
        QCOMPARE(input[0][c][5][7].item<float>(), expected);
    }
}

void TestSam2Transforms::flat_image_stays_flat_when_resized() {
    const cv::Mat image(30, 50, CV_8UC3, cv::Scalar(10, 128, 250));
    const at::Tensor input = sam2::preprocess_for_sam2(image, 64, at::kCPU);
    QCOMPARE(input.sizes(), (at::IntArrayRef{1, 3, 64, 64}));
    const at::Tensor channel_range = input.amax({2, 3}) - input.amin({2, 3});
    QVERIFY(channel_range.max().item<float>() < 1e-5f);
    QVERIFY(std::abs(input[0][0][0][0].item<float>() - (10 / 255.0f - 0.485f) / 0.229f) < 1e-5f);
}

void TestSam2Transforms::prompt_points_put_the_box_first() {
    runtime::Prompt prompt;
    prompt.points = {{50, 20, 1}, {10, 40, 0}};
    prompt.box = std::array<double, 4>{0, 10, 100, 80};
    const sam2::Sam2PromptPoints points = sam2::prompt_points(prompt, 80, 100, 1024, at::kCPU);
    QCOMPARE(points.labels, (std::vector<int>{2, 3, 1, 0}));
    // x / width * 1024, y / height * 1024.
    const at::Tensor expected =
        at::tensor({0.0f, 128.0f, 1024.0f, 1024.0f, 512.0f, 256.0f, 102.4f, 512.0f}).view({4, 2});
    QVERIFY(at::allclose(points.coords, expected));
    QVERIFY(!sam2::prompt_points(runtime::Prompt{}, 80, 100, 1024, at::kCPU).coords.defined());
}

void TestSam2Transforms::logits_are_upscaled_bilinearly() {
    // A horizontal ramp stays a ramp: bilinear interpolation of a linear function is exact
    // away from the borders (align_corners=False clamps at the edges).
    const at::Tensor ramp = at::arange(8, at::kFloat).view({1, 1, 1, 8}).expand({1, 1, 8, 8});
    const at::Tensor up = sam2::upscale_logits(ramp, 16, 16);
    QCOMPARE(up.sizes(), (at::IntArrayRef{1, 1, 16, 16}));
    // Output pixel x samples input coordinate (x + 0.5) / 2 - 0.5.
    QCOMPARE(up[0][0][3][5].item<float>(), 2.25f);
    QCOMPARE(up[0][0][9][0].item<float>(), 0.0f);
}

void TestSam2Transforms::non_rgb_images_are_refused() {
    const cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sam2::preprocess_for_sam2(grey, 16, at::kCPU));
}

QTEST_MAIN(TestSam2Transforms)
#include "test_sam2_transforms.moc"
