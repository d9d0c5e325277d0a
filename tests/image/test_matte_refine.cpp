// Matte refinement on synthetic mattes whose right answer is known by construction: disc radii,
// alpha mass, holes, specks, edge snapping and colour decontamination; plus a 24 MP timing.
#include <QElapsedTimer>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "image/matte_refine.h"

namespace img = ps::image;

namespace {

// 1 where the pixel centre is within `radius` of `centre`, else 0.
cv::Mat disc_matte(cv::Size size, cv::Point2d centre, double radius) {
    cv::Mat matte(size, CV_32FC1);
    for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x)
            matte.at<float>(y, x) = std::hypot(x - centre.x, y - centre.y) <= radius ? 1.f : 0.f;
    return matte;
}

// A disc's radius measured from its alpha mass: sqrt(area / π).
double radius_from_area(const cv::Mat& matte) {
    return std::sqrt(cv::sum(matte)[0] / CV_PI);
}

bool equal(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}
}  // namespace

class TestMatteRefine : public QObject {
    Q_OBJECT

  private slots:
    void u8_conversion_round_trips_and_clamps() {
        cv::Mat u8(7, 9, CV_8UC1);
        cv::randu(u8, 0, 256);
        const cv::Mat matte = img::matte_from_u8(u8);
        QCOMPARE(matte.type(), CV_32FC1);
        QVERIFY(equal(img::matte_to_u8(matte), u8));
        const cv::Mat outside = (cv::Mat_<float>(1, 3) << -0.5f, 1.5f, 0.5f);
        QVERIFY(equal(img::matte_to_u8(outside), (cv::Mat_<uchar>(1, 3) << 0, 255, 128)));
    }

    void threshold_is_hard_above_level() {
        const cv::Mat soft = (cv::Mat_<float>(1, 5) << 0.f, 0.3f, 0.5f, 0.51f, 1.f);
        QVERIFY(equal(img::threshold_matte(soft, 0.5), (cv::Mat_<float>(1, 5) << 0, 0, 0, 1, 1)));
        QVERIFY(equal(img::threshold_matte(soft, 0.0), (cv::Mat_<float>(1, 5) << 0, 1, 1, 1, 1)));
    }

    void grow_shrink_changes_disc_radius_by_px_data() {
        QTest::addColumn<double>("radius");
        QTest::addColumn<int>("px");
        for (double radius : {20.0, 33.7})
            for (int px : {1, 3, 7, -1, -3, -7})
                QTest::addRow("R=%.1f px=%d", radius, px) << radius << px;
    }
    void grow_shrink_changes_disc_radius_by_px() {
        QFETCH(double, radius);
        QFETCH(int, px);
        const cv::Mat disc = disc_matte({121, 121}, {60.3, 59.8}, radius);
        const cv::Mat changed = img::grow_shrink(disc, px);
        QVERIFY(std::abs(radius_from_area(changed) - (radius_from_area(disc) + px)) <= 0.5);
        // Growing only adds pixels, shrinking only removes them.
        const cv::Mat outside = px > 0 ? (disc > changed) : (changed > disc);
        QCOMPARE(cv::countNonZero(outside), 0);
    }

    void grow_shrink_zero_thresholds_and_frame_is_not_background() {
        const cv::Mat soft = (cv::Mat_<float>(1, 3) << 0.2f, 0.5f, 0.9f);
        QVERIFY(equal(img::grow_shrink(soft, 0), (cv::Mat_<float>(1, 3) << 0, 1, 1)));
        // The left 30 columns are subject, cut by the frame: shrinking moves only the right edge.
        cv::Mat half(40, 60, CV_32FC1, cv::Scalar(0));
        half.colRange(0, 30).setTo(1);
        cv::Mat expected(40, 60, CV_32FC1, cv::Scalar(0));
        expected.colRange(0, 27).setTo(1);
        QVERIFY(equal(img::grow_shrink(half, -3), expected));
    }

