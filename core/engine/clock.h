// Time source for the engine; tests inject a fake one so metrics are exact.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace ps::engine {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual double now_ms() const = 0;  // monotonic milliseconds since an arbitrary origin
};

class SteadyClock : public Clock {
  public:
    double now_ms() const override {
        return std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
};

// Advances only when told to.
class FakeClock : public Clock {
  public:
    double now_ms() const override { return now_.load(); }
    void advance_ms(double ms) { now_.store(now_.load() + ms); }
    void set_ms(double ms) { now_.store(ms); }

  private:
    std::atomic<double> now_{0.0};
};

inline std::shared_ptr<Clock> steady_clock() {
    return std::make_shared<SteadyClock>();
}

}  // namespace ps::engine
