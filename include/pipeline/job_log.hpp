#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>


#include <pipeline/job_run.hpp>

namespace pipeline {

namespace detail {
// The messages of begin_run, formatted in the library (fmt's chrono header is heavy).
[[nodiscard]] auto running_elsewhere(std::string_view job, const job_run& running) -> std::string;
[[nodiscard]] auto why_crashed(const job_run& dead, bool owner_gone, const lease_options& marker) -> std::string;
}  // namespace detail

/// False when `owner` ("hostname:pid") names a process on this host that no longer exists;
/// true otherwise (another host, or an owner in another format: only its lease can tell).
[[nodiscard]] auto owner_may_be_alive(std::string_view owner) -> bool;

/// Starts a run of `job` in `log`, after looking at its recent runs: one still `running` whose
/// lease ran out before `now`, or whose owner was a process on this host that is gone (a
/// `kill -9`, so the restart need not wait for the lease), is marked `crashed`; the new run
/// resumes from the checkpoint, nobody has to edit the log by hand. One still `running`
/// whose lease is live makes this a `conflict` error (another process is running the job).
/// A `pending` run of the job (queued by `enqueue_run`) is taken over: it becomes this run,
/// keeping its id and creation time. Otherwise a new run is created. Returns the run,
/// `running`, with a lease until `now + lease`.
///
/// Two processes starting the same job at the same instant can both pass this check; the
/// checkpoint's version fencing then stops the second at its first save.
///
///     auto run = pipeline::begin_run(log, "listings", {}, std::chrono::system_clock::now());
template <job_log_store J>
[[nodiscard]] auto begin_run(J& log, std::string_view job, const lease_options& lease,
                             std::chrono::system_clock::time_point now) -> result<job_run> {
  auto recent = log.runs(job, 16);
  if (!recent) return std::move(recent).error();
  std::optional<job_run> queued;
  for (auto& r : *recent) {
    if (r.state == run_state::pending && !queued) queued = r;
    if (r.state != run_state::running) continue;
    const bool owner_gone = !owner_may_be_alive(r.owner);
    if (r.lease_until > now && !owner_gone) {
      return conflict_error(detail::running_elsewhere(job, r));
    }
    r.state = run_state::crashed;
    r.message = detail::why_crashed(r, owner_gone, lease);
    r.updated = now;
    if (auto marked = log.update(r); !marked) return std::move(marked).error();
  }
  job_run run = queued ? std::move(*queued) : job_run{};
  run.job = std::string(job);
  run.state = run_state::running;
  run.owner = lease.owner;
  if (!queued) run.created = now;
  run.updated = now;
  run.lease_until = now + lease.lease;
  if (queued) {
    if (auto taken = log.update(run); !taken) return std::move(taken).error();
    return run;
  }
  auto id = log.create(run);
  if (!id) return std::move(id).error();
  run.id = *id;
  return run;
}

/// Records that `job` is due: a `pending` run (no owner, no lease) that the next `begin_run`
/// of the job takes over, so a job log shows queued work (e.g. the months of a report not
/// started yet) as pending → running → completed | failed. Returns the job's pending run if
/// it has one already (queuing twice queues once), else the new one.
///
///     for (const auto& month : plan) pipeline::enqueue_run(log, "reports/" + month.name, now);
template <job_log_store J>
[[nodiscard]] auto enqueue_run(J& log, std::string_view job, std::chrono::system_clock::time_point now)
    -> result<job_run> {
  auto recent = log.runs(job, 16);
  if (!recent) return std::move(recent).error();
  for (auto& r : *recent) {
    if (r.state == run_state::pending) return std::move(r);
  }
  job_run run;
  run.job = std::string(job);
  run.state = run_state::pending;
  run.created = now;
  run.updated = now;
  run.lease_until = now;
  auto id = log.create(run);
  if (!id) return std::move(id).error();
  run.id = *id;
  return run;
}

/// Renews `run`'s lease and records its counts (copy them into `run` first).
template <job_log_store J>
[[nodiscard]] auto heartbeat(J& log, job_run& run, const lease_options& lease, std::chrono::system_clock::time_point now)
    -> result<void> {
  run.updated = now;
  run.lease_until = now + lease.lease;
  return log.update(run);
}

/// Ends `run` in `state` (completed, failed or stopped) with `message`.
template <job_log_store J>
[[nodiscard]] auto finish_run(J& log, job_run& run, run_state state, std::string message,
                              std::chrono::system_clock::time_point now) -> result<void> {
  run.state = state;
  run.message = std::move(message);
  run.updated = now;
  run.lease_until = now;
  return log.update(run);
}

}  // namespace pipeline
