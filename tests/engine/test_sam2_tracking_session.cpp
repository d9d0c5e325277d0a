// SAM 2.1 video tracking through the engine (Engine::open_tracking, TrackingSession): the same
// masks as Sam2VideoPredictor run alone on the golden clip, a cancelled propagation keeps the
// frames it finished, other families are refused in one line, the session outlives an unload of
// its model, and many sessions opened and closed leave memory flat.
#include "sam2_test_data.h"  // ATen-using headers before Qt's `slots` macro

#include <QtTest>
#include <opencv2/core.hpp>

#include <atomic>
#include <map>
#include <memory>

#include "engine/engine.h"
#include "engine/process_stats.h"
#include "engine/tracking_session.h"
#include "engine_settings_for_tests.h"
#include "future_result.h"
#include "golden_dir.h"
#include "io/image_reader.h"
#include "models/sam2/video_predictor.h"
#include "test_data.h"

using namespace ps;
using namespace ps::engine;

namespace {

const QString kFamily = "sam2";
constexpr int kWidth = 128, kHeight = 96, kFrames = 8;  // the golden clip (tests/data/sam2/video)

std::string tiny_path() {
    return test_data_path(kFamily, "sam2_tiny.pt");
}

sam2::Sam2FrameSource golden_frames() {
    return [](int64_t index) -> Result<cv::Mat> {
        return io::read_rgb_image(
            test_data_path(kFamily, QString("video/%1.jpg").arg(index, 5, 10, QChar('0'))));
    };
}

const sam2::Sam2VideoInfo kClip{kFrames, kWidth, kHeight};

std::string load_tiny(Engine& engine) {
    const sam2::Sam2LayoutOverrides layout =
        tiny_sam2_options("cpu", runtime::Precision::Fp32).layout;
    auto info = wait(engine.load_model(tiny_path(), {runtime::Device::Cpu}, layout));
    if (!info) qFatal("%s", info.message().c_str());
    return info->id;
}

std::shared_ptr<TrackingSession> open(Engine& engine, const std::string& model_id) {
    auto session = wait(engine.open_tracking(model_id, kClip, golden_frames()));
    if (!session) qFatal("%s", session.message().c_str());
    return *session;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size() || a.type() != b.type()) return 1e30;
    return cv::norm(a, b, cv::NORM_INF);
}

// Same objects in the same order, logits equal (both run the same ops on one CPU thread each).
bool same_masks(const sam2::Sam2VideoMasks& a, const sam2::Sam2VideoMasks& b) {
    if (a.frame != b.frame || a.objects.size() != b.objects.size()) return false;
    for (size_t i = 0; i < a.objects.size(); ++i) {
        if (a.objects[i].object_id != b.objects[i].object_id) return false;
        const double diff = max_abs_diff(a.objects[i].logits, b.objects[i].logits);
        if (diff > 1e-4) {
            qWarning("frame %lld object %d: max |diff| %g", static_cast<long long>(a.frame),
                     a.objects[i].object_id, diff);
            return false;
        }
    }
    return true;
}

int positive_pixels(const sam2::Sam2VideoMasks& masks) {
    int n = 0;
    for (const auto& object : masks.objects) n += cv::countNonZero(object.mask());
    return n;
}

}  // namespace

class TestSam2TrackingSession : public QObject {
    Q_OBJECT
  private slots:
    void same_masks_as_the_predictor_alone();
    void cancelled_propagation_keeps_done_frames();
    void other_families_refused_in_one_line();
    void session_outlives_an_unload();
    void sessions_open_and_close_without_leaking();
    void bounded_session_drops_far_masks_only();
};

