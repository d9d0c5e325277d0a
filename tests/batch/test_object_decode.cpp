// Prompts into the engine's work frame and masks back to full resolution, on synthetic inputs
// whose right answers are known by construction.
#include <QtTest>

#include <opencv2/imgproc.hpp>

#include "annotation/rle.h"
#include "batch/object_decode.h"

using namespace ps;

namespace {

annotation::ObjectPrompts prompts_of(std::vector<annotation::PromptPoint> points,
                                     std::optional<std::array<double, 4>> box = std::nullopt) {
    annotation::ObjectPrompts prompts;
    prompts.points = std::move(points);
    prompts.box = box;
    return prompts;
}

cv::Mat block_mask(cv::Size size, cv::Rect block) {
    cv::Mat mask = cv::Mat::zeros(size, CV_8UC1);
    mask(block).setTo(255);
    return mask;
}

}  // namespace

class TestObjectDecode : public QObject {
    Q_OBJECT
  private slots:
    void prompts_inside_pass_data();
    void prompts_inside_pass();
    void prompts_outside_are_named_data();
    void prompts_outside_are_named();
    void best_non_empty_candidate_is_kept();
    void work_mask_is_brought_to_full_resolution();
    void only_empty_candidates_is_an_error();
};

void TestObjectDecode::prompts_inside_pass_data() {
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("y");
    QTest::newRow("origin") << 0.0 << 0.0;
    QTest::newRow("far corner") << 160.0 << 120.0;  // the far edge of the last pixel
    QTest::newRow("middle") << 80.5 << 60.25;
}

void TestObjectDecode::prompts_inside_pass() {
    QFETCH(double, x);
    QFETCH(double, y);
    const auto prompts = prompts_of({{x, y, true}}, std::array<double, 4>{0, 0, 160, 120});
    QVERIFY(batch::check_prompts_inside(prompts, {160, 120}, "object 1 (cat)"));
}

void TestObjectDecode::prompts_outside_are_named_data() {
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("y");
    QTest::addColumn<QString>("box");
    QTest::addColumn<QString>("expected");
    QTest::newRow("right of") << 161.0 << 5.0 << ""
                              << "object 1 (cat): point (161, 5) is outside the 160×120 image";
    QTest::newRow("below") << 5.0 << 120.5 << ""
                           << "point (5, 120.5) is outside";
    QTest::newRow("negative") << -1.0 << 5.0 << ""
                              << "point (-1, 5) is outside";
    QTest::newRow("box too wide")
        << 5.0 << 5.0 << "0 0 200 50"
        << "object 1 (cat): box [0, 0, 200, 50] is outside the 160×120 image";
    QTest::newRow("box above") << 5.0 << 5.0 << "10 -3 20 50"
                               << "box [10, -3, 20, 50] is outside";
}

void TestObjectDecode::prompts_outside_are_named() {
    QFETCH(double, x);
    QFETCH(double, y);
    QFETCH(QString, box);
    QFETCH(QString, expected);
    annotation::ObjectPrompts prompts = prompts_of({{x, y, true}});
    if (!box.isEmpty()) {
        const QStringList corners = box.split(' ');
        prompts.box = std::array<double, 4>{corners[0].toDouble(), corners[1].toDouble(),
                                            corners[2].toDouble(), corners[3].toDouble()};
    }
    const Status inside = batch::check_prompts_inside(prompts, {160, 120}, "object 1 (cat)");
    QVERIFY(!inside);
    QVERIFY2(QString::fromStdString(inside.message()).contains(expected), inside.message().c_str());
}

void TestObjectDecode::best_non_empty_candidate_is_kept() {
    const cv::Size size(40, 30);
    sam::SamMaskSet masks;
    masks.masks = {cv::Mat::zeros(size, CV_8UC1), block_mask(size, {2, 3, 10, 5}),
                   block_mask(size, {20, 10, 6, 8})};
    masks.iou = {0.99f, 0.5f, 0.75f};  // the empty one scores best and must still lose
    masks.best_index = 0;
    const auto prompts = prompts_of({{22, 12, true}});
    auto object =
        batch::object_from_masks(masks, "cat", prompts, "sam_vit_b.pth", size, "object 1 (cat)");
    QVERIFY2(object, object ? "" : object.message().c_str());
    QCOMPARE(object->label, std::string("cat"));
    QCOMPARE(object->model, std::string("sam_vit_b.pth"));
    QCOMPARE(object->predicted_iou, double(0.75f));
    QVERIFY(!object->verified);
    QVERIFY(!object->hidden);
    QCOMPARE(object->prompts.points.size(), size_t(1));
    QCOMPARE(object->mask, annotation::rle_encode(masks.masks[2]));
    const std::array<double, 4> bbox{20, 10, 6, 8};
    QCOMPARE(object->bbox, bbox);
}

void TestObjectDecode::work_mask_is_brought_to_full_resolution() {
    // A 3×2 block of a 10×10 work mask is a 12×8 block of the 40×40 image: an integer factor
    // puts bilinear-then-threshold edges exactly where the block's edges scale to.
    sam::SamMaskSet masks;
    masks.masks = {block_mask({10, 10}, {4, 2, 3, 2})};
    masks.iou = {0.9f};
    auto object = batch::object_from_masks(masks, "dog", prompts_of({{20, 15, true}}), "m.pth",
                                           {40, 40}, "object 1 (dog)");
    QVERIFY2(object, object ? "" : object.message().c_str());
    QCOMPARE(object->mask.width, 40);
    QCOMPARE(object->mask.height, 40);
    const cv::Mat full = annotation::rle_decode(object->mask);
    const cv::Rect box = cv::boundingRect(full);
    // upscale_mask rounds convex corners off, so the extent is checked along the middle.
    QCOMPARE(box, cv::Rect(16, 8, 12, 8));
    QCOMPARE(full.at<uchar>(12, 16), uchar(255));
    QCOMPARE(full.at<uchar>(12, 15), uchar(0));
    QCOMPARE(full.at<uchar>(12, 27), uchar(255));
    QCOMPARE(full.at<uchar>(12, 28), uchar(0));
}

void TestObjectDecode::only_empty_candidates_is_an_error() {
    sam::SamMaskSet masks;
    masks.masks = {cv::Mat::zeros(8, 8, CV_8UC1), cv::Mat::zeros(8, 8, CV_8UC1)};
    masks.iou = {0.9f, 0.8f};
    auto object = batch::object_from_masks(masks, "cat", prompts_of({{1, 1, true}}), "m.pth",
                                           {8, 8}, "object 3 (cat)");
    QVERIFY(!object);
    QCOMPARE(QString::fromStdString(object.message()),
             QString("object 3 (cat): the model returned only empty masks"));
}

QTEST_GUILESS_MAIN(TestObjectDecode)
#include "test_object_decode.moc"
