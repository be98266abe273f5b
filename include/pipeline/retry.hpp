#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <stop_token>
#include <utility>

#include <pipeline/backoff.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/detail/chrono.hpp>
#include <pipeline/error.hpp>
#include <pipeline/result.hpp>

namespace pipeline {
namespace detail {

template <class R>
inline constexpr bool is_result = false;
template <class T>
inline constexpr bool is_result<result<T>> = true;

// An attempt may take its 1-based number, or nothing.
template <class F>
concept numbered_attempt = std::invocable<F&, std::uint32_t>;
template <class F>
concept retry_attempt = numbered_attempt<F> || std::invocable<F&>;

template <retry_attempt F>
auto call_attempt(F& attempt, std::uint32_t number) {
  if constexpr (numbered_attempt<F>) {
    return std::invoke(attempt, number);
  } else {
    return std::invoke(attempt);
  }
}

template <class F>
using attempt_result_t = decltype(call_attempt(std::declval<F&>(), std::uint32_t{1}));

struct ignore_retry {
  void operator()(const error&, std::uint32_t, std::chrono::nanoseconds) const noexcept {}
};

}  // namespace detail

/// Calls `attempt` until it succeeds, fails for good, runs out of attempts or time, or is stopped.
///
/// Blocking: the waits sleep on `clk` and end at once on `stop`. Keeps no state beyond the call;
/// allocates nothing itself. Throws std::invalid_argument, before the first attempt, when
/// `options` are invalid (see `validate`). Exceptions thrown by `attempt` or `on_retry`
/// propagate unchanged: the runner catches user exceptions and dead-letters them.
///
/// `attempt` is called as `attempt(n)` with n = 1, 2, … when it takes a `std::uint32_t`, else as
/// `attempt()`, and returns some `result<T>`, which is what `retry` returns:
/// - success is returned at once;
/// - only `error_kind::transient` is retried; any other error, `stopped` included, is returned
///   at once;
/// - a stop requested before an attempt or during a wait returns `stopped_error()`;
/// - after `max_attempts` attempts, or when the next wait would end more than `max_elapsed`
///   after the first attempt began (measured on `clk`), the last error is returned; such a wait
///   is not started;
/// - the wait before attempt n+1 is `backoff::delay_before(n + 1)`; `on_retry(error, n, wait)`
///   is called, on the calling thread, just before it (count retries, log).
///
/// How many attempts were made (the DLQ records it): the last n passed to `attempt`; none when
/// stopped before the first.
///
///     std::uint32_t attempts = 0;
///     auto written = pipeline::retry([&](std::uint32_t n) { attempts = n; return sink.write(rows); },
///                                    options, stop);
///     if (!written && written.error().kind != pipeline::error_kind::stopped)
///       dlq.put(rows, written.error(), attempts);
template <class F, class OnRetry = detail::ignore_retry>
  requires detail::retry_attempt<F> && detail::is_result<detail::attempt_result_t<F>> &&
           std::invocable<OnRetry&, const error&, std::uint32_t, std::chrono::nanoseconds>
auto retry(F&& attempt, const backoff_options& options, std::stop_token stop, clock& clk = steady_clock(),
           OnRetry&& on_retry = {}) -> detail::attempt_result_t<F> {
  backoff waits{options};  // validates the options before anything runs
  const auto last = options.max_attempts == 0 ? std::numeric_limits<std::uint32_t>::max() : options.max_attempts;
  const auto budget = detail::saturating_ns(options.max_elapsed);
  const auto start = clk.now();
  for (std::uint32_t number = 1;; ++number) {
    if (stop.stop_requested()) return stopped_error();
    auto outcome = detail::call_attempt(attempt, number);
    if (outcome || !outcome.error().retryable() || number >= last) return outcome;
    const auto wait = waits.delay_before(number + 1);
    // Written as a subtraction: elapsed and budget are both >= 0, so nothing can overflow.
    if (budget > budget.zero() && wait > budget - (clk.now() - start)) return outcome;
    std::invoke(on_retry, outcome.error(), number, wait);
    if (!clk.sleep_for(wait, stop)) return stopped_error();
  }
}

}  // namespace pipeline