void TestSam2TrackingSession::same_masks_as_the_predictor_alone() {
    auto alone = sam2::Sam2VideoPredictor::load(
        tiny_path(), tiny_sam2_options("cpu", runtime::Precision::Fp32), kClip, golden_frames());
    QVERIFY2(alone.ok(), alone.ok() ? "" : alone.message().c_str());
    sam2::Sam2VideoPredictor& predictor = **alone;

    Engine engine(cpu_test_settings());
    auto session = open(engine, load_tiny(engine));
    QCOMPARE(session->video().num_frames, int64_t(kFrames));
    QCOMPARE(session->video().width, kWidth);

    // A click on object 1, a box with a click on object 2, a correction on a later frame.
    auto a1 = predictor.add_points(0, 1, {{30, 38, 1}});
    auto e1 = wait(session->add_points(0, 1, {{30, 38, 1}}));
    QVERIFY(a1.ok() && e1.ok());
    QVERIFY(same_masks(*a1, *e1));
    QVERIFY(positive_pixels(*e1) > 0);
    const sam2::Sam2VideoBox box{60, 30, 110, 80};
    auto a2 = predictor.add_box(0, 2, box, {{85, 55, 1}});
    auto e2 = wait(session->add_box(0, 2, box, {{85, 55, 1}}));
    QVERIFY(a2.ok() && e2.ok());
    QCOMPARE(int(e2->objects.size()), 2);
    QVERIFY(same_masks(*a2, *e2));

    std::vector<sam2::Sam2VideoMasks> from_alone, from_engine;
    QVERIFY(predictor.propagate({}, [&](const sam2::Sam2VideoMasks& m) { from_alone.push_back(m); })
                .ok());
    const Status done = wait(
        session->propagate({}, [&](const sam2::Sam2VideoMasks& m) { from_engine.push_back(m); }));
    QVERIFY2(done.ok(), done.ok() ? "" : done.message().c_str());
    QCOMPARE(int(from_engine.size()), kFrames);
    QCOMPARE(from_engine.size(), from_alone.size());
    // Each propagated frame timed in the engine's metrics (the benchmark panel's latency chart).
    const StageStats tracked = engine.metrics().snapshot().stage(Stage::TrackFrame);
    QCOMPARE(tracked.count, static_cast<long long>(kFrames));
    QVERIFY(tracked.last_ms > 0);
    for (size_t i = 0; i < from_alone.size(); ++i)
        QVERIFY(same_masks(from_alone[i], from_engine[i]));

    auto a3 = predictor.add_points(5, 1, {{40, 40, 0}});
    auto e3 = wait(session->add_points(5, 1, {{40, 40, 0}}));
    QVERIFY(a3.ok() && e3.ok());
    QVERIFY(same_masks(*a3, *e3));
    auto a4 = predictor.masks(3);
    auto e4 = wait(session->masks(3));
    QVERIFY(a4.ok() && e4.ok());
    QVERIFY(same_masks(*a4, *e4));
    auto a5 = predictor.clear_prompts(5, 1);
    auto e5 = wait(session->clear_prompts(5, 1));
    QVERIFY(a5.ok() && e5.ok());
    QVERIFY(same_masks(*a5, *e5));

    // reset: nothing to propagate any more.
    QVERIFY(wait(session->reset()).ok());
    QVERIFY(!wait(session->propagate({}, {})).ok());
    // A frame outside the clip is the predictor's one-line error, through the future.
    auto outside = wait(session->add_points(kFrames, 1, {{30, 38, 1}}));
    QVERIFY(!outside.ok());
    QVERIFY(QString::fromStdString(outside.message()).contains("outside the video"));
}

void TestSam2TrackingSession::cancelled_propagation_keeps_done_frames() {
    Engine engine(cpu_test_settings());
    auto session = open(engine, load_tiny(engine));
    QVERIFY(wait(session->add_points(0, 1, {{30, 38, 1}})).ok());
    std::atomic<bool> cancel{false};
    std::map<int64_t, cv::Mat> seen;
    sam2::Sam2PropagateOptions options;
    options.cancel = &cancel;
    const Status done = wait(session->propagate(options, [&](const sam2::Sam2VideoMasks& m) {
        seen[m.frame] = m.objects.at(0).logits.clone();
        if (seen.size() == 3) cancel.store(true);
    }));
    QVERIFY(!done.ok());
    QCOMPARE(done.error().kind, ErrorKind::Cancelled);
    QCOMPARE(int(seen.size()), 3);
    // The frames done stay tracked, as they were shown; the others have no output.
    for (int64_t frame = 0; frame < kFrames; ++frame) {
        auto shown = wait(session->masks(frame));
        QVERIFY(shown.ok());
        const cv::Mat& logits = shown->objects.at(0).logits;
        if (seen.count(frame) != 0) {
            QVERIFY2(max_abs_diff(logits, seen[frame]) == 0, qPrintable(QString::number(frame)));
        } else {
            double low = 0, high = 0;
            cv::minMaxLoc(logits, &low, &high);
            QCOMPARE(high, -1024.0);
        }
    }
    // Going on from the first frame not done finishes the clip.
    options.cancel = nullptr;
    options.start_frame = 3;
    int more = 0;
    QVERIFY(wait(session->propagate(options, [&](const sam2::Sam2VideoMasks&) { ++more; })).ok());
    QCOMPARE(more, kFrames - 3);
}

void TestSam2TrackingSession::other_families_refused_in_one_line() {
    Engine engine(cpu_test_settings());
    const std::map<std::string, QString> expected = {
        {golden_path("mobile_sam_tiny.pth"), "mobile_sam_tiny.pth: looks like a Segment Anything"},
        {golden_path("u2netp.pth"), "u2netp.pth: looks like a U²-Net background-removal"},
    };
    for (const auto& [path, start] : expected) {
        auto model = wait(engine.load_model(path));
        QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
        auto session = wait(engine.open_tracking(model->id, kClip, golden_frames()));
        QVERIFY(!session.ok());
        QCOMPARE(session.error().kind, ErrorKind::InvalidArgument);
        const QString message = QString::fromStdString(session.message());
        QVERIFY2(message.startsWith(start) && message.contains("video tracking needs a SAM 2.1") &&
                     !message.contains('\n'),
                 qPrintable(message));
    }
    auto missing = wait(engine.open_tracking("no-such-model", kClip, golden_frames()));
    QVERIFY(!missing.ok());
    QVERIFY(QString::fromStdString(missing.message()).contains("no loaded model"));
    // A clip without frames or a source is refused by the predictor.
    const std::string id = load_tiny(engine);
    QVERIFY(!wait(engine.open_tracking(id, {0, kWidth, kHeight}, golden_frames())).ok());
    QVERIFY(!wait(engine.open_tracking(id, kClip, {})).ok());
}

