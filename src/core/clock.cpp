#include <pipeline/clock.hpp>

#include <algorithm>
#include <condition_variable>
#include <stdexcept>
#include <utility>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <pipeline/detail/chrono.hpp>

namespace pipeline {
namespace {

class real_clock final : public clock {
 public:
  [[nodiscard]] auto now() const noexcept -> time_point override { return std::chrono::steady_clock::now(); }

  auto sleep_until(time_point deadline, std::stop_token stop) -> bool override {
    // A mutex and condition variable per sleep: sleepers share nothing, and the stop callback
    // wakes exactly this one. (condition_variable_any's stop_token wait would allocate.)
    std::mutex mutex;
    std::condition_variable wake;
    // Registered before locking: when stop is already requested it runs right here and locks.
    // Locking before notifying means the wake cannot fall between our check and our wait.
    const std::stop_callback on_stop(stop, [&] {
      const std::scoped_lock lock(mutex);
      wake.notify_one();
    });
    std::unique_lock lock(mutex);
    while (!stop.stop_requested()) {
      if (wake.wait_until(lock, deadline) == std::cv_status::timeout) return true;
    }
    return false;
  }
};

}  // namespace

clock::~clock() = default;

auto clock::sleep_for(duration d, std::stop_token stop) -> bool {
  return sleep_until(detail::saturating_add(now(), d), std::move(stop));
}

auto steady_clock() noexcept -> clock& {
  static real_clock instance;
  return instance;
}

manual_clock::manual_clock(time_point start) noexcept : now_(start) {}

auto manual_clock::now() const noexcept -> time_point { return now_.load(); }

auto manual_clock::sleep_until(time_point deadline, std::stop_token stop) -> bool {
  if (stop.stop_requested()) return false;
  const std::scoped_lock lock(mutex_);
  const auto current = now_.load();
  sleeps_.push_back(std::max(deadline - current, duration::zero()));
  if (deadline > current) now_.store(deadline);
  return true;
}

void manual_clock::advance(duration d) {
  if (d < duration::zero()) {
    throw std::invalid_argument(fmt::format("manual_clock::advance: d must not be negative (got {})", d));
  }
  const std::scoped_lock lock(mutex_);
  now_.store(detail::saturating_add(now_.load(), d));
}

auto manual_clock::sleeps() const -> std::vector<duration> {
  const std::scoped_lock lock(mutex_);
  return sleeps_;
}

}  // namespace pipeline
