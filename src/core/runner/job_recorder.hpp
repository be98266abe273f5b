#pragma once

// The run's entry in the job log (design notes §3.6), when runner_options::job_log is set:
// begun with a lease before anything is read, renewed with the counts every heartbeat, and
// ended with the run's status.
// Thread-safe: the heartbeat thread and the run's own thread call it at once.

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
  void end(run_report& report);

 private:
  void copy_counts(job_run& entry) const;

  run_context& run_;
  std::mutex mutex_;
  std::optional<job_run> entry_;
};

}  // namespace pipeline::detail
