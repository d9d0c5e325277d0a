// Checks the matting families' CLI tests share: how far a written matte is from the expected one,
// and what a `bench --json` report of one matting model must hold.
#pragma once

#include <opencv2/core.hpp>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

// The largest per-pixel difference in grey levels; -1 when either is missing or the sizes differ.
inline double worst_level_difference(const cv::Mat& matte, const cv::Mat& expected) {
    if (matte.empty() || expected.empty() || matte.size() != expected.size()) return -1;
    cv::Mat diff;
    cv::absdiff(matte, expected, diff);
    double worst = 0;
    cv::minMaxLoc(diff, nullptr, &worst);
    return worst;
}

// Empty when the report at `json_path` holds one model of `family` with its four stages timed
// `iterations` times each, else what is wrong.
inline QString matting_bench_report_problem(const QString& json_path, const QString& family,
                                            int iterations) {
    QFile file(json_path);
    if (!file.open(QIODevice::ReadOnly)) return json_path + ": cannot read";
    const QJsonArray models = QJsonDocument::fromJson(file.readAll()).object()["models"].toArray();
    if (models.size() != 1) return QString("%1 models in the report").arg(models.size());
    const QJsonObject model = models[0].toObject();
    if (model["family"].toString() != family) return "family " + model["family"].toString();
    const QJsonObject stages = model["stages"].toObject();
    for (const char* stage : {"preprocess", "forward", "postprocess", "remove_bg"}) {
        if (stages[stage].toObject()["n"].toInt() != iterations)
            return QString("stage %1 timed %2 times")
                .arg(stage)
                .arg(stages[stage].toObject()["n"].toInt());
    }
    return {};
}
