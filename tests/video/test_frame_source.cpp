// video::FrameSource: a video file read forward, backward and at random equals FFmpeg's own
// sequential decode; a folder of frames in natural order of names; an odd-sized frame, a missing
// path and a text file named .mp4 refused in one line naming the file; synthetic clips made the
// same whatever the order of reads.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#ifdef PHOTOSYNTH_WITH_VIDEO
#include <opencv2/videoio.hpp>
#endif

#include <algorithm>
#include <random>

#include "video/frame_source.h"

using namespace ps;

namespace {

bool same(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// An RGB frame whose pixels tell its index apart.
cv::Mat numbered_frame(int index, int width, int height) {
    cv::Mat rgb(height, width, CV_8UC3, cv::Scalar(10, 20 + index, 200 - index));
    cv::circle(rgb, cv::Point(8 + index * 3, height / 2), 6, cv::Scalar(250, 250, 0), cv::FILLED);
    return rgb;
}

bool save_png(const cv::Mat& rgb, const QString& path) {
    const QImage image(rgb.data, rgb.cols, rgb.rows, static_cast<int>(rgb.step),
                       QImage::Format_RGB888);
    return image.save(path, "PNG");
}

#ifdef PHOTOSYNTH_WITH_VIDEO
// A clip of `frames` frames of 96x64 (as tests/app/test_cli_video.cpp writes them) and its
// frames as FFmpeg decodes them in order, RGB: the reference the random reads must equal.
std::vector<cv::Mat> write_clip(const QString& path, int frames) {
    {
        cv::VideoWriter writer(path.toStdString(), cv::CAP_FFMPEG,
                               cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(96, 64));
        if (!writer.isOpened()) qFatal("cannot write %s", qPrintable(path));
        for (int i = 0; i < frames; ++i) {
            cv::Mat bgr;
            cv::cvtColor(numbered_frame(i, 96, 64), bgr, cv::COLOR_RGB2BGR);
            writer.write(bgr);
        }
    }
    std::vector<cv::Mat> decoded;
    cv::VideoCapture capture(path.toStdString(), cv::CAP_FFMPEG);
    cv::Mat bgr;
    while (capture.read(bgr)) {
        cv::Mat rgb;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        decoded.push_back(rgb);
    }
    return decoded;
}
#endif

}  // namespace

class TestFrameSource : public QObject {
    Q_OBJECT
  private slots:
    void video_read_in_any_order_equals_a_sequential_read();
    void folder_of_frames_in_natural_order();
    void odd_sized_frame_named();
    void missing_path_and_text_named_mp4_refused();
    void synthetic_clip_is_a_function_of_the_index();
};

void TestFrameSource::video_read_in_any_order_equals_a_sequential_read() {
#ifndef PHOTOSYNTH_WITH_VIDEO
    QSKIP("no OpenCV videoio in this build");
#else
    QTemporaryDir dir;
    const QString path = dir.filePath("clip.avi");
    constexpr int kFrames = 45;  // longer than a skip: some jumps seek
    const std::vector<cv::Mat> reference = write_clip(path, kFrames);
    QCOMPARE(int(reference.size()), kFrames);

    auto opened = video::FrameSource::open(path.toStdString());
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.message().c_str());
    video::FrameSource& source = **opened;
    QCOMPARE(source.info().frames, int64_t(kFrames));
    QCOMPARE(source.info().width, 96);
    QCOMPARE(source.info().height, 64);
    QCOMPARE(source.info().fps, 10.0);
    QCOMPARE(QString::fromStdString(source.info().label), QString("clip.avi"));

    std::vector<int64_t> order;
    for (int i = 0; i < kFrames; ++i) order.push_back(i);       // forward
    for (int i = kFrames - 1; i >= 0; --i) order.push_back(i);  // backward
    std::vector<int64_t> shuffled = order;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
    order.insert(order.end(), shuffled.begin(), shuffled.end());  // random
    order.insert(order.end(), {44, 0, 30, 3, 40, 41, 5});         // long jumps both ways
    for (int64_t index : order) {
        auto frame = source.frame(index);
        QVERIFY2(frame.ok(), frame.ok() ? "" : frame.message().c_str());
        QVERIFY2(same(*frame, reference[size_t(index)]),
                 qPrintable(QString("frame %1 differs").arg(index)));
    }
    // A handed-out frame is the caller's: writing to it changes no later read.
    auto first = source.frame(0);
    first->setTo(cv::Scalar(0, 0, 0));
    QVERIFY(same(*source.frame(0), reference[0]));

    auto outside = source.frame(kFrames);
    QVERIFY(!outside.ok());
    QVERIFY(QString::fromStdString(outside.message()).startsWith("clip.avi: frame 45 outside"));
    const auto names = source.frame_names();
    QCOMPARE(int(names.size()), kFrames);
    QCOMPARE(QString::fromStdString(names[0]), QString("000000.png"));
    QCOMPARE(QString::fromStdString(names[44]), QString("000044.png"));
#endif
}

