#pragma once

// The run's entry in the job log (design notes §3.6), when runner_options::job_log is set:
// begun with a lease before anything is read, renewed with the counts every heartbeat, and
// ended with the run's status.
// Thread-safe: the heartbeat thread and the run's own thread call it at once.

#include <chrono>
#include <mutex>
#include <optional>

#include <pipeline/job_run.hpp>
#include <pipeline/runner.hpp>

#include "run_context.hpp"

namespace pipeline::detail {

class job_recorder {
 public:
  explicit job_recorder(run_context& run) : run_(run) {}

  // False when the run must not start (the job runs elsewhere, or the log failed).
  auto begin() -> bool;
  void beat();
  // The checkpoint moved: records the counts now if the last write to the log is a second
  // old or more, so a run killed between heartbeats leaves counts near its checkpoint.
  void checkpointed();
  void end(run_report& report);

 private:
  void copy_counts(job_run& entry) const;
  void beat_locked();

  run_context& run_;
  std::mutex mutex_;
  std::optional<job_run> entry_;
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace pipeline::detail