    void feather_keeps_mass_and_softens_the_edge() {
        const cv::Mat disc = disc_matte({160, 160}, {80, 80}, 40);
        const cv::Mat soft = img::feather(disc, 3.0);
        QVERIFY(std::abs(cv::sum(soft)[0] / cv::sum(disc)[0] - 1.0) <= 0.01);
        for (double angle = 0; angle < 2 * CV_PI; angle += 0.3)
            for (double offset : {-1.0, 0.0, 1.0}) {
                const int x = cvRound(80 + (40 + offset) * std::cos(angle));
                const int y = cvRound(80 + (40 + offset) * std::sin(angle));
                const float alpha = soft.at<float>(y, x);
                QVERIFY2(alpha > 0.05f && alpha < 0.95f, qPrintable(QString::number(alpha)));
            }
        QVERIFY(soft.at<float>(80, 80) > 0.999f);
        QVERIFY(soft.at<float>(2, 2) < 0.001f);
        QVERIFY(equal(img::feather(disc, 0.0), disc));
        // A subject cut by the frame keeps its mass too (mirrored, not zero-padded, borders).
        cv::Mat half(40, 60, CV_32FC1, cv::Scalar(0));
        half.colRange(0, 30).setTo(1);
        QVERIFY(std::abs(cv::sum(img::feather(half, 4.0))[0] / cv::sum(half)[0] - 1.0) <= 1e-4);
    }

    void fill_holes_fills_enclosed_background_only() {
        const cv::Mat disc = disc_matte({100, 100}, {50, 50}, 40);
        const cv::Mat ring = disc - disc_matte({100, 100}, {50, 50}, 20);
        QVERIFY(equal(img::fill_holes(ring), disc));

        // A cavity joined to the outside by a 1-px channel is a notch, not a hole.
        cv::Mat notch = ring.clone();
        notch(cv::Rect(50, 0, 1, 50)).setTo(0);
        QVERIFY(equal(img::fill_holes(notch), notch));

        // A chain of background pixels joined corner to corner is not connected
        // (4-connectivity): the cavity and the chain's inner pixels are still a hole.
        cv::Mat block(20, 20, CV_32FC1, cv::Scalar(0));
        block(cv::Rect(2, 2, 10, 10)).setTo(1);
        block(cv::Rect(5, 5, 3, 3)).setTo(0);
        for (int i : {2, 3, 4}) block.at<float>(i, i) = 0;  // (2, 2) touches the outside
        cv::Mat filled = block.clone();
        filled(cv::Rect(5, 5, 3, 3)).setTo(1);
        for (int i : {3, 4}) filled.at<float>(i, i) = 1;
        QVERIFY(equal(img::fill_holes(block), filled));
    }

    void remove_specks_drops_small_components() {
        const cv::Mat disc = disc_matte({120, 120}, {70, 70}, 30);
        cv::Mat specked = disc.clone();
        specked.at<float>(5, 5) = 1;                  // 1 px
        specked(cv::Rect(15, 5, 2, 2)).setTo(1);      // 4 px
        specked(cv::Rect(25, 5, 3, 3)).setTo(1);      // 9 px
        specked(cv::Rect(5, 20, 2, 5)).setTo(1);      // 10 px
        specked(cv::Rect(15, 20, 1, 1)).setTo(0.7f);  // 1 px, soft but foreground
        QVERIFY(equal(img::remove_specks(specked, 11), disc));
        const cv::Mat partly = img::remove_specks(specked, 9);
        QCOMPARE(cv::countNonZero(partly - disc), 19);  // the 9 and 10 px blobs stay
        QVERIFY(equal(img::remove_specks(specked, 0), specked));
    }

    // Known by construction: a matte that is exactly linear in the guide's colour is reproduced
    // (eq. 19 recovers the coefficients when eps is tiny), which checks the 3x3 solve.
    void guided_filter_reproduces_a_linear_function_of_the_guide() {
        cv::Mat guide(64, 80, CV_8UC3);
        cv::randu(guide, 0, 256);
        std::vector<cv::Mat> channels;
        cv::split(guide, channels);
        cv::Mat matte(guide.size(), CV_32FC1, cv::Scalar(0.2));
        const double weights[] = {0.3, 0.2, 0.1};
        for (int k = 0; k < 3; ++k) {
            cv::Mat channel;
            channels[k].convertTo(channel, CV_32F, weights[k] / 255.0);
            matte += channel;
        }
        for (int subsample : {1, 2}) {
            const cv::Mat refined = img::guided_filter_refine(matte, guide, 4, 1e-6, subsample);
            QVERIFY2(cv::norm(refined, matte, cv::NORM_INF) < (subsample == 1 ? 1e-3 : 0.05),
                     qPrintable(QString::number(cv::norm(refined, matte, cv::NORM_INF))));
        }
    }

