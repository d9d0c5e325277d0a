// The video CLI tests' clip: a subject (a disc) moving 4 pixels a frame over a gradient, 96x64 at
// 10 fps, Motion JPEG through FFmpeg.
#pragma once

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <QString>

// `frames` frames into `path`, the disc starting at x = first_x; an error message, or empty.
inline QString write_moving_disc_clip(const QString& path, int frames, int first_x) {
    cv::VideoWriter writer(path.toStdString(), cv::CAP_FFMPEG,
                           cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(96, 64));
    if (!writer.isOpened()) return "cannot write " + path;
    for (int i = 0; i < frames; ++i) {
        cv::Mat bgr(64, 96, CV_8UC3);
        for (int y = 0; y < 64; ++y)
            for (int x = 0; x < 96; ++x) bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 2, 80, y * 3);
        cv::circle(bgr, cv::Point(first_x + i * 4, 32), 14, cv::Scalar(30, 200, 240), cv::FILLED);
        writer.write(bgr);
    }
    return {};
}
