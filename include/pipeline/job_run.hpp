#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/result.hpp>

namespace pipeline {

/// Where a run is in its life. `crashed` is set by the next start when a run's lease ran out
/// while it was `running` (its process died without saying so).
enum class run_state : std::uint8_t { pending, running, completed, failed, stopped, crashed };

[[nodiscard]] auto to_string(run_state state) noexcept -> std::string_view;
/// The state named by `to_string`, or an `invalid_input` error.
[[nodiscard]] auto parse_run_state(std::string_view name) -> result<run_state>;

/// How a run holds its job: it renews a lease while alive; a lease that runs out marks it dead.
struct lease_options {
  std::chrono::seconds lease{30};     ///< how long a run counts as alive after a heartbeat
  std::string owner = default_owner();  ///< who runs it

  /// "hostname:pid" of this process.
  [[nodiscard]] static auto default_owner() -> std::string;
};

/// The record of one run of a job, as a job-log store keeps it. A value type.
struct job_run {
  std::string job;            ///< the pipeline (and partition) name, e.g. "listings/2024-05"
  std::uint64_t id = 0;       ///< given by the store at `create`, increasing
  run_state state = run_state::pending;
  std::string owner;          ///< who runs it, e.g. "host:pid"
  std::uint64_t read = 0;
  std::uint64_t written = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t retried = 0;
  std::chrono::system_clock::time_point created{};
  std::chrono::system_clock::time_point updated{};      ///< last heartbeat or change
  std::chrono::system_clock::time_point lease_until{};  ///< a `running` run's owner is alive until then
  std::string message;        ///< why it failed, stopped or was marked crashed

  friend auto operator==(const job_run&, const job_run&) -> bool = default;
};

/// Durable storage of job runs.
///
/// `create(run)` stores a new run and returns its id (ids increase); `update(run)` replaces
/// the stored run with the same id (`not_found` if there is none); `runs(job, limit)` returns
/// that job's newest runs first. Thread-safe. Times are kept at least to the millisecond.
template <class J>
concept job_log_store = requires(J& j, const job_run& run, std::string_view job, std::size_t limit) {
  { j.create(run) } -> std::same_as<result<std::uint64_t>>;
  { j.update(run) } -> std::same_as<result<void>>;
  { j.runs(job, limit) } -> std::same_as<result<std::vector<job_run>>>;
};

}  // namespace pipeline
