// DeviceThread: every call runs on the device's one thread, whoever asks, highest priority first
// and in order within one, with the caller's result or exception; a call from that thread runs
// inline.
#include <QtTest>

#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/device_thread.h"

using ps::engine::DeviceThread;
using ps::engine::Priority;
constexpr Priority kNow = Priority::Interactive;

class TestDeviceThread : public QObject {
    Q_OBJECT
  private slots:
    void calls_from_many_threads_run_on_one() {
        DeviceThread device("cpu");
        std::mutex mutex;
        std::set<std::thread::id> callers, runners;
        std::atomic<int> running{0}, most{0};
        std::vector<std::thread> callers_threads;
        for (int t = 0; t < 8; ++t) {
            callers_threads.emplace_back([&] {
                for (int i = 0; i < 25; ++i) {
                    const auto id = device.run(kNow, [&] {
                        most = std::max(most.load(), ++running);
                        std::this_thread::yield();
                        --running;
                        return std::this_thread::get_id();
                    });
                    std::lock_guard<std::mutex> lock(mutex);
                    runners.insert(id);
                    callers.insert(std::this_thread::get_id());
                }
            });
        }
        for (auto& t : callers_threads) t.join();
        QCOMPARE(int(callers.size()), 8);
        QCOMPARE(int(runners.size()), 1);
        QVERIFY(!callers.count(*runners.begin()));
        QCOMPARE(most.load(), 1);  // one call at a time
    }

    void results_and_exceptions_reach_the_caller() {
        DeviceThread device("cuda:0");
        QCOMPARE(device.run(kNow, [] { return 41 + 1; }), 42);
        auto text = device.run(kNow, [] { return std::make_unique<std::string>("moved out"); });
        QCOMPARE(*text, std::string("moved out"));
        bool caught = false;
        try {
            device.run(kNow,
                       []() -> int { throw std::runtime_error("CUDA error: out of memory"); });
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "CUDA error: out of memory";
        }
        QVERIFY(caught);
        QCOMPARE(device.run(kNow, [] { return 7; }), 7);  // still serving after a throw
    }

    void higher_priorities_run_first_then_in_order() {
        DeviceThread device("cpu");
        std::mutex mutex;
        std::vector<std::string> ran;
        std::promise<void> release;
        auto gate = release.get_future().share();
        std::atomic<bool> started{false};
        // Hold the thread so that everything below is queued before any of it runs.
        device.post(Priority::Batch, [&] {
            started = true;
            gate.wait();
        });
        while (!started) std::this_thread::yield();
        const auto note = [&](std::string name) {
            return [&, name] {
                std::lock_guard<std::mutex> lock(mutex);
                ran.push_back(name);
            };
        };
        device.post(Priority::Batch, note("batch 1"));
        device.post(Priority::Preencode, note("preencode"));
        device.post(Priority::Batch, note("batch 2"));
        device.post(Priority::Interactive, note("click 1"));
        device.post(Priority::EncodeVisible, note("visible"));
        device.post(Priority::Interactive, note("click 2"));
        release.set_value();
        device.run(Priority::Batch, [] { return 0; });  // queued last of all: waits for the rest
        const std::vector<std::string> expected{"click 1",   "click 2", "visible",
                                                "preencode", "batch 1", "batch 2"};
        QCOMPARE(ran, expected);
    }

    void a_call_from_the_device_thread_runs_inline() {
        DeviceThread device("cpu");
        const int nested = device.run(kNow, [&] { return device.run(kNow, [] { return 5; }) + 1; });
        QCOMPARE(nested, 6);
    }

    void concurrent_callers_all_get_their_call_run() {
        std::atomic<int> done{0};
        std::vector<std::thread> callers;
        {
            DeviceThread device("cpu");
            for (int i = 0; i < 4; ++i)
                callers.emplace_back([&] {
                    device.run(kNow, [&] {
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                        return ++done;
                    });
                });
            while (done.load() == 0) std::this_thread::yield();
            for (auto& t : callers) t.join();
        }
        QCOMPARE(done.load(), 4);
    }
};

QTEST_GUILESS_MAIN(TestDeviceThread)
#include "test_device_thread.moc"
