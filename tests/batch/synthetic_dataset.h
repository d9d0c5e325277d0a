// A folder of small generated images with coloured shapes and the point file that prompts them,
// for the batch annotation tests (in-process and through the CLI).
#pragma once

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <opencv2/imgproc.hpp>

#include "batch/point_file.h"
#include "io/image_writer.h"

struct SyntheticDataset {
    ps::batch::PointFile points;  // what the point file says: the expected objects per image
    std::map<std::string, cv::Size> sizes;
};

// Image i: from 96×64 to 160×120, a gradient background unique to i (so no two images share a
// content hash and an embedding), and 1 to 3 shapes, each an object whose prompts are a click
// on its centre, plus a background click or a box around it on some.
inline SyntheticDataset write_synthetic_dataset(const QString& dir, int count, int first = 0) {
    SyntheticDataset dataset;
    QDir().mkpath(dir);
    for (int i = first; i < first + count; ++i) {
        const int width = 96 + (i * 13) % 65, height = 64 + (i * 7) % 57;
        cv::Mat rgb(height, width, CV_8UC3);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x)
                rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>((x * 2 + i * 5) % 256),
                                                    static_cast<uchar>((y * 3 + i * 11) % 256),
                                                    static_cast<uchar>(60 + i % 100));
        std::vector<ps::batch::PointObject> objects;
        const int shapes = 1 + i % 3;
        for (int k = 0; k < shapes; ++k) {
            const int cx = width * (k + 1) / (shapes + 1), cy = height / 2 + (k % 2 ? 8 : -8);
            const int radius = std::min(width / (2 * shapes + 2), height / 4);
            const cv::Scalar colour((k * 90 + i * 7) % 256, 255 - (k * 70) % 256,
                                    (k * 40 + 200) % 256);
            ps::batch::PointObject object;
            if (k % 2 == 0) {
                cv::rectangle(rgb, cv::Rect(cx - radius, cy - radius, 2 * radius, 2 * radius),
                              colour, cv::FILLED);
                object.label = "square";
            } else {
                cv::circle(rgb, {cx, cy}, radius, colour, cv::FILLED);
                object.label = "disc";
            }
            object.prompts.points.push_back({double(cx), double(cy), true});
            if (i % 4 == 1) object.prompts.points.push_back({2.0, 2.0, false});
            if (i % 5 == 2)
                object.prompts.box =
                    std::array<double, 4>{double(cx - radius), double(cy - radius),
                                          double(cx + radius), double(cy + radius)};
            objects.push_back(std::move(object));
        }
        const std::string name = QString("img_%1.png").arg(i, 3, 10, QChar('0')).toStdString();
        ps::io::write_png((dir + "/" + QString::fromStdString(name)).toStdString(), rgb);
        dataset.points.images[name] = std::move(objects);
        dataset.sizes[name] = {width, height};
    }
    return dataset;
}

inline void add_prompts(QJsonObject& object, const ps::annotation::ObjectPrompts& prompts) {
    QJsonArray points;
    for (const auto& point : prompts.points)
        points.append(QJsonArray{point.x, point.y, point.positive ? 1 : 0});
    if (!points.isEmpty()) object["points"] = points;
    if (prompts.box) {
        const auto& box = *prompts.box;
        object["box"] = QJsonArray{box[0], box[1], box[2], box[3]};
    }
}

inline QByteArray points_json(const ps::batch::PointFile& points) {
    QJsonObject images;
    for (const auto& [name, objects] : points.images) {
        QJsonArray list;
        for (const auto& object : objects) {
            QJsonObject json{{"label", QString::fromStdString(object.label)}};
            add_prompts(json, object.prompts);
            list.append(json);
        }
        images[QString::fromStdString(name)] = list;
    }
    return QJsonDocument(QJsonObject{{"images", images}}).toJson();
}

inline bool same_prompts(const ps::annotation::ObjectPrompts& a,
                         const ps::annotation::ObjectPrompts& b) {
    if (a.points.size() != b.points.size() || a.box != b.box) return false;
    for (size_t i = 0; i < a.points.size(); ++i)
        if (a.points[i].x != b.points[i].x || a.points[i].y != b.points[i].y ||
            a.points[i].positive != b.points[i].positive)
            return false;
    return true;
}
