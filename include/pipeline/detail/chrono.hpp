#pragma once

#include <chrono>

namespace pipeline::detail {

/// `d` in nanoseconds, clamped to what nanoseconds can hold: `milliseconds::max()` (a user's
/// "no cap") must mean "forever", not overflow (undefined behaviour for a signed count).
[[nodiscard]] constexpr auto saturating_ns(std::chrono::milliseconds d) noexcept -> std::chrono::nanoseconds {
  using std::chrono::nanoseconds;
  constexpr auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(nanoseconds::max());
  if (d > limit) return nanoseconds::max();
  if (d < -limit) return nanoseconds::min();
  return d;
}

/// `t + d`, clamped to the time_point range, so that a deadline "forever from now" does not wrap
/// into the past.
[[nodiscard]] constexpr auto saturating_add(std::chrono::steady_clock::time_point t,
                                            std::chrono::nanoseconds d) noexcept
    -> std::chrono::steady_clock::time_point {
  using time_point = std::chrono::steady_clock::time_point;
  if (d > d.zero() && t > time_point::max() - d) return time_point::max();
  if (d < d.zero() && t < time_point::min() - d) return time_point::min();
  return t + d;
}

}  // namespace pipeline::detail
