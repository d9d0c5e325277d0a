// annotating::to_sam_prompt: the one owner of the multimask rule and of the scaling between the
// stored full-resolution prompts and the engine's work image, on inputs whose answers are known by
// construction.
#include <QtTest>

#include "annotating/sam_prompt.h"

using namespace ps;

class TestSamPrompt : public QObject {
    Q_OBJECT
  private slots:
    void work_prompt_scales_each_axis();
    void one_click_asks_for_candidates_data();
    void one_click_asks_for_candidates();
    void work_frame_prompt_is_unscaled();
    void stored_prompts_round_trip();
};

void TestSamPrompt::work_prompt_scales_each_axis() {
    // 400×300 shown as 100×60: x scales by 1/4, y by 1/5 (the rounding of a real downscale
    // makes the two factors differ slightly; each axis keeps its own).
    const annotation::ObjectPrompts prompts{{{200, 150, true}, {40, 10, false}},
                                            std::array<double, 4>{20, 30, 380, 290}};
    const runtime::Prompt prompt = annotating::to_sam_prompt(prompts, {400, 300}, {100, 60});
    QCOMPARE(prompt.points.size(), size_t(2));
    QCOMPARE(prompt.points[0].x, 50.0);
    QCOMPARE(prompt.points[0].y, 30.0);
    QCOMPARE(prompt.points[0].label, 1);
    QCOMPARE(prompt.points[1].x, 10.0);
    QCOMPARE(prompt.points[1].y, 2.0);
    QCOMPARE(prompt.points[1].label, 0);
    QVERIFY(prompt.box);
    QCOMPARE((*prompt.box)[0], 5.0);
    QCOMPARE((*prompt.box)[1], 6.0);
    QCOMPARE((*prompt.box)[2], 95.0);
    QCOMPARE((*prompt.box)[3], 58.0);
    QVERIFY(!prompt.mask_input);
    // Same size: the prompt is unchanged.
    const runtime::Prompt same = annotating::to_sam_prompt(prompts, {400, 300}, {400, 300});
    QCOMPARE(same.points[0].x, 200.0);
    QCOMPARE((*same.box)[3], 290.0);
}

void TestSamPrompt::one_click_asks_for_candidates_data() {
    QTest::addColumn<int>("points");
    QTest::addColumn<bool>("box");
    QTest::addColumn<bool>("multimask");
    QTest::newRow("one point") << 1 << false << true;
    QTest::newRow("one background point") << -1 << false << true;
    QTest::newRow("two points") << 2 << false << false;
    QTest::newRow("box") << 0 << true << false;
    QTest::newRow("point and box") << 1 << true << false;
    QTest::newRow("nothing") << 0 << false << false;
}

void TestSamPrompt::one_click_asks_for_candidates() {
    QFETCH(int, points);
    QFETCH(bool, box);
    QFETCH(bool, multimask);
    // Every entry point answers the same: the stored prompts (batch, session) and the window's
    // work-frame clicks.
    annotation::ObjectPrompts prompts;
    std::vector<runtime::Point> clicks;
    for (int i = 0; i < std::abs(points); ++i) {
        prompts.points.push_back({10.0 * i, 5, points > 0});
        clicks.push_back({10.0 * i, 5, points > 0 ? 1 : 0});
    }
    std::optional<std::array<double, 4>> rect;
    if (box) rect = std::array<double, 4>{0, 0, 20, 20};
    prompts.box = rect;
    QCOMPARE(annotating::to_sam_prompt(prompts, {64, 64}, {32, 32}).multimask, multimask);
    QCOMPARE(annotating::to_sam_prompt(clicks, rect).multimask, multimask);
    QCOMPARE(annotating::wants_multimask(clicks.size(), box), multimask);
}

void TestSamPrompt::work_frame_prompt_is_unscaled() {
    // The window's clicks are already on the work image: no sizes, no scaling; labels other than
    // 0 are the object.
    const runtime::Prompt prompt =
        annotating::to_sam_prompt({{12.5, 7.25, 1}, {3, 4, 0}}, std::nullopt);
    QCOMPARE(prompt.points.size(), size_t(2));
    QCOMPARE(prompt.points[0].x, 12.5);
    QCOMPARE(prompt.points[0].y, 7.25);
    QCOMPARE(prompt.points[1].label, 0);
    QVERIFY(!prompt.box);
    QVERIFY(!prompt.multimask);
}

void TestSamPrompt::stored_prompts_round_trip() {
    // Work 100×60 of a 400×300 image: stored ×4 and ×5, and back again exactly (powers of two
    // and small integers: no rounding in doubles).
    const std::vector<runtime::Point> work_points = {{25, 12, 1}, {50.5, 30, 0}};
    const std::array<double, 4> work_box{1, 2, 99, 59};
    const annotation::ObjectPrompts stored =
        annotating::to_object_prompts(work_points, work_box, {100, 60}, {400, 300});
    QCOMPARE(stored.points.size(), size_t(2));
    QCOMPARE(stored.points[0].x, 100.0);
    QCOMPARE(stored.points[0].y, 60.0);
    QVERIFY(stored.points[0].positive);
    QCOMPARE(stored.points[1].x, 202.0);
    QVERIFY(!stored.points[1].positive);
    QVERIFY(stored.box);
    QCOMPARE((*stored.box)[2], 396.0);
    QCOMPARE((*stored.box)[3], 295.0);
    const runtime::Prompt back = annotating::to_sam_prompt(stored, {400, 300}, {100, 60});
    QCOMPARE(back.points.size(), work_points.size());
    for (size_t i = 0; i < work_points.size(); ++i) {
        QCOMPARE(back.points[i].x, work_points[i].x);
        QCOMPARE(back.points[i].y, work_points[i].y);
        QCOMPARE(back.points[i].label, work_points[i].label);
    }
    QCOMPARE(*back.box, work_box);
}

QTEST_MAIN(TestSamPrompt)
#include "test_sam_prompt.moc"
