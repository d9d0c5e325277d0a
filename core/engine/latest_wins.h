// Coalescing of interactive requests: per channel only the newest request runs; older queued
// ones, and a running one overtaken by a newer request, resolve as Superseded (never stale).
#pragma once

#include <QFuture>
#include <QPromise>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "engine/job_scheduler.h"

namespace ps::engine {

template <typename T>
class LatestWins {
  public:
    using Work = std::function<Result<T>()>;

    // Where a channel's drain runs: the scheduler's pool unless `start` says otherwise (the
    // engine posts mask decodes straight to their device's thread). The scheduler's shutdown
    // cancels what has not run either way.
    using Start = std::function<void(Priority, std::function<void()>)>;
    LatestWins(JobScheduler& scheduler, Priority priority, Start start = nullptr)
        : scheduler_(scheduler), priority_(priority), start_(std::move(start)) {}

    QFuture<Result<T>> request(int channel, Work work) {
        auto promise = std::make_shared<QPromise<Result<T>>>();
        promise->start();
        QFuture<Result<T>> future = promise->future();
        std::shared_ptr<Channel> state;
        bool schedule = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            std::shared_ptr<Channel>& slot = channels_[channel];
            if (!slot) slot = std::make_shared<Channel>();
            state = slot;
        }
        {
            std::lock_guard<std::mutex> lock(state->mutex);
            if (state->pending_promise) resolve(*state->pending_promise, superseded());
            state->pending_work = std::move(work);
            state->pending_promise = promise;
            schedule = !state->draining;
            state->draining = true;
        }
        if (!schedule) return future;
        auto drain_job = [this, state] { drain(*state); };
        if (start_)
            start_(priority_, std::move(drain_job));
        else
            scheduler_.start(priority_, std::move(drain_job));
        return future;
    }

  private:
    struct Channel {
        std::mutex mutex;
        Work pending_work;
        std::shared_ptr<QPromise<Result<T>>> pending_promise;
        bool draining = false;
    };

    static Error superseded() {
        return make_error(ErrorKind::Superseded, "superseded by a newer request");
    }

    static void resolve(QPromise<Result<T>>& promise, Result<T> result) {
        promise.addResult(std::move(result));
        promise.finish();
    }

    void drain(Channel& state) {
        for (;;) {
            Work work;
            std::shared_ptr<QPromise<Result<T>>> promise;
            {
                std::lock_guard<std::mutex> lock(state.mutex);
                if (!state.pending_promise) {
                    state.draining = false;
                    return;
                }
                work = std::move(state.pending_work);
                promise = std::move(state.pending_promise);
                state.pending_work = nullptr;
                state.pending_promise.reset();
            }
            Result<T> result = run(work);
            std::lock_guard<std::mutex> lock(state.mutex);
            // A newer request arrived while this one ran: its answer would be stale.
            resolve(*promise, state.pending_promise ? Result<T>(superseded()) : std::move(result));
        }
    }

    Result<T> run(const Work& work) {
        if (scheduler_.shutting_down()) {
            return make_error(ErrorKind::Cancelled, "cancelled: the engine is stopping");
        }
        try {
            return work();
        } catch (const std::exception& e) {
            return make_error(ErrorKind::Runtime, std::string("internal error: ") + e.what());
        }
    }

    JobScheduler& scheduler_;
    Priority priority_;
    Start start_;
    std::mutex mutex_;
    std::map<int, std::shared_ptr<Channel>> channels_;
};

}  // namespace ps::engine
