// The engine's thread pool: prioritised jobs, cancellation tokens, futures that carry errors.
#pragma once

#include <QFuture>
#include <QPromise>
#include <QThreadPool>

#include <atomic>
#include <functional>
#include <memory>

#include "common/result.h"

namespace ps::engine {

// Higher runs first when the pool is busy: a click beats the encode of the image on screen,
// which beats pre-encoding the neighbours, which beats batch work.
enum class Priority { Batch = 0, Preencode = 1, EncodeVisible = 2, Interactive = 3 };

class CancelToken {
  public:
    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }

  private:
    std::atomic<bool> cancelled_{false};
};

// While alive, the calling pool worker counts as waiting (QThreadPool::releaseThread), so the
// pool may start another worker for the jobs this one waits on; reserved again on destruction.
class LentWorker {
  public:
    explicit LentWorker(QThreadPool& pool) : pool_(pool) { pool_.releaseThread(); }
    ~LentWorker() { pool_.reserveThread(); }
    LentWorker(const LentWorker&) = delete;
    LentWorker& operator=(const LentWorker&) = delete;

  private:
    QThreadPool& pool_;
};

class JobScheduler {
  public:
    explicit JobScheduler(int max_threads);
    ~JobScheduler();  // shutdown()
    // Cancels what is queued and waits for what runs. Idempotent.
    void shutdown();
    JobScheduler(const JobScheduler&) = delete;
    JobScheduler& operator=(const JobScheduler&) = delete;

    // Runs body on the pool. If `token` (or the scheduler) is cancelled before the job starts,
    // the future resolves with ErrorKind::Cancelled instead. Exceptions become errors: none
    // escapes a worker thread.
    template <typename T>
    QFuture<Result<T>> submit(Priority priority, std::shared_ptr<CancelToken> token,
                              std::function<Result<T>()> body) {
        return submit_on<T>([this](Priority p, std::function<void()> job) { start(p, job); },
                            priority, std::move(token), std::move(body));
    }
    // submit, with the job run wherever `start_job` puts it (a device's own thread); the
    // scheduler's shutdown cancels it all the same.
    using StartJob = std::function<void(Priority, std::function<void()>)>;
    template <typename T>
    QFuture<Result<T>> submit_on(const StartJob& start_job, Priority priority,
                                 std::shared_ptr<CancelToken> token,
                                 std::function<Result<T>()> body);

    // Fire-and-forget; the job must handle its own errors and the shutdown flag.
    void start(Priority priority, std::function<void()> job);
    bool shutting_down() const { return shutdown_->cancelled(); }

    QThreadPool& pool() { return pool_; }
    int max_threads() const { return pool_.maxThreadCount(); }
    bool wait_idle(int timeout_ms = -1) { return pool_.waitForDone(timeout_ms); }

  private:
    static Error cancelled_error();
    static Error exception_error(const char* what);

    QThreadPool pool_;
    std::shared_ptr<CancelToken> shutdown_ = std::make_shared<CancelToken>();
};

template <typename T>
QFuture<Result<T>> JobScheduler::submit_on(const StartJob& start_job, Priority priority,
                                           std::shared_ptr<CancelToken> token,
                                           std::function<Result<T>()> body) {
    auto promise = std::make_shared<QPromise<Result<T>>>();
    QFuture<Result<T>> future = promise->future();
    promise->start();
    auto shutdown = shutdown_;
    start_job(priority, [promise, token, shutdown, body = std::move(body)]() {
        if (shutdown->cancelled() || (token && token->cancelled())) {
            promise->addResult(Result<T>(cancelled_error()));
        } else {
            try {
                promise->addResult(body());
            } catch (const std::exception& e) {
                promise->addResult(Result<T>(exception_error(e.what())));
            }
        }
        promise->finish();
    });
    return future;
}

}  // namespace ps::engine
