#pragma once

// Waiting out a server's outage (a restart, a failover, a server still starting): the defaults
// the server adapters' options share, and the waiting loop their clients share.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include <pipeline/backoff.hpp>
#include <pipeline/error.hpp>
#include <pipeline/log.hpp>

namespace pipeline::detail {

/// How long a client keeps trying while its server is away, by default: from the first failure
/// of an outage, whichever call saw it.
inline constexpr std::chrono::milliseconds default_outage_budget{std::chrono::minutes{5}};

/// The waits between tries during an outage, by default (`max_attempts` and `max_elapsed` are
/// not used: the outage budget ends the waiting).
inline constexpr backoff_options default_reconnect_backoff{.initial = std::chrono::milliseconds{100},
                                                           .multiplier = 2.0,
                                                           .max_delay = std::chrono::milliseconds{2000},
                                                           .jitter_mode = jitter::equal,
                                                           .max_attempts = 0,
                                                           .max_elapsed = std::chrono::milliseconds{0}};

/// One client's outage of one server: when it started (the first failed try of any call), so
/// that the budget is the outage's, not each call's, and its start and end are logged once
/// ("<server> unavailable (…); waiting up to …", "<server> is back after 3.2 s").
///
/// Thread-safe: calls of any thread report into one watch.
class outage_watch {
 public:
  /// `server` names the server in the log and in errors, e.g. "redis: 127.0.0.1:6379".
  explicit outage_watch(std::string server) : server_(std::move(server)) {}

  /// A try failed with an outage error: the time left in the budget, or nullopt when it is spent.
  [[nodiscard]] auto failed(const error& e, std::chrono::milliseconds budget, const logger& log)
      -> std::optional<std::chrono::steady_clock::duration>;
  /// A try got an answer (an error reply is an answer too): the outage, if any, is over.
  void answered(std::chrono::milliseconds budget, const logger& log);
  /// `e`, the last failure of an outage that outlasted `budget`, saying how long it lasted.
  [[nodiscard]] auto over_budget(error e, std::chrono::milliseconds budget) -> error;

 private:
  std::string server_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> since_;
  std::atomic<bool> down_{false};  // since_ is set: read without the lock on the common path
};

/// Waits `wait`, or until `stop` is requested (then false).
[[nodiscard]] auto pause_unless_stopped(std::chrono::steady_clock::duration wait, const std::stop_token& stop) -> bool;

/// Runs `attempt()` (one try, returning a result) until it succeeds, fails with an error that
/// `is_outage(error)` does not call an outage, `budget` is spent for `watch`'s outage, or
/// `stop` fires (`stopped`). Waits between tries as `reconnect` says. `budget` 0: the first
/// failure is the error.
template <class Attempt, class IsOutage>
auto wait_out(outage_watch& watch, std::chrono::milliseconds budget, const backoff_options& reconnect,
              const logger& log, const std::stop_token& stop, Attempt&& attempt, IsOutage&& is_outage)
    -> decltype(attempt()) {
  std::optional<backoff> delays;  // made at the first failure: nothing set up on the common path
  for (std::uint32_t tries = 1;; ++tries) {
    // Tried even when stop was requested: only the waiting is cut short.
    auto r = attempt();
    if (r || !is_outage(r.error())) {
      watch.answered(budget, log);
      return r;
    }
    if (stop.stop_requested()) return stopped_error();
    const auto left = watch.failed(r.error(), budget, log);
    if (!left) {
      if (budget.count() == 0) return r;
      return watch.over_budget(std::move(r).error(), budget);
    }
    if (!delays) delays.emplace(reconnect);
    if (!pause_unless_stopped(std::min<std::chrono::steady_clock::duration>(delays->delay_before(tries + 1), *left),
                              stop)) {
      return stopped_error();
    }
  }
}

}  // namespace pipeline::detail
