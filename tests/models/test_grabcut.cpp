// The weightless segmenter: GrabCut finds synthetic objects from points and boxes, and refuses
// prompts it cannot answer.
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <limits>

#include "models/grabcut/grabcut_segmenter.h"

using namespace ps;

Q_DECLARE_METATYPE(cv::Mat)
Q_DECLARE_METATYPE(cv::Size)
Q_DECLARE_METATYPE(runtime::Prompt)

// Fails the test with the segmenter's message.
#define QVERIFY_OK(result) QVERIFY2((result).ok(), (result).ok() ? "" : (result).message().c_str())

namespace {

struct Disc {
    cv::Point centre;
    int radius = 0;
    cv::Scalar colour;
};

cv::Mat disc_mask(cv::Size size, const Disc& disc) {
    cv::Mat mask(size, CV_8UC1, cv::Scalar(0));
    cv::circle(mask, disc.centre, disc.radius, cv::Scalar(255), cv::FILLED);
    return mask;
}

// A dark, noisy background (so GrabCut's colour models have real texture to separate) with
// bright discs whose pixels are known by construction.
cv::Mat synthetic_image(cv::Size size, const std::vector<Disc>& discs) {
    cv::Mat rgb(size, CV_8UC3);
    cv::RNG rng(1234);
    rng.fill(rgb, cv::RNG::UNIFORM, cv::Scalar(10, 10, 10), cv::Scalar(80, 70, 90));
    for (const Disc& disc : discs) {
        cv::Mat noise(size, CV_8UC3);
        rng.fill(noise, cv::RNG::UNIFORM, disc.colour - cv::Scalar::all(15),
                 disc.colour + cv::Scalar::all(15));
        noise.copyTo(rgb, disc_mask(size, disc));
    }
    return rgb;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
    const double intersection = cv::countNonZero(a & b);
    const double united = cv::countNonZero(a | b);
    return united == 0 ? 1.0 : intersection / united;
}

// Fraction of `region` that `mask` covers.
double coverage(const cv::Mat& mask, const cv::Mat& region) {
    return static_cast<double>(cv::countNonZero(mask & region)) / cv::countNonZero(region);
}

std::array<double, 4> box_around(const Disc& disc, int margin) {
    const int reach = disc.radius + margin;
    return {double(disc.centre.x - reach), double(disc.centre.y - reach),
            double(disc.centre.x + reach), double(disc.centre.y + reach)};
}

runtime::Point point_at(cv::Point p, int label) {
    return {double(p.x), double(p.y), label};
}

const cv::Size kSize(800, 600);  // larger than the 512-px working copy, to cover the rescaling
const Disc kYellow{{330, 300}, 110, cv::Scalar(235, 215, 60)};
const Disc kCyan{{560, 300}, 80, cv::Scalar(60, 215, 235)};

// The mask is one full-size 0/255 plane with the documented metadata.
void check_mask_set(const runtime::MaskSet& set, cv::Size size) {
    QCOMPARE(set.masks.size(), size_t(1));
    const cv::Mat& mask = set.masks[0];
    QCOMPARE(mask.type(), CV_8UC1);
    QCOMPARE(mask.cols, size.width);
    QCOMPARE(mask.rows, size.height);
    QCOMPARE(cv::countNonZero(mask == 0) + cv::countNonZero(mask == 255), int(mask.total()));
    QCOMPARE(set.iou.size(), size_t(1));
    QCOMPARE(set.iou[0], 1.0f);
    QCOMPARE(set.best_index, 0);
    QVERIFY(set.low_res_logits.empty());
    QVERIFY(set.decode_ms > 0);
    QVERIFY(std::isfinite(set.postprocess_ms));
}

}  // namespace

class TestGrabCut : public QObject {
    Q_OBJECT

