// An independent reader of COCO's uncompressed RLE for the export tests, written from the COCO
// format's definition rather than from annotation/rle.cpp: "counts" alternate background and
// foreground runs, starting with background, over the pixels in column-major order, and sum to
// height x width ("size": [height, width]).
#pragma once

#include <opencv2/core/mat.hpp>

#include <QJsonArray>
#include <QJsonObject>

// CV_8UC1, 255 inside; empty when the runs do not cover the size exactly.
inline cv::Mat decode_coco_counts(const QJsonObject& rle) {
    const QJsonArray size = rle["size"].toArray();
    const int height = size[0].toInt(), width = size[1].toInt();
    cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
    long long position = 0;
    bool foreground = false;
    for (const QJsonValue& count : rle["counts"].toArray()) {
        for (long long k = 0; k < count.toInteger(); ++k, ++position) {
            if (position >= static_cast<long long>(height) * width) return {};
            if (foreground)
                mask.at<uint8_t>(static_cast<int>(position % height),
                                 static_cast<int>(position / height)) = 255;
        }
        foreground = !foreground;
    }
    return position == static_cast<long long>(height) * width ? mask : cv::Mat();
}
