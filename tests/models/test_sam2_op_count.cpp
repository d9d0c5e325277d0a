// How many ATen operator calls SAM 2.1 makes per video frame (the tiny golden model, fp32, CPU):
// on the GPU each call costs a few microseconds of CPU-side dispatch whatever its size, so at
// 1024² the count alone sets a floor under a tracked frame's time (issue 17). Counted with a
// global at::RecordFunction callback: the image encoder (Sam2Network::encode) on its own, and a
// steady-state tracked frame of propagate (encoder, memory attention, SAM heads, memory encoder,
// masks to the host). One ATen thread, so that batched products take at::matmul as on the GPU
// (runtime::threaded_matmul's per-matrix calls are a CPU schedule), and nothing inside the CPU's
// bmm. Every other call is counted, nested ones too (at::linear's addmm: each goes through the
// dispatcher), and apart the top-level ones
// (those the model's code makes). Upper bounds guard against regressions; the counts and the most
// frequent operators are printed for whoever reduces them further. Not a timing test.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/core/InferenceMode.h>
#include <QtTest>

#include <opencv2/core.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/image_reader.h"
#include "models/sam2/sam2_network.h"
#include "models/sam2/video_predictor.h"
#include "sam2_test_data.h"

using namespace ps;

namespace {

const QString kFamily = "sam2";
constexpr int kWidth = 128, kHeight = 96, kGoldenFrames = 8;

// Upper bounds, a little above the counts measured when they were set (every operator call,
// nested ones included: at::linear's addmm counts too).
constexpr int64_t kMaxEncoderCalls = 1500;
constexpr int64_t kMaxTrackedFrameCalls = 3600;
constexpr int64_t kMaxClickCalls = 2000;

// Every ATen operator call on any thread while alive, by name.
class OpCounter {
  public:
    OpCounter() {
        handle_ = at::addGlobalCallback(
            at::RecordFunctionCallback(
                [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
                    if (hidden() == 0) instance().add(fn.name(), depth() == 0);
                    ++depth();
                    if (opaque(fn)) ++hidden();
                    return nullptr;
                },
                [](const at::RecordFunction& fn, at::ObserverContext*) {
                    --depth();
                    if (opaque(fn)) --hidden();
                })
                .scopes({at::RecordScope::FUNCTION}));
    }
    ~OpCounter() { at::removeCallback(handle_); }

    int64_t total() const { return total_.load(); }
    int64_t top_level() const { return top_level_.load(); }
    std::map<std::string, int64_t> by_name() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return names_;
    }
    // The top-level calls by name, each prefixed "top:".
    std::map<std::string, int64_t> top_by_name() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return top_names_;
    }
    void reset() {
        std::lock_guard<std::mutex> lock(mutex_);
        names_.clear();
        top_names_.clear();
        total_ = 0;
        top_level_ = 0;
    }
    static OpCounter*& current() {
        static OpCounter* counter = nullptr;
        return counter;
    }

  private:
    static OpCounter& instance() { return *current(); }
    static int& depth() {
        thread_local int d = 0;
        return d;
    }
    // LibTorch 1.13's CPU bmm multiplies matrix by matrix through select() and mm (thousands of
    // calls for a windowed attention) where CUDA makes one batched call: what they call inside
    // is not counted.
    static bool opaque(const at::RecordFunction& fn) {
        const std::string name = fn.name();
        return name == "aten::bmm" || name == "aten::baddbmm" || name == "aten::bmm.out";
    }
    static int& hidden() {
        thread_local int h = 0;
        return h;
    }
    void add(const char* name, bool top) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++names_[name];
        ++total_;
        if (top) {
            ++top_level_;
            ++top_names_[std::string("top:") + name];
        }
    }
    at::CallbackHandle handle_ = 0;
    mutable std::mutex mutex_;
    std::map<std::string, int64_t> names_, top_names_;
    std::atomic<int64_t> total_{0}, top_level_{0};
};

void print_top(const char* what, int64_t calls, int64_t top_level,
               const std::map<std::string, int64_t>& names) {
    std::vector<std::pair<int64_t, std::string>> sorted;
    for (const auto& [name, n] : names) sorted.push_back({n, name});
    std::sort(sorted.rbegin(), sorted.rend());
    std::string top;
    for (size_t i = 0; i < sorted.size() && i < 25; ++i)
        top += " " + sorted[i].second + "=" + std::to_string(sorted[i].first);
    qInfo("%s: %lld ATen calls (%lld top-level);%s", what, static_cast<long long>(calls),
          static_cast<long long>(top_level), top.c_str());
}

sam2::Sam2FrameSource golden_frames() {
    return [](int64_t index) -> Result<cv::Mat> {
        return io::read_rgb_image(test_data_path(
            kFamily, QString("video/%1.jpg").arg(index % kGoldenFrames, 5, 10, QChar('0'))));
    };
}

}  // namespace

class TestSam2OpCount : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() { at::set_num_threads(1); }
    void encoder_calls();
    void tracked_frame_calls();
    void click_calls();
};