  private slots:
    // A click at the centre or a box around the disc finds it; the 3000x2000 image checks the
    // working copy's round trip to full size.
    void disc_is_selected_data() {
        QTest::addColumn<cv::Size>("size");
        QTest::addColumn<int>("radius");
        QTest::addColumn<bool>("with_box");
        QTest::newRow("object point") << kSize << 110 << false;
        QTest::newRow("box") << kSize << 110 << true;
        QTest::newRow("object point, 3000x2000") << cv::Size(3000, 2000) << 420 << false;
        QTest::newRow("box, 3000x2000") << cv::Size(3000, 2000) << 420 << true;
    }
    void disc_is_selected() {
        QFETCH(cv::Size, size);
        QFETCH(int, radius);
        QFETCH(bool, with_box);
        const Disc disc{{size.width * 2 / 5, size.height / 2}, radius, kYellow.colour};
        const cv::Mat rgb = synthetic_image(size, {disc});
        runtime::Prompt prompt;
        if (with_box)
            prompt.box = box_around(disc, radius / 4);
        else
            prompt.points = {point_at(disc.centre, 1)};
        auto result = grabcut::grabcut_segment(rgb, prompt);
        QVERIFY_OK(result);
        check_mask_set(*result, size);
        const double overlap = iou(result->masks[0], disc_mask(size, disc));
        QVERIFY2(overlap >= 0.9, qPrintable(QString("IoU %1").arg(overlap)));
    }

    // A box around two discs takes both; a background click on one of them removes it, and only
    // it. The control run without the click proves the click made the difference.
    void background_point_removes_what_it_lands_on() {
        const cv::Mat rgb = synthetic_image(kSize, {kYellow, kCyan});
        const cv::Mat yellow = disc_mask(kSize, kYellow);
        const cv::Mat cyan = disc_mask(kSize, kCyan);
        runtime::Prompt prompt;
        prompt.box = {double(kYellow.centre.x - kYellow.radius - 30), 150.0,
                      double(kCyan.centre.x + kCyan.radius + 30), 450.0};

        auto both = grabcut::grabcut_segment(rgb, prompt);
        QVERIFY_OK(both);
        const double both_overlap = iou(both->masks[0], yellow | cyan);
        QVERIFY2(both_overlap >= 0.9, qPrintable(QString("IoU %1").arg(both_overlap)));

        prompt.points = {point_at(kCyan.centre, 0)};
        auto without_cyan = grabcut::grabcut_segment(rgb, prompt);
        QVERIFY_OK(without_cyan);
        const double kept = iou(without_cyan->masks[0], yellow);
        const double removed_left = coverage(without_cyan->masks[0], cyan);
        QVERIFY2(kept >= 0.9, qPrintable(QString("IoU with the kept disc %1").arg(kept)));
        QVERIFY2(removed_left <= 0.05,
                 qPrintable(QString("%1 of the removed disc left").arg(removed_left)));
    }

    // Points alone: a differently coloured spot inside the clicked object's neighbourhood is part
    // of the object until a background click on the spot takes it out, leaving the rest.
    void background_point_removes_a_spot_inside_the_object() {
        const Disc spot{{400, 300}, 30, kCyan.colour};
        const cv::Mat rgb = synthetic_image(kSize, {kYellow, spot});
        const cv::Mat spot_mask = disc_mask(kSize, spot);
        const cv::Mat rest = disc_mask(kSize, kYellow) & ~spot_mask;
        runtime::Prompt prompt;
        prompt.points = {point_at(kYellow.centre, 1)};

        auto with_spot = grabcut::grabcut_segment(rgb, prompt);
        QVERIFY_OK(with_spot);
        const double spot_kept = coverage(with_spot->masks[0], spot_mask);
        QVERIFY2(spot_kept >= 0.95, qPrintable(QString("%1 of the spot selected").arg(spot_kept)));

        prompt.points.push_back(point_at(spot.centre, 0));
        auto without_spot = grabcut::grabcut_segment(rgb, prompt);
        QVERIFY_OK(without_spot);
        const double kept = iou(without_spot->masks[0], rest);
        const double spot_left = coverage(without_spot->masks[0], spot_mask);
        QVERIFY2(kept >= 0.9, qPrintable(QString("IoU with the rest of the object %1").arg(kept)));
        QVERIFY2(spot_left <= 0.05, qPrintable(QString("%1 of the spot left").arg(spot_left)));
    }

