// MatteBatcher: leader/follower batching over Engine::matte_batch.
#include "engine/matte_batcher.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "engine/engine.h"

namespace ps::engine {

struct MatteBatcher::Request {
    cv::Mat rgb;
    std::optional<Result<MatteResult>> result;
};

MatteBatcher::MatteBatcher(Engine& engine, std::string model_id, int batch_size, int linger_ms)
    : engine_(engine),
      model_id_(std::move(model_id)),
      batch_size_(std::max(1, batch_size)),
      linger_ms_(std::max(0, linger_ms)) {}

MatteBatcher::~MatteBatcher() = default;

Result<MatteResult> MatteBatcher::matte(const cv::Mat& rgb) {
    auto request = std::make_shared<Request>();
    request->rgb = rgb;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(linger_ms_);
    std::unique_lock<std::mutex> lock(mutex_);
    waiting_.push_back(request);
    changed_.notify_all();
    while (!request->result) {
        const bool mine_waiting =
            std::find(waiting_.begin(), waiting_.end(), request) != waiting_.end();
        const bool full = static_cast<int>(waiting_.size()) >= batch_size_;
        if (mine_waiting && (full || std::chrono::steady_clock::now() >= deadline)) {
            run_front(lock);
            continue;
        }
        if (mine_waiting) {
            changed_.wait_until(lock, deadline);
        } else {
            changed_.wait(lock);  // taken by another caller's batch: wait for its results
        }
    }
    return std::move(*request->result);
}

// Runs the oldest batch_size_ waiting requests (the lock released meanwhile) and publishes
// their results.
void MatteBatcher::run_front(std::unique_lock<std::mutex>& lock) {
    const size_t count = std::min(waiting_.size(), static_cast<size_t>(batch_size_));
    std::vector<std::shared_ptr<Request>> batch(waiting_.begin(), waiting_.begin() + count);
    waiting_.erase(waiting_.begin(), waiting_.begin() + count);
    lock.unlock();
    std::vector<cv::Mat> rgbs;
    for (const auto& r : batch) rgbs.push_back(r->rgb);
    MatteBatchOptions options;
    options.pad_to = batch_size_ > 1 ? batch_size_ : 0;
    auto future = engine_.matte_batch(std::move(rgbs), model_id_, options);
    future.waitForFinished();
    auto results = future.result();
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) {
        if (results) {
            batch[i]->result = std::move((*results)[i]);
        } else {
            batch[i]->result = Result<MatteResult>(results.error());
        }
    }
    changed_.notify_all();
}

}  // namespace ps::engine
