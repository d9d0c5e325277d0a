// Compositing on synthetic images: straight alpha, exact blends at alpha 0 and 1, a halo-free
// blurred background and cover-crop geometry.
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "image/composite.h"
#include "image/matte_refine.h"

namespace img = ps::image;

Q_DECLARE_METATYPE(cv::Size)
Q_DECLARE_METATYPE(cv::Rect)

namespace {

bool equal(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

cv::Mat random_rgb(cv::Size size, int seed) {
    cv::Mat rgb(size, CV_8UC3);
    cv::RNG rng(seed);
    rng.fill(rgb, cv::RNG::UNIFORM, 0, 256);
    return rgb;
}

// Left third opaque, middle third a 0..1 ramp, right third transparent.
cv::Mat three_zone_matte(cv::Size size) {
    cv::Mat matte(size, CV_32FC1, cv::Scalar(0));
    const int third = size.width / 3;
    matte.colRange(0, third).setTo(1);
    for (int x = third; x < 2 * third; ++x)
        matte.col(x).setTo(static_cast<float>(2 * third - x) / third);
    return matte;
}

// Largest |out − round(F·α + B·(1−α))| over the pixels, computed independently in double.
double blend_error(const cv::Mat& out, const cv::Mat& fg, const cv::Mat& matte, const cv::Mat& bg) {
    double worst = 0;
    for (int y = 0; y < out.rows; ++y)
        for (int x = 0; x < out.cols; ++x)
            for (int k = 0; k < 3; ++k) {
                const double alpha = matte.at<float>(y, x);
                const double expected =
                    fg.at<cv::Vec3b>(y, x)[k] * alpha + bg.at<cv::Vec3b>(y, x)[k] * (1 - alpha);
                worst = std::max(worst, std::abs(out.at<cv::Vec3b>(y, x)[k] - expected));
            }
    return worst;
}

}  // namespace

class TestComposite : public QObject {
    Q_OBJECT

  private slots:
    void rgba_alpha_is_the_matte_and_colour_the_foreground() {
        const cv::Mat fg = random_rgb({30, 20}, 1);
        cv::Mat matte(fg.size(), CV_32FC1);
        cv::randu(matte, 0.0, 1.0);
        const cv::Mat rgba = img::rgba_straight(fg, matte);
        QCOMPARE(rgba.type(), CV_8UC4);
        cv::Mat channels[4];
        cv::split(rgba, channels);
        QVERIFY(equal(channels[3], img::matte_to_u8(matte)));
        QVERIFY(equal(img::matte_image(matte), img::matte_to_u8(matte)));
        cv::Mat colour;
        cv::merge(channels, 3, colour);
        QVERIFY(equal(colour, fg));  // straight alpha: colour kept even where alpha is 0
    }

    void on_colour_is_exact_at_alpha_0_and_1() {
        const cv::Mat fg = random_rgb({60, 20}, 2);
        const cv::Mat matte = three_zone_matte(fg.size());
        const cv::Scalar colour(12, 200, 77);
        const cv::Mat out = img::on_colour(fg, matte, colour);
        QVERIFY(equal(out.colRange(0, 20), fg.colRange(0, 20)));
        QVERIFY(equal(out.colRange(40, 60), cv::Mat(20, 20, CV_8UC3, colour)));
        QVERIFY(blend_error(out, fg, matte, cv::Mat(fg.size(), CV_8UC3, colour)) <= 0.5 + 1e-3);
    }

    void on_blurred_keeps_the_subject_and_blurs_without_a_halo() {
        // A white disc on a black background striped with grey columns.
        const cv::Size size(200, 160);
        cv::Mat rgb(size, CV_8UC3, cv::Scalar(0, 0, 0));
        for (int x = 0; x < size.width; x += 4) rgb.col(x).setTo(cv::Scalar(200, 200, 200));
        cv::Mat matte(size, CV_32FC1, cv::Scalar(0));
        cv::circle(matte, {100, 80}, 40, cv::Scalar(1), cv::FILLED);
        rgb.setTo(cv::Scalar(255, 255, 255), matte > 0.5f);
        for (double sigma : {3.0, 12.0}) {
            const cv::Mat out = img::on_blurred(rgb, matte, sigma);
            QCOMPARE(cv::norm(out, rgb, cv::NORM_INF, matte > 0.5f), 0.0);  // subject unchanged
            // Far from the subject the stripes average to 50 with little left of their 200.
            const cv::Mat far = out(cv::Rect(10, 10, 30, 30));
            cv::Scalar mean, deviation;
            cv::meanStdDev(far, mean, deviation);
            QVERIFY2(std::abs(mean[0] - 50) < 3 && deviation[0] < 5,
                     qPrintable(QString("mean %1 sd %2").arg(mean[0]).arg(deviation[0])));
            // Just outside the disc the white subject must not bleed in: a plain blur of the
            // image gives 79 (sigma 3) and 122 (sigma 12) there.
            const cv::Vec3b ring = out.at<cv::Vec3b>(80, 100 + 43);
            QVERIFY2(ring[0] < 70, qPrintable(QString::number(ring[0])));
        }
        // With decontaminated colours the subject comes from them, the background from rgb.
        const cv::Mat colours(size, CV_8UC3, cv::Scalar(9, 8, 7));
        const cv::Mat out = img::on_blurred(rgb, matte, 3.0, colours);
        QCOMPARE(out.at<cv::Vec3b>(80, 100), cv::Vec3b(9, 8, 7));
        QVERIFY(out.at<cv::Vec3b>(10, 10)[0] > 20);
    }