    // GrabCut's colour model is global; a click must still select only the object it is on, not
    // a separate object of the same colour.
    void click_selects_one_of_two_same_coloured_objects() {
        const Disc twin{{600, 300}, 60, kYellow.colour};
        const cv::Mat rgb = synthetic_image(kSize, {kYellow, twin});
        runtime::Prompt prompt;
        prompt.points = {point_at(kYellow.centre, 1)};
        auto result = grabcut::grabcut_segment(rgb, prompt);
        QVERIFY_OK(result);
        const double overlap = iou(result->masks[0], disc_mask(kSize, kYellow));
        const double twin_selected = coverage(result->masks[0], disc_mask(kSize, twin));
        QVERIFY2(overlap >= 0.9, qPrintable(QString("IoU %1").arg(overlap)));
        QVERIFY2(twin_selected <= 0.05,
                 qPrintable(QString("%1 of the other object selected").arg(twin_selected)));
    }

    void invalid_input_is_refused_data() {
        QTest::addColumn<cv::Mat>("rgb");
        QTest::addColumn<runtime::Prompt>("prompt");
        QTest::addColumn<int>("iterations");
        QTest::addColumn<QString>("expected");
        const cv::Mat rgb(60, 80, CV_8UC3, cv::Scalar(40, 40, 40));
        runtime::Prompt click;
        click.points = {{40, 30, 1}};

        QTest::newRow("empty image") << cv::Mat() << click << 5 << "expected a non-empty CV_8UC3";
        QTest::newRow("grey image")
            << cv::Mat(60, 80, CV_8UC1) << click << 5 << "expected a non-empty CV_8UC3";
        QTest::newRow("float image")
            << cv::Mat(60, 80, CV_32FC3) << click << 5 << "expected a non-empty CV_8UC3";
        QTest::newRow("no prompt") << rgb << runtime::Prompt{} << 5 << "needs an object point";
        runtime::Prompt background_only;
        background_only.points = {{40, 30, 0}};
        QTest::newRow("background points only")
            << rgb << background_only << 5 << "needs an object point";
        for (int label : {2, -1}) {
            runtime::Prompt odd_label;
            odd_label.points = {{40, 30, label}};
            QTest::newRow(qPrintable(QString("label %1").arg(label)))
                << rgb << odd_label << 5 << "expected 1 (object) or 0 (background)";
        }
        runtime::Prompt not_a_number;
        not_a_number.points = {{std::numeric_limits<double>::quiet_NaN(), 30, 1}};
        QTest::newRow("NaN coordinate") << rgb << not_a_number << 5 << "non-finite";
        runtime::Prompt flat_box;
        flat_box.box = std::array<double, 4>{10, 10, 10, 50};
        QTest::newRow("empty box") << rgb << flat_box << 5 << "the box is empty";
        runtime::Prompt inverted_box;
        inverted_box.box = std::array<double, 4>{50, 10, 10, 50};
        QTest::newRow("inverted box") << rgb << inverted_box << 5 << "the box is empty";
        runtime::Prompt whole_image;
        whole_image.box = std::array<double, 4>{0, 0, 80, 60};
        QTest::newRow("box covers the image") << rgb << whole_image << 5 << "no background";
        QTest::newRow("zero iterations") << rgb << click << 0 << "iterations 0";
    }
    void invalid_input_is_refused() {
        QFETCH(cv::Mat, rgb);
        QFETCH(runtime::Prompt, prompt);
        QFETCH(int, iterations);
        QFETCH(QString, expected);
        grabcut::GrabCutOptions options;
        options.iterations = iterations;
        auto result = grabcut::grabcut_segment(rgb, prompt, options);
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, ErrorKind::InvalidArgument);
        QVERIFY2(QString::fromStdString(result.message()).contains(expected),
                 result.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestGrabCut)
#include "test_grabcut.moc"