void TestSam2OpCount::encoder_calls() {
    auto model = sam2::Sam2Model::load(test_data_path(kFamily, "sam2_tiny.pt"),
                                       tiny_sam2_options("cpu", runtime::Precision::Fp32));
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    const sam2::Sam2Network& network = (*model)->network();
    const int64_t size = network.config().image_size;
    c10::InferenceMode inference;
    const at::Tensor input = at::randn({1, 3, size, size});
    network.encode(input);  // once, so that caches made on first use are not counted
    OpCounter counter;
    OpCounter::current() = &counter;
    const sam2::Sam2ImageFeatures features = network.encode(input);
    const int64_t calls = counter.total(), top_level = counter.top_level();
    OpCounter::current() = nullptr;
    QVERIFY(features.image_embed.defined());
    print_top("image encoder", calls, top_level, counter.by_name());
    print_top("image encoder", calls, top_level, counter.top_by_name());
    QVERIFY2(calls <= kMaxEncoderCalls,
             qPrintable(QString("%1 calls > %2 for one encode").arg(calls).arg(kMaxEncoderCalls)));
}

void TestSam2OpCount::tracked_frame_calls() {
    // 12 frames, one click on frame 0: from frame 8 on, every tracked frame attends to the full
    // memory bank (6 tracked memories and the prompted one) and is alike.
    constexpr int64_t kFrames = 12;
    auto predictor = sam2::Sam2VideoPredictor::load(
        test_data_path(kFamily, "sam2_tiny.pt"), tiny_sam2_options("cpu", runtime::Precision::Fp32),
        {kFrames, kWidth, kHeight}, golden_frames());
    QVERIFY2(predictor.ok(), predictor.ok() ? "" : predictor.message().c_str());
    QVERIFY((*predictor)->add_points(0, 1, {{30, 38, 1}}).ok());
    OpCounter counter;
    OpCounter::current() = &counter;
    std::vector<int64_t> per_frame;
    int64_t last_top_level = 0;
    std::map<std::string, int64_t> last_names, last_top_names;
    const Status done = (*predictor)->propagate({}, [&](const sam2::Sam2VideoMasks& m) {
        // The calls since the previous frame's masks (the next frame's read runs meanwhile on
        // its own thread: one read per frame whichever frame it lands in).
        per_frame.push_back(counter.total());
        if (m.frame == kFrames - 1) {
            last_names = counter.by_name();
            last_top_names = counter.top_by_name();
            last_top_level = counter.top_level();
        }
        counter.reset();
    });
    OpCounter::current() = nullptr;
    QVERIFY2(done.ok(), done.ok() ? "" : done.message().c_str());
    QCOMPARE(per_frame.size(), size_t{kFrames});
    QString counts;
    for (int64_t n : per_frame) counts += " " + QString::number(n);
    qInfo("ATen calls per frame:%s", qPrintable(counts));
    const int64_t steady = per_frame.back();
    print_top("tracked frame", steady, last_top_level, last_names);
    print_top("tracked frame", steady, last_top_level, last_top_names);
    QVERIFY2(
        steady <= kMaxTrackedFrameCalls,
        qPrintable(
            QString("%1 calls > %2 per tracked frame").arg(steady).arg(kMaxTrackedFrameCalls)));
}

// One click on an encoded image (Sam2Model::decode: prompt encoding, the mask decoder, the
// masks at the image's size on the host): what a click costs besides the GPU's work.
void TestSam2OpCount::click_calls() {
    auto model = sam2::Sam2Model::load(test_data_path(kFamily, "sam2_tiny.pt"),
                                       tiny_sam2_options("cpu", runtime::Precision::Fp32));
    QVERIFY2(model.ok(), model.ok() ? "" : model.message().c_str());
    auto rgb = golden_frames()(0);
    QVERIFY(rgb.ok());
    auto embedding = (*model)->encode(*rgb);
    QVERIFY2(embedding.ok(), embedding.ok() ? "" : embedding.message().c_str());
    runtime::Prompt prompt;
    prompt.points = {{30, 38, 1}};
    QVERIFY((*model)->decode(**embedding, prompt).ok());  // caches made on first use
    prompt.points = {{52, 40, 1}};
    OpCounter counter;
    OpCounter::current() = &counter;
    auto masks = (*model)->decode(**embedding, prompt);
    const int64_t calls = counter.total(), top_level = counter.top_level();
    OpCounter::current() = nullptr;
    QVERIFY2(masks.ok(), masks.ok() ? "" : masks.message().c_str());
    QCOMPARE(masks->masks.size(), size_t{3});
    print_top("click", calls, top_level, counter.by_name());
    print_top("click", calls, top_level, counter.top_by_name());
    QVERIFY2(calls <= kMaxClickCalls,
             qPrintable(QString("%1 calls > %2 for one click").arg(calls).arg(kMaxClickCalls)));
}

QTEST_GUILESS_MAIN(TestSam2OpCount)
#include "test_sam2_op_count.moc"
