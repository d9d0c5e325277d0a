#include "engine/device_thread.h"

#include <pthread.h>

namespace ps::engine {

DeviceThread::DeviceThread(const std::string& device) : thread_([this] { loop(); }) {
    // Shown by top, perf and gdb: "ps-cpu", "ps-cuda:0" (the kernel keeps 15 characters).
    pthread_setname_np(thread_.native_handle(), ("ps-" + device).substr(0, 15).c_str());
}

DeviceThread::~DeviceThread() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void DeviceThread::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void DeviceThread::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        auto task = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        task();  // a packaged_task: what the call throws goes to its waiter
        lock.lock();
    }
}

}  // namespace ps::engine
