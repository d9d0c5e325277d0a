// image::smooth_matte: flicker damped, motion passed through, no effect when off or at a video's
// first frame, and rejected inputs.
#include <opencv2/core.hpp>

#include <QtTest>

#include "image/temporal_smoothing.h"

using ps::image::smooth_matte;

class TestTemporalSmoothing : public QObject {
    Q_OBJECT
  private slots:
    void flicker_is_damped();
    void motion_passes_through();
    void off_or_first_frame_is_a_copy();
    void bad_input_is_refused();
};

void TestTemporalSmoothing::flicker_is_damped() {
    const cv::Mat current(4, 4, CV_8UC1, cv::Scalar(120));
    const cv::Mat previous(4, 4, CV_8UC1, cv::Scalar(100)), older(4, 4, CV_8UC1, cv::Scalar(110));
    // Weights: 1 for 120; 0.5·(1 − 20/48) for 100; 0.25·(1 − 10/48) for 110.
    const double w1 = 0.5 * (1 - 20.0 / 48), w2 = 0.25 * (1 - 10.0 / 48);
    const int expected = int(std::lround((120 + w1 * 100 + w2 * 110) / (1 + w1 + w2)));
    const cv::Mat out = smooth_matte(current, {previous, older}, 0.5);
    QCOMPARE(int(out.at<uchar>(2, 2)), expected);
    QVERIFY(expected < 120 && expected > 100);
}

void TestTemporalSmoothing::motion_passes_through() {
    const cv::Mat current(4, 4, CV_8UC1, cv::Scalar(255));
    const cv::Mat previous(4, 4, CV_8UC1, cv::Scalar(0));  // the subject arrived: no ghost
    const cv::Mat out = smooth_matte(current, {previous, previous}, 0.9);
    QCOMPARE(cv::countNonZero(out != 255), 0);
    // A change past the threshold one frame back also stops the older frame's weight.
    const cv::Mat near(4, 4, CV_8UC1, cv::Scalar(250));
    QCOMPARE(cv::countNonZero(smooth_matte(current, {previous, near}, 0.9) != 255), 0);
}

void TestTemporalSmoothing::off_or_first_frame_is_a_copy() {
    cv::Mat current(3, 5, CV_8UC1);
    cv::randu(current, 0, 256);
    const cv::Mat previous(3, 5, CV_8UC1, cv::Scalar(7));
    QCOMPARE(cv::countNonZero(smooth_matte(current, {previous}, 0) != current), 0);
    QCOMPARE(cv::countNonZero(smooth_matte(current, {}, 0.8) != current), 0);
}

void TestTemporalSmoothing::bad_input_is_refused() {
    const cv::Mat current(3, 5, CV_8UC1, cv::Scalar(1));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, smooth_matte(current, {}, 1.0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             smooth_matte(current, {cv::Mat(2, 2, CV_8UC1)}, 0.5));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, smooth_matte(cv::Mat(), {}, 0.5));
}

QTEST_GUILESS_MAIN(TestTemporalSmoothing)
#include "test_temporal_smoothing.moc"
