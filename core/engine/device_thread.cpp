#include "engine/device_thread.h"

#include <pthread.h>

#include <algorithm>

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

// Heap order: the top is the highest priority, and within one priority the first posted.
bool DeviceThread::runs_later(const Task& a, const Task& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.order > b.order;
}

void DeviceThread::post(Priority priority, std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back({static_cast<int>(priority), posted_++, std::move(task)});
        std::push_heap(queue_.begin(), queue_.end(), runs_later);
    }
    wake_.notify_one();
}

void DeviceThread::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        std::pop_heap(queue_.begin(), queue_.end(), runs_later);
        auto task = std::move(queue_.back().run);
        queue_.pop_back();
        lock.unlock();
        task();  // a packaged_task's or a drain's: neither lets an exception out
        lock.lock();
    }
}

}  // namespace ps::engine
