#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <stop_token>

#include <pipeline/clock.hpp>

namespace pipeline {

/// A token bucket: `tokens_per_period` tokens per `period`, at most `burst` at once.
///
/// Thread-safe: one limiter is shared by every worker calling the same service; no token is
/// granted twice and none is lost. `try_acquire` never blocks. `acquire` sleeps on the
/// limiter's clock (virtual time with a `manual_clock`) and returns false at once on stop.
/// Waiters are not served in order: each wakes when its tokens should be there and tries again.
/// Never allocates. The bucket starts full; refill is exact integer arithmetic (no drift).
/// Time that passes while the bucket is full is lost, as in any token bucket: with a burst of 1,
/// a waiter that wakes late (even by the sub-nanosecond rounding of its wake-up) starts the next
/// token's interval late; a burst of 2 or more absorbs that.
///
///     pipeline::rate_limiter email{100, std::chrono::minutes{1}, 10};  // 100/min, bursts of 10
///     if (!email.acquire(1, stop)) return pipeline::stopped_error();
///     send(message);
class rate_limiter {
 public:
  /// Throws std::invalid_argument, naming the argument, when `tokens_per_period`, `period` or
  /// `burst` is not positive, or when refilling `burst` tokens would take over 292 years.
  rate_limiter(std::uint64_t tokens_per_period, std::chrono::nanoseconds period, std::uint64_t burst,
               clock& clk = steady_clock());
  rate_limiter(const rate_limiter&) = delete;
  auto operator=(const rate_limiter&) -> rate_limiter& = delete;
  ~rate_limiter() = default;

  /// Takes `n` tokens if all are there now; otherwise takes none and returns false.
  /// Throws std::invalid_argument if `n` > burst (it could never be granted).
  [[nodiscard]] auto try_acquire(std::uint64_t n = 1) -> bool;

  /// Takes `n` tokens, waiting for them; false, with none taken, when stopped first (a stop
  /// already requested included). Throws std::invalid_argument if `n` > burst.
  [[nodiscard]] auto acquire(std::uint64_t n, std::stop_token stop) -> bool;

  /// The most tokens one call can take.
  [[nodiscard]] auto burst() const noexcept -> std::uint64_t { return burst_; }

 private:
  struct grant {
    bool taken;
    clock::time_point ready_at;  // when not taken: when the tokens should be there
  };
  auto take(std::uint64_t n) -> grant;

  clock& clock_;
  std::uint64_t rate_;       // tokens_per_period
  std::uint64_t period_ns_;  // also the cost of one token, counted in 1/rate_ ns
  std::uint64_t burst_;
  clock::time_point origin_;

  std::mutex mutex_;
  // GCRA "theoretical arrival time": when the bucket will be full again, as whole ns since
  // origin_ plus a fraction in units of 1/rate_ ns. At or before now: the bucket is full.
  std::uint64_t full_at_ns_ = 0;
  std::uint64_t full_at_frac_ = 0;
};

}  // namespace pipeline
