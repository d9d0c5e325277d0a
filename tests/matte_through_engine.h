// The checks every matting family's engine test makes. check_matte_through_engine: Engine::matte of
// an image equals the family's model run alone on it (the same 8-bit pixels), is timed as stage
// `matte`, and the second request for it is a cache hit with the same pixels. Failures are recorded
// by the QtTest macros inside; the calling test function returns after it as usual.
#pragma once

#include <opencv2/core.hpp>

#include <QtTest>

#include <string>

#include "engine/benchmark.h"
#include "engine/engine.h"
#include "engine_benchmark_check.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "models/runtime/matting_model.h"

// direct: the family's model, loaded on the CPU in fp32 by the test; checkpoint: the file the
// engine loads (the same weights).
inline void check_matte_through_engine(const ps::runtime::MattingModel& direct,
                                       const std::string& checkpoint, const cv::Mat& rgb) {
    using namespace ps::engine;
    QVERIFY(!rgb.empty());
    auto expected = direct.run(rgb);
    QVERIFY2(expected.ok(), expected.ok() ? "" : expected.message().c_str());
    double lowest = 0, highest = 0;
    cv::minMaxLoc(expected->matte, &lowest, &highest);
    QVERIFY2(highest - lowest > 100, "a flat matte could not show a difference");

    Engine engine(cpu_test_settings());
    auto model = wait(engine.load_model(checkpoint));
    auto image = wait(engine.open_image(rgb, "image"));
    QVERIFY(model.ok() && image.ok());
    auto first = wait(engine.matte(image->id, model->id));
    QVERIFY2(first.ok(), first.ok() ? "" : first.message().c_str());
    QVERIFY(!first->cache_hit);
    QCOMPARE(first->matte.size(), rgb.size());
    QCOMPARE(cv::countNonZero(first->matte != expected->matte), 0);
    QVERIFY(first->forward_ms > 0);
    QCOMPARE(engine.metrics().snapshot().stage(Stage::Matte).count, 1LL);
    auto second = wait(engine.matte(image->id, model->id));
    QVERIFY(second.ok() && second->cache_hit);
    QCOMPARE(cv::countNonZero(second->matte != expected->matte), 0);
}

// A matting family's file asked for prompted masks, and SAM asked for a matte: both refused
// before any work, in one line. The encode error starts with `refusal_prefix` ("isnet_tiny.pth:
// looks like an ISNet background-removal checkpoint"); the matte error names `family_label`
// among the families that can make one.
inline void check_prompts_and_mattes_refused(const std::string& checkpoint,
                                             const std::string& sam_checkpoint, const cv::Mat& rgb,
                                             const QString& refusal_prefix,
                                             const QString& family_label) {
    using namespace ps::engine;
    Engine engine(cpu_test_settings());
    auto matting = wait(engine.load_model(checkpoint));
    auto sam = wait(engine.load_model(sam_checkpoint));
    auto image = wait(engine.open_image(rgb, "image"));
    QVERIFY(matting.ok() && sam.ok() && image.ok());
    auto encoded = wait(engine.encode(image->id, matting->id));
    QVERIFY(!encoded.ok());
    QCOMPARE(encoded.error().kind, ps::ErrorKind::InvalidArgument);
    QVERIFY2(QString::fromStdString(encoded.message()).startsWith(refusal_prefix),
             encoded.message().c_str());
    auto matte = wait(engine.matte(image->id, sam->id));
    QVERIFY(!matte.ok());
    const QString message = QString::fromStdString(matte.message());
    QVERIFY2(message.contains("U²-Net") && message.contains(family_label), qPrintable(message));
    QVERIFY(!message.contains('\n'));
}
