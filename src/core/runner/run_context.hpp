#pragma once

// What every part of a run shares: the options, the clock, the stop that halts the run (the
// user's stop or a failure), the first failure, the counters, and retry with the run's policy.
// Thread-safe: any worker may fail the run, count or retry at once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

#include <fmt/format.h>

#include <pipeline/clock.hpp>
#include <pipeline/error.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/retry.hpp>
#include <pipeline/runner.hpp>

namespace pipeline::detail {

// The run's counters: registered in the user's metrics registry when there is one, local
// otherwise, so the rest of the run counts the same way either way.
class run_counters {
 public:
  explicit run_counters(const runner_options& options);

  counter* read = &local_read_;
  counter* written = &local_written_;
  counter* dead_lettered = &local_dead_;
  counter* retried = &local_retried_;
  gauge* workers = &local_workers_;

 private:
  counter local_read_, local_written_, local_dead_, local_retried_;
  gauge local_workers_;
};

class run_context {
 public:
  run_context(const runner_options& options, std::stop_token user_stop);
  run_context(const run_context&) = delete;
  auto operator=(const run_context&) -> run_context& = delete;

  [[nodiscard]] auto options() const noexcept -> const runner_options& { return options_; }
  [[nodiscard]] auto time() noexcept -> clock& { return clock_; }
  [[nodiscard]] auto log() const noexcept -> const logger& { return options_.log; }
  [[nodiscard]] auto name() const noexcept -> const std::string& { return options_.name; }
  [[nodiscard]] auto halt_token() const noexcept -> std::stop_token { return halt_.get_token(); }

  // The first failure wins; every later one is only logged. Halts the run.
  void fail(error e);
  // Fails the run unless `e` is a stop (which is not a failure). Returns false, so that a
  // caller can `return fail_unless_stopped(e);` from a function that says whether to go on.
  auto fail_unless_stopped(const error& e) -> bool;
  [[nodiscard]] auto failure() const -> std::optional<error>;

  // `pipeline::retry` with the run's policy, clock and retry counter. `attempt` may take its
  // 1-based number.
  template <class F>
  auto with_retry(F&& attempt, const std::stop_token& stop) {
    return retry(std::forward<F>(attempt), options_.retry, stop, clock_,
                 [this](const error& e, std::uint32_t n, std::chrono::nanoseconds wait) { note_retry(e, n, wait); });
  }

  run_counters counters;

 private:
  void note_retry(const error& e, std::uint32_t attempt, std::chrono::nanoseconds wait);

  const runner_options& options_;
  clock& clock_;
  std::stop_source halt_;
  std::stop_callback<std::function<void()>> forward_stop_;
  mutable std::mutex failure_mutex_;
  std::optional<error> failure_;
};

}  // namespace pipeline::detail