    void cover_crop_scales_to_cover_and_crops_the_centre_data() {
        QTest::addColumn<cv::Size>("background");
        QTest::addColumn<cv::Size>("target");
        QTest::addColumn<cv::Rect>("band");  // the red band in the background's coordinates
        // 2x enlargement: the crop shows background columns 15..25.
        QTest::newRow("enlarge") << cv::Size(40, 10) << cv::Size(20, 20) << cv::Rect(14, 0, 12, 10);
        // 0.2x reduction: the crop shows background columns 150..250.
        QTest::newRow("shrink") << cv::Size(400, 100) << cv::Size(20, 20)
                                << cv::Rect(140, 0, 120, 100);
        QTest::newRow("portrait target")
            << cv::Size(10, 40) << cv::Size(20, 20) << cv::Rect(0, 14, 10, 12);
    }
    void cover_crop_scales_to_cover_and_crops_the_centre() {
        QFETCH(cv::Size, background);
        QFETCH(cv::Size, target);
        QFETCH(cv::Rect, band);
        const cv::Scalar blue(0, 0, 255), red(255, 0, 0);
        cv::Mat image(background, CV_8UC3, blue);
        image(band).setTo(red);
        const cv::Mat out = img::cover_crop(image, target);
        QCOMPARE(out.size(), target);
        QVERIFY(equal(out, cv::Mat(target, CV_8UC3, red)));
    }

    void cover_crop_keeps_the_aspect_ratio() {
        // 300x100 onto 90x60: scale 0.6 → 180x60, columns 45..135 kept.
        cv::Mat ramp(100, 300, CV_32FC1);
        for (int x = 0; x < 300; ++x) ramp.col(x).setTo(x);
        const cv::Mat out = img::cover_crop(ramp, {90, 60});
        QCOMPARE(out.size(), cv::Size(90, 60));
        // Output column c is the area average of input [(45 + c) / 0.6, (46 + c) / 0.6), where
        // input pixel i, covering [i, i + 1), has the value i.
        const auto area_average = [](double from, double to) {
            double sum = 0;
            for (int i = int(from); i < to; ++i)
                sum += i * (std::min(to, i + 1.0) - std::max(from, double(i)));
            return sum / (to - from);
        };
        QVERIFY(std::abs(out.at<float>(30, 0) - area_average(45 / 0.6, 46 / 0.6)) < 0.01);
        QVERIFY(std::abs(out.at<float>(30, 89) - area_average(134 / 0.6, 135 / 0.6)) < 0.01);
    }

    void on_image_uses_the_cover_cropped_background() {
        const cv::Mat fg = random_rgb({60, 20}, 3);
        const cv::Mat matte = three_zone_matte(fg.size());
        const cv::Mat background = random_rgb({37, 91}, 4);
        const cv::Mat out = img::on_image(fg, matte, background);
        QCOMPARE(out.size(), fg.size());
        const cv::Mat covered = img::cover_crop(background, fg.size());
        QVERIFY(equal(out.colRange(0, 20), fg.colRange(0, 20)));
        QVERIFY(equal(out.colRange(40, 60), covered.colRange(40, 60)));
        QVERIFY(blend_error(out, fg, matte, covered) <= 0.5 + 1e-3);
    }

    void invalid_inputs_throw() {
        const cv::Mat fg(10, 10, CV_8UC3, cv::Scalar(0));
        const cv::Mat matte(10, 10, CV_32FC1, cv::Scalar(1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::rgba_straight(cv::Mat(), matte));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::rgba_straight(fg, cv::Mat(10, 10, CV_8UC1)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::on_colour(fg, cv::Mat(10, 11, CV_32FC1), {0, 0, 0}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::on_colour(fg, matte, {0, 300, 0}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::on_blurred(fg, matte, 0.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::on_blurred(fg, matte, -2.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::on_blurred(fg, matte, 2.0, cv::Mat(5, 5, CV_8UC3)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::on_image(fg, matte, cv::Mat()));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::on_image(fg, matte, cv::Mat(4, 4, CV_8UC1)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::cover_crop(fg, {0, 5}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::matte_image(cv::Mat()));
    }
};

QTEST_APPLESS_MAIN(TestComposite)
#include "test_composite.moc"
