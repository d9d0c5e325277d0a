// Thread pool ownership and shutdown.
#include "engine/job_scheduler.h"

#include <string>

namespace ps::engine {

JobScheduler::JobScheduler(int max_threads) {
    pool_.setMaxThreadCount(std::max(1, max_threads));
    pool_.setObjectName("photosynth-engine");
}

JobScheduler::~JobScheduler() {
    shutdown();
}

void JobScheduler::shutdown() {
    shutdown_->cancel();
    pool_.waitForDone();
}

void JobScheduler::start(Priority priority, std::function<void()> job) {
    pool_.start(std::move(job), static_cast<int>(priority));
}

Error JobScheduler::cancelled_error() {
    return make_error(ErrorKind::Cancelled,
                      "cancelled before it ran (image closed or engine stopped)");
}

Error JobScheduler::exception_error(const char* what) {
    return make_error(ErrorKind::Runtime, std::string("internal error: ") + what);
}

}  // namespace ps::engine