    void guided_filter_snaps_blocky_edges_to_the_image() {
        const cv::Size size(256, 256);
        const cv::Mat truth = disc_matte(size, {127.5, 130.2}, 77.3);
        cv::Mat guide(size, CV_8UC3, cv::Scalar(30, 90, 160));
        guide.setTo(cv::Scalar(200, 60, 40), truth > 0.5f);
        // The matte of a model that ran at 1/16 resolution: nearest-upscaled 16x16 blocks.
        cv::Mat coarse, blocky;
        cv::resize(truth, coarse, size / 16, 0, 0, cv::INTER_AREA);
        cv::resize(img::threshold_matte(coarse, 0.5), blocky, size, 0, 0, cv::INTER_NEAREST);
        // Within a window the fit gives each colour the mean alpha of its pixels there, so the
        // misplaced blocks (a minority of each colour) pull the 0.5 contour onto the image edge:
        // the hard edge gets closer to the truth and the squared error drops (L1 is only
        // redistributed, so it is not the measure).
        const auto wrong_side = [&](const cv::Mat& matte) {
            return cv::countNonZero((matte > 0.5f) != (truth > 0.5f));
        };
        const int wrong_before = wrong_side(blocky);
        const double rms_before = cv::norm(blocky, truth, cv::NORM_L2);
        for (int subsample : {1, 4}) {
            const cv::Mat refined = img::guided_filter_refine(blocky, guide, 16, 1e-4, subsample);
            const int wrong_after = wrong_side(refined);
            const double rms_after = cv::norm(refined, truth, cv::NORM_L2);
            qInfo("guided filter s=%d: pixels on the wrong side %d -> %d, L2 error %.1f -> %.1f",
                  subsample, wrong_before, wrong_after, rms_before, rms_after);
            QVERIFY(wrong_after < wrong_before / 4);
            QVERIFY(rms_after < 0.7 * rms_before);
        }
    }

    void decontamination_removes_the_old_background_colour() {
        // Red subject over green with a 12-px soft edge; the image is their exact composite.
        const cv::Size size(200, 200);
        cv::Mat matte(size, CV_32FC1);
        for (int y = 0; y < size.height; ++y)
            for (int x = 0; x < size.width; ++x)
                matte.at<float>(y, x) = static_cast<float>(
                    std::clamp((60.0 - std::hypot(x - 100.0, y - 100.0)) / 12.0 + 0.5, 0.0, 1.0));
        const cv::Vec3f red(230, 20, 10), green(20, 220, 30);
        cv::Mat rgb(size, CV_8UC3);
        rgb.forEach<cv::Vec3b>([&](cv::Vec3b& pixel, const int* at) {
            const float alpha = matte.at<float>(at[0], at[1]);
            for (int k = 0; k < 3; ++k)
                pixel[k] = cv::saturate_cast<uchar>(red[k] * alpha + green[k] * (1 - alpha));
        });
        const cv::Mat colours = img::decontaminate_colours(rgb, matte);
        const cv::Mat edge = (matte > 0.05f) & (matte < 0.95f);
        const double raw_green = cv::mean(rgb, edge)[1];
        const double clean_green = cv::mean(colours, edge)[1];
        const double clean_red = cv::mean(colours, edge)[0];
        qInfo("edge green: raw %.1f, decontaminated %.1f (red %.1f)", raw_green, clean_green,
              clean_red);
        QVERIFY(clean_green < 0.25 * raw_green);
        QVERIFY(clean_red > 200);
        cv::Mat difference;
        cv::absdiff(colours, rgb, difference);
        QVERIFY(cv::norm(difference, cv::NORM_INF, matte == 1.0f) <= 1);  // opaque: unchanged
    }

