// Shared helpers for SAM golden comparisons: tolerances, mask PNGs and IoU.
#pragma once

#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/core.hpp>

#include "golden_dir.h"

struct MaskAgreement {
    double iou = 0;
    double differing_fraction = 1;
};

inline MaskAgreement compare_masks(const cv::Mat& a, const cv::Mat& b) {
    MaskAgreement out;
    if (a.size() != b.size() || a.type() != CV_8UC1 || b.type() != CV_8UC1) return out;
    const cv::Mat fa = a > 127, fb = b > 127;
    const double inter = cv::countNonZero(fa & fb), uni = cv::countNonZero(fa | fb);
    out.iou = uni == 0 ? 1.0 : inter / uni;
    out.differing_fraction = double(cv::countNonZero(fa != fb)) / double(a.total());
    return out;
}

inline cv::Mat read_grey_png(const QString& path) {
    QImage image(path);
    if (image.isNull()) return {};
    image = image.convertToFormat(QImage::Format_Grayscale8);
    cv::Mat mat(image.height(), image.width(), CV_8UC1);
    for (int y = 0; y < image.height(); ++y) {
        std::memcpy(mat.ptr(y), image.constScanLine(y), static_cast<size_t>(image.width()));
    }
    return mat;
}

// sam_tolerances.json: tolerances[model][precision][quantity].
inline QJsonObject sam_tolerances(const QString& model, const QString& precision) {
    QFile file(golden_dir() + "/sam_tolerances.json");
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    return root["tolerances"].toObject()[model].toObject()[precision].toObject();
}
