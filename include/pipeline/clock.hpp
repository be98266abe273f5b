#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <stop_token>
#include <vector>

namespace pipeline {

/// A time source with an interruptible sleep, injected wherever the library waits or measures
/// time (retry, rate limiter, leases, autoscaling) so that tests can run in virtual time.
///
/// Thread safety: implementations must be thread-safe; one clock is shared by every component.
/// `sleep_until` blocks (in real or virtual time) and returns early, with `false`, on stop.
///
///     auto wait_a_second(pipeline::clock& clk, std::stop_token stop) -> bool {
///       return clk.sleep_for(std::chrono::seconds{1}, stop);  // false: stopped first
///     }
class clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  clock() = default;
  clock(const clock&) = delete;  // polymorphic: copying would slice
  auto operator=(const clock&) -> clock& = delete;
  virtual ~clock();

  /// The current time; never goes backwards.
  [[nodiscard]] virtual auto now() const noexcept -> time_point = 0;

  /// Waits until `deadline`. True when the deadline was reached, false when a stop was
  /// requested first; a stop already requested wins, even over a deadline in the past.
  virtual auto sleep_until(time_point deadline, std::stop_token stop) -> bool = 0;

  /// `sleep_until(now() + d, stop)`, with the deadline clamped instead of overflowing.
  auto sleep_for(duration d, std::stop_token stop) -> bool;
};

/// The real clock: `std::chrono::steady_clock`, whose sleeps wake at once on stop.
///
/// Thread-safe; one process-wide instance. A sleep allocates nothing.
[[nodiscard]] auto steady_clock() noexcept -> clock&;

/// Virtual time for tests: time moves only when told, or when someone sleeps.
///
/// Thread-safe and deterministic: `sleep_until` never blocks; it moves virtual time forward to
/// the deadline (if later) and returns at once, so code that waits an hour runs in microseconds.
/// Every sleep is recorded, so tests can assert a schedule (memory grows with their number).
///
///     pipeline::manual_clock clk;
///     clk.sleep_for(std::chrono::seconds{5}, stop);  // returns at once
///     assert(clk.now() == pipeline::clock::time_point{} + std::chrono::seconds{5});
///     assert(clk.sleeps().front() == std::chrono::seconds{5});
class manual_clock final : public clock {
 public:
  /// Starts at `start` (the steady_clock epoch unless told).
  explicit manual_clock(time_point start = time_point{}) noexcept;

  [[nodiscard]] auto now() const noexcept -> time_point override;

  /// Moves time to `deadline` if it is later and returns true; records how far time moved.
  /// Returns false, recording nothing and moving nothing, when a stop is already requested.
  auto sleep_until(time_point deadline, std::stop_token stop) -> bool override;

  /// Moves time forward by `d`; throws std::invalid_argument if `d` is negative.
  void advance(duration d);

  /// How far each sleep moved time (zero for a deadline already past), in the order they ran.
  [[nodiscard]] auto sleeps() const -> std::vector<duration>;

 private:
  mutable std::mutex mutex_;        // serialises the writers of now_ and sleeps_
  std::atomic<time_point> now_;     // atomic so that now() is lock-free and truly noexcept
  std::vector<duration> sleeps_;
};

}  // namespace pipeline
