#include <pipeline/rate_limiter.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/chrono.hpp>

namespace pipeline {
namespace {

// Time is counted in units of 1/rate ns, where one token costs exactly `period` units: exact
// for any rate, so nothing drifts. Elapsed ns (< 2^63) * rate (< 2^64) and burst * period need
// 128 bits; GCC and clang have them on every 64-bit target.
__extension__ using u128 = unsigned __int128;

constexpr auto max_ns = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

auto ceil_div(u128 a, u128 b) -> u128 { return a / b + (a % b == 0 ? 0 : 1); }

}  // namespace

rate_limiter::rate_limiter(std::uint64_t tokens_per_period, std::chrono::nanoseconds period, std::uint64_t burst,
                           clock& clk)
    : clock_(clk),
      rate_(tokens_per_period),
      period_ns_(static_cast<std::uint64_t>(period.count())),
      burst_(burst),
      origin_(clk.now()) {
  if (tokens_per_period == 0) throw std::invalid_argument("rate_limiter: tokens_per_period must be positive");
  if (period <= period.zero()) {
    throw std::invalid_argument(fmt::format("rate_limiter: period must be positive (got {}ns)", period.count()));
  }
  if (burst == 0) throw std::invalid_argument("rate_limiter: burst must be positive");
  // Keeps full_at_ns_ (at most now + this) within 64 bits.
  if (ceil_div(u128{burst} * period_ns_, rate_) > max_ns) {
    throw std::invalid_argument(
        "rate_limiter: burst * period / tokens_per_period (the time to refill the bucket) must be under 292 years");
  }
}

auto rate_limiter::try_acquire(std::uint64_t n) -> bool { return take(n).taken; }

auto rate_limiter::acquire(std::uint64_t n, std::stop_token stop) -> bool {
  while (!stop.stop_requested()) {
    const auto outcome = take(n);
    if (outcome.taken) return true;
    if (!clock_.sleep_until(outcome.ready_at, stop)) return false;
  }
  return false;
}

auto rate_limiter::take(std::uint64_t n) -> grant {
  if (n > burst_) {
    throw std::invalid_argument(
        fmt::format("rate_limiter: n ({}) exceeds burst ({}); it could never be granted", n, burst_));
  }
  const std::scoped_lock lock(mutex_);
  const auto since = std::max((clock_.now() - origin_).count(), std::int64_t{0});
  const u128 now = u128{static_cast<std::uint64_t>(since)} * rate_;
  const u128 full_at = u128{full_at_ns_} * rate_ + full_at_frac_;
  // The tokens missing from a full bucket are (full_at - now) / period: n can be taken while
  // that backlog, plus n tokens, stays within burst.
  const u128 backlog = full_at > now ? full_at - now : 0;
  const u128 room = u128{burst_ - n} * period_ns_;
  if (backlog <= room) {
    const u128 next = std::max(full_at, now) + u128{n} * period_ns_;
    full_at_ns_ = static_cast<std::uint64_t>(next / rate_);
    full_at_frac_ = static_cast<std::uint64_t>(next % rate_);
    return {true, {}};
  }
  // The first whole ns at which the backlog has shrunk to `room`.
  const auto ready_ns = std::min(ceil_div(full_at - room, rate_), u128{max_ns});
  return {false, detail::saturating_add(origin_, std::chrono::nanoseconds{static_cast<std::int64_t>(ready_ns)})};
}

}  // namespace pipeline
