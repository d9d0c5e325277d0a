// What the video CLI tests check a `remove-bg --video --frames matte` preview against: each
// decoded clip frame composited with its written matte file over a flat background colour,
// computed here from straight alpha's definition (out = (F·a + B·(255 − a)) / 255, F the frame),
// not by the app's compositing code.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <QImage>
#include <QString>

#include <vector>

// A video's frames as FFmpeg decodes them, BGR.
inline std::vector<cv::Mat> decode_video(const QString& path) {
    cv::VideoCapture capture(path.toStdString(), cv::CAP_FFMPEG);
    std::vector<cv::Mat> frames;
    for (cv::Mat bgr; capture.read(bgr);) frames.push_back(bgr.clone());
    return frames;
}

// `frame` (BGR) over `background` (BGR) with the 8-bit matte in `matte_png`; empty if unreadable.
inline cv::Mat composited_over(const cv::Mat& frame, const QString& matte_png,
                               const cv::Scalar& background) {
    const QImage matte = QImage(matte_png).convertToFormat(QImage::Format_Grayscale8);
    if (matte.isNull() || matte.width() != frame.cols || matte.height() != frame.rows) return {};
    cv::Mat out(frame.size(), CV_8UC3);
    for (int y = 0; y < frame.rows; ++y) {
        const uchar* alpha = matte.constScanLine(y);
        for (int x = 0; x < frame.cols; ++x)
            for (int c = 0; c < 3; ++c)
                out.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(
                    (frame.at<cv::Vec3b>(y, x)[c] * alpha[x] + background[c] * (255 - alpha[x])) /
                    255.0);
    }
    return out;
}

// Mean absolute difference of two BGR frames, in grey levels.
inline double mean_difference(const cv::Mat& a, const cv::Mat& b) {
    return cv::norm(a, b, cv::NORM_L1) / double(a.total() * a.channels());
}

// Empty when the preview at `preview` has one frame per frame of `clip`, each within `tolerance`
// grey levels (mean absolute difference: the codec's rounding) of that frame composited with
// `matte_of(index)` over `background` (BGR); else the first frame that is not, and by how much.
template <typename MatteOf>
QString preview_problem(const QString& preview, const QString& clip, MatteOf matte_of,
                        const cv::Scalar& background, double tolerance) {
    const std::vector<cv::Mat> shown = decode_video(preview), frames = decode_video(clip);
    if (shown.size() != frames.size() || shown.empty())
        return QString("%1: %2 frame(s), the clip %3")
            .arg(preview)
            .arg(shown.size())
            .arg(frames.size());
    for (size_t i = 0; i < shown.size(); ++i) {
        const cv::Mat expected = composited_over(frames[i], matte_of(int(i)), background);
        if (expected.empty()) return QString("%1: unreadable matte").arg(matte_of(int(i)));
        const double difference = mean_difference(shown[i], expected);
        if (difference > tolerance)
            return QString("%1 frame %2: %3 grey levels from the frame over the background")
                .arg(preview)
                .arg(i)
                .arg(difference);
    }
    return {};
}