void TestFrameSource::folder_of_frames_in_natural_order() {
    QTemporaryDir dir;
    // Written out of order, named so that plain string order would be wrong (10 before 2).
    const QStringList names = {"f1.png", "f2.jpg", "f10.png", "f9.bmp", "F11.png"};
    std::vector<cv::Mat> written;
    for (int i = 0; i < names.size(); ++i) {
        written.push_back(numbered_frame(i, 40, 30));
        if (names[i].endsWith(".jpg")) {
            // JPEG is lossy: compare against what Qt decodes of it.
            QVERIFY(save_png(written.back(), dir.filePath("tmp.png")));
            QImage(dir.filePath("tmp.png")).save(dir.filePath(names[i]), "JPG", 100);
            QFile::remove(dir.filePath("tmp.png"));
            const QImage back =
                QImage(dir.filePath(names[i])).convertToFormat(QImage::Format_RGB888);
            written.back() = cv::Mat(back.height(), back.width(), CV_8UC3,
                                     const_cast<uchar*>(back.bits()), back.bytesPerLine())
                                 .clone();
        } else {
            QVERIFY(
                QImage(written.back().data, 40, 30, int(written.back().step), QImage::Format_RGB888)
                    .save(dir.filePath(names[i])));
        }
    }
    QFile notes(dir.filePath("notes.txt"));  // not a frame: ignored
    QVERIFY(notes.open(QIODevice::WriteOnly));
    notes.write("hello");
    notes.close();

    auto opened = video::FrameSource::open(dir.path().toStdString());
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.message().c_str());
    video::FrameSource& source = **opened;
    QCOMPARE(source.info().frames, int64_t(5));
    QCOMPARE(source.info().width, 40);
    QCOMPARE(source.info().height, 30);
    const std::vector<std::string> got = source.frame_names();
    // Natural order: 9 before 10; "F" before "f" (byte order, as ls in the C locale).
    const std::vector<std::string> want = {"F11.png", "f1.png", "f2.jpg", "f9.bmp", "f10.png"};
    QCOMPARE(got, want);
    const std::vector<int> written_index = {4, 0, 1, 3, 2};
    for (int64_t i : {4, 0, 3, 1, 2}) {
        auto frame = source.frame(i);
        QVERIFY2(frame.ok(), frame.ok() ? "" : frame.message().c_str());
        QVERIFY2(same(*frame, written[size_t(written_index[size_t(i)])]),
                 qPrintable(QString::fromStdString(want[size_t(i)])));
    }
}

void TestFrameSource::odd_sized_frame_named() {
    QTemporaryDir dir;
    QVERIFY(save_png(numbered_frame(0, 40, 30), dir.filePath("frame_001.png")));
    QVERIFY(save_png(numbered_frame(1, 40, 30), dir.filePath("frame_002.png")));
    QVERIFY(save_png(numbered_frame(2, 41, 30), dir.filePath("frame_003.png")));
    auto opened = video::FrameSource::open(dir.path().toStdString());
    QVERIFY(!opened.ok());
    const QString message = QString::fromStdString(opened.message());
    QVERIFY2(message.contains("frame_003.png: frame is 41x30, frame_001.png is 40x30") &&
                 !message.contains('\n'),
             qPrintable(message));

    QTemporaryDir empty;
    auto none = video::FrameSource::open(empty.path().toStdString());
    QVERIFY(!none.ok());
    QVERIFY(QString::fromStdString(none.message()).contains("no image frames"));
}

void TestFrameSource::missing_path_and_text_named_mp4_refused() {
    QTemporaryDir dir;
    const QString missing = dir.filePath("nope.mp4");
    auto gone = video::FrameSource::open(missing.toStdString());
    QVERIFY(!gone.ok());
    QCOMPARE(QString::fromStdString(gone.message()), missing + ": no such file or folder");

    const QString text = dir.filePath("notes.mp4");
    QFile file(text);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("this is not a video\n");
    file.close();
    auto refused = video::FrameSource::open(text.toStdString());
    QVERIFY(!refused.ok());
    const QString message = QString::fromStdString(refused.message());
    QVERIFY2(message.startsWith(text + ": ") && !message.contains('\n'), qPrintable(message));
}

void TestFrameSource::synthetic_clip_is_a_function_of_the_index() {
    auto clip = video::FrameSource::synthetic(10000, 320, 180);
    QCOMPARE(clip->info().frames, int64_t(10000));
    QCOMPARE(clip->info().width, 320);
    QCOMPARE(clip->info().height, 180);
    auto late = clip->frame(9999);
    auto early = clip->frame(3);
    QVERIFY(late.ok() && early.ok());
    QCOMPARE(late->type(), CV_8UC3);
    QVERIFY(!same(*late, *early));  // the shapes move
    QVERIFY(same(*video::FrameSource::synthetic(10000, 320, 180)->frame(9999), *late));
    QVERIFY(same(*clip->frame(3), *early));
    QVERIFY(!clip->frame(10000).ok());
    QCOMPARE(QString::fromStdString(clip->frame_names()[12]), QString("000012.png"));
}

QTEST_MAIN(TestFrameSource)
#include "test_frame_source.moc"