void TestSam2TrackingSession::session_outlives_an_unload() {
    Engine engine(cpu_test_settings());
    const std::string id = load_tiny(engine);
    auto session = open(engine, id);
    QVERIFY(wait(session->add_points(0, 1, {{30, 38, 1}})).ok());
    QVERIFY(engine.unload_model(id));
    QVERIFY(engine.models().empty());
    // The session still holds the model: it tracks on.
    int frames = 0;
    QVERIFY(wait(session->propagate({}, [&](const sam2::Sam2VideoMasks&) { ++frames; })).ok());
    QCOMPARE(frames, kFrames);
    // A new session needs the model loaded again.
    QVERIFY(!wait(engine.open_tracking(id, kClip, golden_frames())).ok());
    session.reset();  // the last owner: the model goes now
}

void TestSam2TrackingSession::sessions_open_and_close_without_leaking() {
    Engine engine(cpu_test_settings());
    const std::string id = load_tiny(engine);
    auto cycle = [&] {
        auto session = open(engine, id);
        QVERIFY(wait(session->add_points(0, 1, {{30, 38, 1}})).ok());
        QVERIFY(wait(session->propagate({}, {})).ok());
    };
    for (int i = 0; i < 3; ++i) cycle();  // allocator pools warm
    const long long before = read_rss_bytes().value_or(0);
    constexpr int kCycles = 20;
    for (int i = 0; i < kCycles; ++i) cycle();
    const long long after = read_rss_bytes().value_or(0);
    QVERIFY(before > 0);
    // A session holds ~8 frames of records (a few hundred KB here); 20 leaked would add more than
    // 5 MB, allocator noise stays below that.
    const double grown_mb = double(after - before) / (1 << 20);
    QVERIFY2(grown_mb < 5.0, qPrintable(QString("RSS grew %1 MB").arg(grown_mb)));
}

void TestSam2TrackingSession::bounded_session_drops_far_masks_only() {
    Engine engine(cpu_test_settings());
    const std::string id = load_tiny(engine);
    constexpr int64_t kLong = 24;  // the golden frames over and over
    const sam2::Sam2FrameSource looped = [frames = golden_frames()](int64_t i) {
        return frames(i % kFrames);
    };
    std::map<bool, std::vector<sam2::Sam2VideoMasks>> shown;
    std::map<bool, std::shared_ptr<TrackingSession>> sessions;
    for (const bool keep : {true, false}) {
        sam2::Sam2VideoOptions options;
        options.keep_tracked_masks = keep;
        auto session = wait(engine.open_tracking(id, {kLong, kWidth, kHeight}, looped, options));
        QVERIFY(session.ok());
        QVERIFY(wait((*session)->add_points(0, 1, {{30, 38, 1}})).ok());
        QVERIFY(wait((*session)->propagate({}, [&](const sam2::Sam2VideoMasks& m) {
                    shown[keep].push_back(m);
                })).ok());
        sessions[keep] = *session;
    }
    // Tracking itself is the same: only what is kept afterwards differs.
    QCOMPARE(shown[true].size(), size_t(kLong));
    for (size_t i = 0; i < shown[true].size(); ++i)
        QVERIFY(same_masks(shown[true][i], shown[false][i]));
    // The prompted frame and the last frames keep their masks; frame 1, far behind, does only
    // in the session that keeps them.
    for (const int64_t frame : {int64_t(0), kLong - 1}) {
        auto bounded = wait(sessions[false]->masks(frame));
        QVERIFY(bounded.ok());
        QVERIFY(same_masks(*bounded, shown[true][size_t(frame)]));
    }
    auto kept = wait(sessions[true]->masks(1));
    auto dropped = wait(sessions[false]->masks(1));
    QVERIFY(kept.ok() && dropped.ok());
    QVERIFY(positive_pixels(*kept) > 0);
    double low = 0, high = 0;
    cv::minMaxLoc(dropped->objects.at(0).logits, &low, &high);
    QCOMPARE(high, -1024.0);
    // A correction click there still works (without the dropped mask as its mask prompt).
    QVERIFY(wait(sessions[false]->add_points(1, 1, {{30, 38, 1}})).ok());
}

QTEST_MAIN(TestSam2TrackingSession)
#include "test_sam2_tracking_session.moc"