    void refine_matte_applies_steps_in_documented_order() {
        const cv::Mat disc = disc_matte({120, 120}, {60, 60}, 40);
        cv::Mat matte = disc - disc_matte({120, 120}, {60, 60}, 10) * 0.8;  // soft-ish hole
        matte.at<float>(3, 3) = 0.9f;                                       // a speck
        const cv::Mat rgb(matte.size(), CV_8UC3, cv::Scalar(1, 2, 3));
        img::RefineOptions options;
        options.hard_alpha = true;
        options.fill_holes = true;
        options.min_speck_area_px = 5;
        options.grow_px = -2;
        options.feather_sigma_px = 1.5;
        const img::RefinedMatte refined = img::refine_matte(matte, rgb, options);
        const cv::Mat expected = img::feather(
            img::grow_shrink(
                img::remove_specks(img::fill_holes(img::threshold_matte(matte, 0.5)), 5), -2),
            1.5);
        QVERIFY(equal(refined.matte, expected));
        QCOMPARE(refined.foreground.data, rgb.data);  // no decontamination: the image itself

        const img::RefinedMatte untouched = img::refine_matte(matte, rgb, {});
        QVERIFY(equal(untouched.matte, matte));
        QVERIFY(untouched.matte.data != matte.data);  // a copy, never the caller's buffer
    }

    void invalid_inputs_throw() {
        const cv::Mat matte(10, 10, CV_32FC1, cv::Scalar(0.5));
        const cv::Mat rgb(10, 10, CV_8UC3, cv::Scalar(0));
        const cv::Mat u8(10, 10, CV_8UC1, cv::Scalar(0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::feather(cv::Mat(), 1.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::grow_shrink(u8, 2));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::matte_from_u8(matte));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::threshold_matte(matte, 1.5));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::feather(matte, -1.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::feather(matte, NAN));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::remove_specks(matte, -1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::guided_filter_refine(matte, rgb, 0, 1e-4));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::guided_filter_refine(matte, rgb, 4, 0.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 img::guided_filter_refine(matte, rgb, 4, 1e-4, 0));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            img::guided_filter_refine(matte, cv::Mat(5, 10, CV_8UC3), 4, 1e-4));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::decontaminate_colours(u8, matte));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::decontaminate_colours(rgb, matte, 0));
        img::RefineOptions options;
        options.feather_sigma_px = -2;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::refine_matte(matte, rgb, options));
        options = {};
        options.guided_radius_px = 8;
        options.guided_eps = -1;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::refine_matte(matte, rgb, options));
        try {
            img::grow_shrink(u8, 2);
            QFAIL("grow_shrink accepted a CV_8UC1 matte");
        } catch (const std::invalid_argument& error) {
            QCOMPARE(QString(error.what()),
                     "grow_shrink: matte is CV_8UC1, expected a non-empty CV_32FC1 matte in "
                     "[0, 1] (see matte_from_u8)");
        }
    }

    // Not a timed assertion: the time is printed for the note (the benchmark lives in scripts/).
    void refine_all_steps_on_24_megapixels() {
        const cv::Size size(6000, 4000);
        const cv::Mat truth = disc_matte(size / 8, {375, 250}, 180);
        cv::Mat matte;
        cv::resize(truth, matte, size, 0, 0, cv::INTER_LINEAR);
        cv::Mat rgb(size, CV_8UC3, cv::Scalar(40, 160, 60));
        rgb.setTo(cv::Scalar(220, 50, 40), matte > 0.5f);
        img::RefineOptions options;
        options.guided_radius_px = 16;  // auto subsample 4
        options.hard_alpha = true;
        options.fill_holes = true;
        options.min_speck_area_px = 50;
        options.grow_px = 3;
        options.feather_sigma_px = 2.0;
        options.decontaminate = true;
        QElapsedTimer timer;
        timer.start();
        const img::RefinedMatte refined = img::refine_matte(matte, rgb, options);
        qInfo("refine_matte, all steps, 6000x4000: %lld ms (%d threads)",
              static_cast<long long>(timer.elapsed()), cv::getNumThreads());
        QCOMPARE(refined.matte.size(), size);
        QCOMPARE(refined.foreground.size(), size);
    }
};

QTEST_APPLESS_MAIN(TestMatteRefine)
#include "test_matte_refine.moc"
