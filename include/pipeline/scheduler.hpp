#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include <pipeline/any_checkpoint_store.hpp>
#include <pipeline/any_job_log_store.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/log.hpp>
#include <pipeline/schedule.hpp>

namespace pipeline {

/// What to do with due times that passed while no scheduler ran them: a due time is missed
/// when it passed before this scheduler started (every process was down), when a later due
/// time has passed too, or when it is reached more than `scheduler_options::missed_after` late
/// (a crashed holder's lease had not yet run out).
enum class missed_policy : std::uint8_t {
  skip,      ///< run none of them; wait for the next due time
  run_once,  ///< run once now, as the newest of them (a first start runs at once)
  run_each,  ///< run each of them, oldest first, one after another
};

/// What to do with due times that pass while a run is still going (anywhere).
enum class overlap_policy : std::uint8_t {
  skip,   ///< they are not run; the next due time after the run ends is
  queue,  ///< the newest of them runs as soon as the run ends (older ones are skipped)
};

/// How a scheduler runs its job. A plain struct: every field has a working default.
struct scheduler_options {
  /// The job's name: the lease is kept in the checkpoint store under `<job>#schedule`, and runs
  /// are recorded in the job log under this name.
  std::string job{"pipeline"};
  /// Who holds the schedule (owner "host:pid") and for how long after each heartbeat.
  lease_options lease{};
  std::chrono::milliseconds heartbeat_interval{10'000};  ///< must be shorter than the lease
  missed_policy when_missed{missed_policy::run_once};
  std::chrono::milliseconds missed_after{60'000};  ///< a due time reached later than this is missed
  overlap_policy on_overlap{overlap_policy::skip};
  /// Each run waits a random delay from 0 to this after its due time (spreads replicas' load).
  std::chrono::milliseconds jitter{0};
  /// How often a scheduler that waits on another's run, or on a store that failed, looks again.
  std::chrono::milliseconds poll_interval{1000};
  any_job_log_store* job_log{nullptr};  ///< when set, every run is recorded there, with the next due time
  /// nullptr: real time (due times by the system clock). Set (a manual_clock in tests): wall
  /// time is `time_origin` plus the clock's time since its epoch, and every wait is the clock's.
  /// Heartbeats are always in real time, as the runner's are.
  clock* time{nullptr};
  std::chrono::system_clock::time_point time_origin{};
  logger log{};
};

/// The due time a run is for, handed to the job.
struct scheduled_run {
  schedule::time_point due;
  std::uint64_t skipped_before{0};  ///< due times skipped just before this one (missed or overlapping)
  std::uint64_t job_run_id{0};      ///< the run's id in the job log, when there is one
};

/// What a scheduler did until it was stopped.
struct scheduler_report {
  std::uint64_t runs{0};     ///< due times this scheduler ran
  std::uint64_t failed{0};   ///< of them, those whose job failed (threw, or returned failed)
  std::uint64_t skipped{0};  ///< due times this scheduler marked as not run (missed or overlapping)
};

/// Runs a job at a schedule's due times, at most one run at a time across every thread,
/// process and host that shares the checkpoint store, and each due time at most once.
///
/// Before a run, the scheduler compare-and-sets a record under `<job>#schedule` in the
/// checkpoint store: the due time being run, its owner ("host:pid") and a lease, renewed every
/// heartbeat while the job runs. A scheduler that finds the record held waits; one whose holder
/// crashed (its lease ran out, or its process on this host is gone) goes on with the next due
/// time. The due time a killed holder was running is not run again: a due time is marked as
/// run when its run starts (docs/schedule.md). The job is called with the scheduled run and a
/// stop token, stopped when `run`'s token is or when the lease was lost (taken over after the
/// process was not heard from for longer than the lease); it returns void, a `run_state`
/// (completed, failed or stopped), or anything with a `status` named like those (a
/// `run_report`). An exception from the job fails that run; the schedule goes on.
///
/// Thread-safety: `run` blocks the calling thread until `stop`; one scheduler runs one `run`
/// at a time. The scheduler does not own the store, job log or clock; they must outlive it.
/// Store errors are logged and retried after `poll_interval`; they never end `run`.
///
///     pipeline::scheduler flusher{pipeline::schedule::parse("every 30s"), store, {.job = "flush"}};
///     flusher.run([&](const pipeline::scheduled_run&, std::stop_token stop) { flush(stop); }, stop);
class scheduler {
 public:
  using job_function = std::function<run_state(const scheduled_run&, std::stop_token)>;

  /// Throws std::invalid_argument naming the field when `options` cannot work.
  scheduler(schedule when, any_checkpoint_store& store, scheduler_options options = {});

  template <class F>
    requires std::invocable<F&, const scheduled_run&, std::stop_token>
  auto run(F&& job, std::stop_token stop) -> scheduler_report {
    return run_job(
        [&job](const scheduled_run& due, std::stop_token token) -> run_state {
          using result_type = std::invoke_result_t<F&, const scheduled_run&, std::stop_token>;
          if constexpr (std::is_void_v<result_type>) {
            std::invoke(job, due, std::move(token));
            return run_state::completed;
          } else if constexpr (std::same_as<result_type, run_state>) {
            return std::invoke(job, due, std::move(token));
          } else {
            const auto status = std::invoke(job, due, std::move(token)).status;
            auto state = parse_run_state(to_string(status));
            return state ? *state : run_state::failed;
          }
        },
        std::move(stop));
  }

  /// The first due time strictly after `t`.
  [[nodiscard]] auto next_after(schedule::time_point t) const -> schedule::time_point { return when_.next_after(t); }

 private:
  auto run_job(job_function job, std::stop_token stop) -> scheduler_report;

  schedule when_;
  any_checkpoint_store& store_;
  scheduler_options options_;
};

}  // namespace pipeline
