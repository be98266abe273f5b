#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stop_token>

#include <pipeline/clock.hpp>

namespace test_support {

/// A clock whose time never moves: a sleep to a future deadline blocks until stop is requested.
///
/// Lets a test stop a thread that is really blocked in a wait, without timing anything:
/// `wait_for_sleepers(1)` returns once the thread is asleep, then the test requests stop.
class frozen_clock final : public pipeline::clock {
 public:
  [[nodiscard]] auto now() const noexcept -> time_point override { return time_point{}; }

  auto sleep_until(time_point deadline, std::stop_token stop) -> bool override {
    if (deadline <= now()) return !stop.stop_requested();
    const std::stop_callback on_stop(stop, [this] {
      const std::scoped_lock lock(mutex_);
      changed_.notify_all();
    });
    std::unique_lock lock(mutex_);
    ++sleepers_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return stop.stop_requested(); });
    --sleepers_;
    return false;
  }

  /// Blocks until at least `count` threads are asleep on this clock.
  void wait_for_sleepers(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return sleepers_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t sleepers_ = 0;
};

}  // namespace test_support
