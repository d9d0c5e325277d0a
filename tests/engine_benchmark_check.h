// The check every model family's engine test makes of `bench`: one checkpoint on the CPU, the
// family and arch it reports, and each of its stages timed once per iteration (no cache: the
// network runs every time). `report_out`, when given, receives the model's report.
#pragma once

#include <QString>
#include <QtTest>

#include <initializer_list>
#include <string>

#include "engine/benchmark.h"

// The stages of a matting model's run (Engine::matte).
inline const std::initializer_list<const char*> kMattingBenchStages = {"preprocess", "forward",
                                                                       "postprocess", "remove_bg"};

inline void check_benchmark_through_engine(
    const std::string& checkpoint, const QString& family, const QString& arch,
    std::initializer_list<const char*> stages = kMattingBenchStages,
    ps::engine::ModelBenchmark* report_out = nullptr) {
    using namespace ps::engine;
    BenchmarkRequest request;
    request.models = {checkpoint};
    request.device = ps::runtime::Device::Cpu;
    request.synthetic_width = 320;
    request.synthetic_height = 240;
    request.iterations = 2;
    request.warmup = 1;
    request.workers = 2;
    auto report = run_benchmark(request);
    QVERIFY2(report.ok(), report.ok() ? "" : report.message().c_str());
    QCOMPARE(int(report->models.size()), 1);
    const ModelBenchmark& m = report->models[0];
    QCOMPARE(QString::fromStdString(m.family), family);
    QCOMPARE(QString::fromStdString(m.arch), arch);
    for (const char* stage : stages) {
        QVERIFY2(m.stages.count(stage), stage);
        QCOMPARE(m.stages.at(stage).count, 2);
        QVERIFY2(m.stages.at(stage).p50_ms > 0, stage);
    }
    if (report_out) *report_out = m;
}
