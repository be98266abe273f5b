#pragma once

// Keeping worker processes running on this host, as many as a queue's depth calls for: what a
// team does with Docker Compose replicas and a poller (the seed's ETL: one worker per 100
// pending jobs, at most 200, every 30 s), in the library.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/autoscaler.hpp>
#include <pipeline/backoff.hpp>
#include <pipeline/log.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// One evaluation of the supervisor: the depth it read and what it did about it.
struct supervisor_evaluation {
  std::chrono::system_clock::time_point at;
  std::uint64_t depth = 0;   ///< as the depth function answered (the previous one when it failed)
  bool depth_failed = false;  ///< the depth function failed this time: the count was left as it was
  std::size_t running = 0;   ///< worker processes alive before the evaluation acted
  std::size_t desired = 0;   ///< what the autoscaler asked for
};

/// What a worker that exits with status 0 while it is wanted means.
enum class worker_exit_zero : std::uint8_t {
  restart,   ///< nothing: it is started again at once (workers that should run until stopped)
  finished,  ///< the work is done (a queue closed and drained): no worker is started any more,
             ///< and `run` returns once the others have ended too
};

/// How a supervisor runs its workers. A plain struct; `command` and `depth` have no default.
struct supervisor_options {
  /// The worker's command line: argv[0] is a path, or a name looked up in PATH when the
  /// supervisor is made. Each worker also gets `PIPELINE_WORKER_SLOT=<n>` (0 … max_workers-1,
  /// reused after a worker ends) in its environment, e.g. for a stream consumer's name.
  std::vector<std::string> command;
  /// The queue's depth (for a Redis stream: pending + lag, `redis::stream_consumer::status`).
  /// Called from the supervisor's thread every `scale.interval`. An error is logged and the
  /// count left as it is; a depth read later decides again.
  std::function<result<std::uint64_t>()> depth;
  /// When to add and remove workers: depth per worker against the thresholds, with
  /// hysteresis, between `min_workers` and `max_workers`, every `interval`. The seed's rule
  /// (one worker per 100 pending, 10 to 200, every 30 s) is
  /// `{.min_workers = 10, .max_workers = 200, .scale_up_above = 100, .scale_down_below = 1,
  ///   .up_after = 1, .down_after = 1, .interval = 30s}`. `on_desired` is called too.
  autoscale_options scale{};
  /// A worker asked to stop (SIGTERM: finish or hand back what it holds, then exit) is killed
  /// (SIGKILL) when it has not exited after this long.
  std::chrono::milliseconds stop_grace{30'000};
  /// The waits before a crashed worker's slot is started again (`max_attempts` and
  /// `max_elapsed` are not used: a worker is restarted as long as it is wanted). The count of
  /// crashes in a row resets when a worker has run for `stable_after`.
  backoff_options restart_backoff{.initial = std::chrono::milliseconds{500},
                                  .multiplier = 2.0,
                                  .max_delay = std::chrono::milliseconds{30'000},
                                  .jitter_mode = jitter::equal,
                                  .max_attempts = 0,
                                  .max_elapsed = std::chrono::milliseconds{0}};
  std::chrono::milliseconds stable_after{10'000};
  worker_exit_zero on_exit_zero{worker_exit_zero::restart};
  /// How often exits are looked for between evaluations (a crash is noticed within this).
  std::chrono::milliseconds reap_interval{100};
  /// Told each evaluation, after it acted: the record of how the supervisor scaled.
  std::function<void(const supervisor_evaluation&)> on_evaluation{};
  /// Where its gauges and counters are registered (`pipeline_supervisor_*`, label
  /// `supervisor=<name>`), if anywhere; must outlive the supervisor.
  metrics_registry* metrics{nullptr};
  std::string name{"workers"};  ///< names the supervisor in log lines and metrics
  logger log{};
};

/// What a supervisor did over its run.
struct supervisor_report {
  std::uint64_t started = 0;      ///< worker processes started
  std::uint64_t stopped = 0;      ///< asked to stop (SIGTERM) and exited within the grace
  std::uint64_t killed = 0;       ///< asked to stop and killed after the grace
  std::uint64_t crashed = 0;      ///< ended by a signal or a non-zero exit while wanted
  std::uint64_t exited = 0;       ///< ended with status 0 while wanted
  bool finished = false;          ///< a worker exited with 0 under `worker_exit_zero::finished`
  std::uint64_t evaluations = 0;  ///< depth reads, failed ones included
  std::size_t peak_workers = 0;   ///< the most alive at once
};

/// Keeps between `scale.min_workers` and `scale.max_workers` copies of `command` running, as
/// the queue's depth calls for: starts them, stops the newest gracefully when fewer are
/// needed, restarts crashed ones with backoff, and reaps every child.
///
/// Children are started with every signal unblocked and at its default (whatever the
/// supervising program blocked, e.g. for its own SIGTERM watcher), in their own process group
/// (a terminal's Ctrl-C reaches the supervisor, which stops them gracefully), and with
/// SIGTERM as their parent-death signal, so a supervisor killed outright does not leave
/// workers behind. Linux only.
///
/// Ownership and threads: `run` blocks the calling thread until `stop` is requested (then it
/// stops every worker: SIGTERM, SIGKILL after `stop_grace`) or, under
/// `worker_exit_zero::finished`, until the work is done and every worker has ended. It reaps
/// every child before returning: no child outlives `run`. One `run` at a time per supervisor. The depth function and the
/// callbacks are called on the thread that calls `run`.
///
///     pipeline::supervisor workers{{.command = {"./worker", "--stream", "jobs"},
///                                   .depth = [&] { return queue_depth(); },
///                                   .scale = {.min_workers = 1, .max_workers = 8}}};
///     auto report = workers.run(stop_token);
class supervisor {
 public:
  /// Throws std::invalid_argument naming the field when the options cannot work: an empty
  /// command, a command not found or not executable, no depth function, autoscale or backoff
  /// options that `validate` refuses, a zero reap interval.
  explicit supervisor(supervisor_options options);

  /// Supervises until `stop` is requested or the work is finished; then every worker has
  /// ended and been reaped.
  auto run(std::stop_token stop) -> supervisor_report;

  /// The path the command runs (argv[0] as found in PATH).
  [[nodiscard]] auto executable() const noexcept -> const std::string& { return executable_; }

 private:
  supervisor_options options_;
  std::string executable_;
};

}  // namespace pipeline
