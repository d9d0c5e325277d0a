// The prefaulted cv::Mat allocator (and so the BufferMatAllocator bookkeeping it shares with the
// pinned masks of CUDA builds): layouts as OpenCV's own allocator gives them, buffers that hold
// what is written, shared by ROIs and clones correctly, and reused after release.
#include <QtTest>

#include <opencv2/core.hpp>

#include "image/prefaulted_allocator.h"

using namespace ps::image;

class TestPrefaultedAllocator : public QObject {
    Q_OBJECT
private slots:
    void layout_matches_opencv_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("type");
        QTest::newRow("1x1 byte") << 1 << 1 << CV_8UC1;
        QTest::newRow("odd rgb") << 37 << 53 << CV_8UC3;
        QTest::newRow("float 4ch") << 17 << 9 << CV_32FC4;
        QTest::newRow("mask 2048x1536 (huge pages)") << 1536 << 2048 << CV_8UC1;
        QTest::newRow("float 1024x1024") << 1024 << 1024 << CV_32FC1;
    }
    void layout_matches_opencv() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, type);
        cv::Mat ours = make_prefaulted_mat(rows, cols, type);
        const cv::Mat theirs(rows, cols, type);
        QCOMPARE(ours.size(), theirs.size());
        QCOMPARE(ours.type(), theirs.type());
        QCOMPARE(ours.step[0], theirs.step[0]);
        QCOMPARE(ours.step[1], theirs.step[1]);
        QVERIFY(ours.isContinuous());
        QCOMPARE(static_cast<const cv::MatAllocator*>(ours.u->currAllocator), static_cast<const cv::MatAllocator*>(prefaulted_allocator()));
        // Every byte is ours to write and read back.
        cv::Mat pattern(rows, cols, type);
        cv::randu(pattern, 0, 255);
        pattern.copyTo(ours);
        QCOMPARE(ours.data != pattern.data, true);
        QCOMPARE(cv::norm(ours, pattern, cv::NORM_INF), 0.0);
    }

    void three_dimensional_mats_work() {
        cv::Mat mat;
        mat.allocator = prefaulted_allocator();
        const int sizes[] = {3, 40, 50};
        mat.create(3, sizes, CV_16SC2);
        const cv::Mat theirs(3, sizes, CV_16SC2);
        for (int i = 0; i < 3; ++i) QCOMPARE(mat.step[i], theirs.step[i]);
        mat.setTo(cv::Scalar(-7, 9));
        QCOMPARE(mat.at<cv::Vec2s>(2, 39, 49), cv::Vec2s(-7, 9));
    }

    void rois_and_clones_keep_the_buffer_alive() {
        cv::Mat roi;
        {
            cv::Mat whole = make_prefaulted_mat(600, 800, CV_8UC1);
            whole.setTo(0);
            whole(cv::Rect(100, 100, 50, 40)).setTo(200);
            roi = whole(cv::Rect(90, 90, 70, 60));
        }  // `whole` gone: the ROI still owns the buffer
        QCOMPARE(cv::countNonZero(roi), 50 * 40);
        cv::Mat copy = roi.clone();  // OpenCV's allocator, independent
        roi.setTo(1);
        QCOMPARE(cv::countNonZero(copy), 50 * 40);
    }

    void released_buffers_are_reused() {
        // The pool hands a released buffer of the same mapped size to the next Mat.
        const uchar* first = nullptr;
        {
            cv::Mat a = make_prefaulted_mat(1536, 2048, CV_8UC1);
            first = a.data;
        }
        cv::Mat b = make_prefaulted_mat(1536, 2048, CV_8UC1);
        QCOMPARE(static_cast<const void*>(b.data), static_cast<const void*>(first));
        b.setTo(255);
        QCOMPARE(cv::countNonZero(b), 1536 * 2048);
    }
};

QTEST_GUILESS_MAIN(TestPrefaultedAllocator)
#include "test_prefaulted_allocator.moc"
