// DeviceThread: every call runs on the device's one thread, whoever asks, in order, with the
// caller's result or exception; a call from that thread runs inline.
#include <QtTest>

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/device_thread.h"

using ps::engine::DeviceThread;

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
                    const auto id = device.run([&] {
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
        QCOMPARE(device.run([] { return 41 + 1; }), 42);
        auto text = device.run([] { return std::make_unique<std::string>("moved out"); });
        QCOMPARE(*text, std::string("moved out"));
        bool caught = false;
        try {
            device.run([]() -> int { throw std::runtime_error("CUDA error: out of memory"); });
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "CUDA error: out of memory";
        }
        QVERIFY(caught);
        QCOMPARE(device.run([] { return 7; }), 7);  // still serving after a throw
    }

    void a_call_from_the_device_thread_runs_inline() {
        DeviceThread device("cpu");
        const int nested = device.run([&] { return device.run([] { return 5; }) + 1; });
        QCOMPARE(nested, 6);
    }

    void concurrent_callers_all_get_their_call_run() {
        std::atomic<int> done{0};
        std::vector<std::thread> callers;
        {
            DeviceThread device("cpu");
            for (int i = 0; i < 4; ++i)
                callers.emplace_back([&] {
                    device.run([&] {
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
