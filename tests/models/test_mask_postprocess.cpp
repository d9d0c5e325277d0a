// threshold_masks_cpu against the formulation it replaces: cv::resize to target x target, crop,
// cv::resize to the original size, compare > 0 (SAM's postprocess_masks, then the threshold).
#include <ATen/ATen.h>

#include <QtTest>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/sam/sam_transforms.h"

using namespace ps::sam;

Q_DECLARE_METATYPE(ps::sam::Size2)

namespace {

enum class Logits { noise, smooth, positive, negative };

// 1 x count x h x w logits. `smooth` draws a blob and ripples, so that masks have wide uniform
// regions (filled without interpolation) and long edges (interpolated); `noise` changes sign
// almost everywhere; `positive` / `negative` have one sign, including tiny magnitudes.
at::Tensor make_logits(Logits kind, int count, int h, int w) {
    at::manual_seed(11);
    switch (kind) {
        case Logits::noise:
            return at::randn({1, count, h, w}) * 10;
        case Logits::positive:
            return at::rand({1, count, h, w}) * 10 + 1e-6;
        case Logits::negative:
            return -at::rand({1, count, h, w}) * 10;
        case Logits::smooth:
            break;
    }
    at::Tensor logits = at::empty({1, count, h, w});
    auto values = logits.accessor<float, 4>();
    for (int i = 0; i < count; ++i) {
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                const float radius = std::hypot(y - h * 0.45f, x - w * 0.4f) / (0.02f * (h + w));
                values[0][i][y][x] =
                    5.f - radius * (1 + i) + 2.f * std::sin(x * 0.3f) * std::cos(y * 0.23f + i);
            }
        }
    }
    return logits;
}

// The reference, with its float image kept to judge any pixel that differs.
struct Reference {
    std::vector<cv::Mat> masks, values;
};

Reference reference_masks(const at::Tensor& logits, int target, Size2 resized, Size2 original) {
    Reference ref;
    for (int64_t i = 0; i < logits.size(1); ++i) {
        const at::Tensor one = logits[0][i].contiguous();
        const cv::Mat low(static_cast<int>(one.size(0)), static_cast<int>(one.size(1)), CV_32F,
                          one.data_ptr<float>());
        cv::Mat square, full, mask;
        cv::resize(low, square, {target, target}, 0, 0, cv::INTER_LINEAR);
        cv::resize(square(cv::Rect(0, 0, resized.width, resized.height)), full,
                   {original.width, original.height}, 0, 0, cv::INTER_LINEAR);
        cv::compare(full, 0.0, mask, cv::CMP_GT);
        ref.masks.push_back(mask);
        ref.values.push_back(full);
    }
    return ref;
}

}  // namespace

class TestMaskPostprocess : public QObject {
    Q_OBJECT

  private slots:
    void matches_two_resizes_and_compare_data() {
        QTest::addColumn<int>("low_size");
        QTest::addColumn<int>("target");
        QTest::addColumn<Size2>("resized");
        QTest::addColumn<Size2>("original");
        QTest::addColumn<int>("kind");
        struct Row {
            const char* name;
            int low_size, target;
            Size2 resized, original;
        };
        const Row rows[] = {
            {"landscape x2", 256, 1024, {768, 1024}, {1536, 2048}},
            {"portrait x2", 256, 1024, {1024, 768}, {2048, 1536}},
            {"odd sizes", 256, 1024, {683, 1024}, {1333, 2000}},
            {"square, same size", 256, 1024, {1024, 1024}, {1024, 1024}},
            {"original smaller", 256, 1024, {768, 1024}, {384, 512}},
            {"original smaller, odd", 256, 1024, {1024, 731}, {333, 239}},
            {"uneven upscale", 256, 1024, {1024, 677}, {4031, 2666}},
            {"small model input", 64, 256, {201, 256}, {555, 707}},
            {"1 x N", 256, 1024, {1, 1024}, {3, 3000}},
            {"N x 1", 256, 1024, {1024, 1}, {5000, 5}},
            {"1 x 1 output", 256, 1024, {1024, 1024}, {1, 1}},
        };
        const std::pair<const char*, Logits> kinds[] = {{"noise", Logits::noise},
                                                        {"smooth", Logits::smooth},
                                                        {"positive", Logits::positive},
                                                        {"negative", Logits::negative}};
        for (const Row& row : rows) {
            for (const auto& [kind_name, kind] : kinds) {
                QTest::addRow("%s, %s", row.name, kind_name)
                    << row.low_size << row.target << row.resized << row.original
                    << static_cast<int>(kind);
            }
        }
    }

    void matches_two_resizes_and_compare() {
        QFETCH(int, low_size);
        QFETCH(int, target);
        QFETCH(Size2, resized);
        QFETCH(Size2, original);
        QFETCH(int, kind);
        const at::Tensor logits = make_logits(static_cast<Logits>(kind), 3, low_size, low_size);

        const Reference ref = reference_masks(logits, target, resized, original);
        const std::vector<cv::Mat> masks = threshold_masks_cpu(logits, target, resized, original);

        QCOMPARE(masks.size(), ref.masks.size());
        for (size_t i = 0; i < masks.size(); ++i) {
            QCOMPARE(masks[i].type(), CV_8UC1);
            QCOMPARE(masks[i].rows, original.height);
            QCOMPARE(masks[i].cols, original.width);
            cv::Mat differs;
            cv::compare(masks[i], ref.masks[i], differs, cv::CMP_NE);
            int unexplained = 0;
            for (int y = 0; y < differs.rows; ++y) {
                for (int x = 0; x < differs.cols; ++x) {
                    // Only a value within float rounding of 0 may land on the other side.
                    if (differs.at<uint8_t>(y, x) &&
                        std::fabs(ref.values[i].at<float>(y, x)) >= 1e-5f) {
                        ++unexplained;
                    }
                }
            }
            QCOMPARE(unexplained, 0);
            // Bit-exact weights make this 0 today; a change of summation order may not.
            if (const int count = cv::countNonZero(differs)) {
                qInfo("mask %zu: %d pixels differ, all within 1e-5 of 0", i, count);
            }
        }
        // The smooth and noise logits must exercise both values, or the comparison proves little.
        if (static_cast<Logits>(kind) == Logits::smooth &&
            std::min(original.height, original.width) > 8) {
            const int positive = cv::countNonZero(ref.masks[0]);
            QVERIFY(positive > 0 && positive < original.height * original.width);
        }
    }

    void rejects_bad_arguments() {
        const at::Tensor logits = at::zeros({1, 3, 256, 256});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 threshold_masks_cpu(logits[0], 1024, {768, 1024}, {10, 10}));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            threshold_masks_cpu(logits.to(at::kDouble), 1024, {768, 1024}, {10, 10}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 threshold_masks_cpu(logits, 1024, {768, 1025}, {10, 10}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 threshold_masks_cpu(logits, 1024, {768, 1024}, {0, 10}));
    }
};

QTEST_MAIN(TestMaskPostprocess)
#include "test_mask_postprocess.moc"
