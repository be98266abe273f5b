// The engine of `pipeline::run`: workers refill a bounded queue of batches from the source in
// turn and take batches through batch_isolation, the checkpoint_keeper follows what is done,
// the job_recorder and the progress callback observe, and the worker_pool follows the
// autoscaler. Each concern is its own part beside this file; this one only wires them and
// owns the threads.
//
// No thread only reads: the worker that finds the queue at most half full takes the reader's
// role (one at a time) and refills it, as oneTBB runs a serial input filter on a worker. A
// reader thread of its own would take a core from the workers at every refill, a few thousand
// context switches a second on a CPU-bound run (docs/benchmarks.md, "runner"); a slow source
// is read as before, by one worker while the others drain the queue. A run of one worker (or
// one the autoscaler may bring down to one) still reads on a thread of its own: a source that
// waits for the workers' progress (a queue consumer waits for its entries to be acknowledged
// before it reports the queue drained) would otherwise wait for its only worker, itself.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include <pipeline/autoscaler.hpp>
#include <pipeline/detail/run_stages.hpp>
#include <pipeline/mpmc_queue.hpp>
#include <pipeline/progress.hpp>
#include <pipeline/runner.hpp>

#include "batch_isolation.hpp"
#include "batch_ledger.hpp"
#include "checkpoint_keeper.hpp"
#include "job_recorder.hpp"
#include "run_context.hpp"
#include "run_lease.hpp"
#include "worker_pool.hpp"

namespace pipeline::detail {
namespace {

// A thread that calls `action` every `interval` of real time until `stop`.
template <class Action>
auto every(std::chrono::milliseconds interval, std::stop_token stop, Action action) -> std::jthread {
  return std::jthread{[interval, stop = std::move(stop), action = std::move(action)] {
    while (steady_clock().sleep_for(interval, stop)) action();
  }};
}

class engine {
 public:
  engine(run_stages& stages, const runner_options& options, std::stop_token stop)
      : run_(options, std::move(stop)),
        stages_(stages),
        lease_(run_, stages),
        ledger_(run_, stages),
        checkpoints_(run_, stages, ledger_, lease_, [this] { job_.checkpointed(); }),
        isolation_(run_, stages, ledger_),
        job_(run_),
        queue_(options.queue_capacity),
        queue_capacity_(options.queue_capacity),
        workers_read_((options.autoscale ? options.autoscale->min_workers : options.workers) >= 2),
        workers_(run_, [this] { return work(); }),
        progress_(std::chrono::steady_clock::now(),
                  progress_meter_options{options.expected_records, 0, std::chrono::seconds{10}}) {
    if (options.autoscale) scaler_.emplace(*options.autoscale);
  }

  auto run() -> run_report {
    const auto& options = run_.options();
    const auto started = run_.time().now();
    if (lease_.claim() && job_.begin() && checkpoints_.resume() && ledger_.resume(checkpoints_.saved())) {
      progress_ = progress_meter{std::chrono::steady_clock::now(),
                                 {options.expected_records, checkpoints_.done_before(), std::chrono::seconds{10}}};
      {
        std::jthread reader;
        if (!workers_read_) reader = std::jthread{[this] { read_all(); }};
        const auto first = options.autoscale
                               ? std::clamp(options.workers, options.autoscale->min_workers, options.autoscale->max_workers)
                               : options.workers;
        for (std::size_t i = 0; i < first; ++i) workers_.add();
        std::stop_source scaling_done;
        std::stop_source monitors_done;
        {
          std::vector<std::jthread> monitors;
          if (scaler_) {
            monitors.push_back(every(options.autoscale->interval, scaling_done.get_token(),
                                     [this] { workers_.rescale(*scaler_, queue_.size()); }));
          }
          monitors.push_back(every(options.heartbeat_interval, monitors_done.get_token(), [this] {
            lease_.renew();
            job_.beat();
          }));
          if (options.on_progress) {
            monitors.push_back(
                every(options.progress_interval, monitors_done.get_token(), [this] { report_progress(); }));
          }
          wait_until_read();
          scaling_done.request_stop();  // no worker is added or retired from here on
          if (scaler_) monitors.front().join();
          workers_.join();
          monitors_done.request_stop();
        }  // joins the monitors
      }
      checkpoints_.save(std::stop_token{});  // even when stopped: keep what is done
      if (!run_.failure() && exhausted_.load() && checkpoints_.in_flight() == 0) ledger_.forget_all(std::stop_token{});
    }
    auto report = make_report(run_.time().now() - started);
    if (options.on_progress) report_progress();
    job_.end(report);
    lease_.release();
    run_.log().info("{}: {} - read {}, written {}, dead-lettered {}, retried {}", run_.name(), to_string(report.status),
                    report.read, report.written, report.dead_lettered, report.retried);
    return report;
  }

 private:
  // Reads batches into the queue until it is full, when it is at most half full and no other
  // worker is reading: refilling in runs costs one turn at the source per half queue, not per
  // batch. Only the worker reading pushes, so a push never waits for room.
  void refill(const std::stop_token& stop) {
    if (!workers_read_ || read_over_.load() || queue_.size() > queue_capacity_ / 2) return;
    std::unique_lock reading{reading_, std::try_to_lock};
    if (!reading) return;  // another worker is reading, and pushes or closes the queue
    while (!read_over_.load() && queue_.size() < queue_capacity_) {
      if (!read_one(stop)) end_reading();
    }
  }

  // Reads one batch and queues it (the reader thread waits for room; a worker reads only while
  // there is room); false when the reading is over (source exhausted, failed,
  // or stopped; or a batch an earlier run committed ends it in exactly-once mode).
  auto read_one(const std::stop_token& stop) -> bool {
    // A failed next_batch leaves the source where it was, so it may be called again.
    auto next = run_.with_retry([&] { return stages_.next_batch(stop); }, stop);
    if (!next) {
      run_.fail_unless_stopped(next.error());
      return false;
    }
    if (!*next) {
      exhausted_ = true;
      return false;
    }
    auto& b = **next;
    b.sequence = next_sequence_++;
    b.partition = run_.options().partition;
    for (auto& letter : b.rejected) {
      letter.partition = b.partition;
      letter.job = run_.options().name;
    }
    const auto records = b.size + b.rejected.size();
    run_.counters.read->inc(records);
    if (!ledger_.screen(b)) return false;  // exactly-once: drops what earlier runs committed
    checkpoints_.issue(b.sequence, b.end, records);
    return queue_.push(std::move(b), stop) == push_status::pushed;
  }

  void end_reading() {
    {
      std::scoped_lock lock{read_over_mutex_};
      read_over_ = true;
    }
    queue_.close();  // workers end once it is drained
    read_over_changed_.notify_all();
  }

  // The reader thread of a run whose workers do not read.
  void read_all() {
    const auto stop = run_.halt_token();
    while (read_one(stop)) {
    }
    end_reading();
  }

  // Until the source is read to its end or the run halts (a stop or a failure).
  void wait_until_read() {
    std::unique_lock lock{read_over_mutex_};
    read_over_changed_.wait(lock, run_.halt_token(), [&] { return read_over_.load(); });
  }

  // A worker's loop; true when it ends because it was retired.
  auto work() -> bool {
    const auto stop = run_.halt_token();
    for (;;) {
      refill(stop);
      // When autoscaling, an idle worker wakes now and then to see whether it is retired.
      auto b = scaler_ ? queue_.pop_for(std::chrono::milliseconds{100}, stop) : queue_.pop(stop);
      if (!b && b.status() == pop_status::empty) {
        if (workers_.retire()) return true;
        continue;
      }
      if (!b) return false;
      if (!lease_.confirm()) return false;  // the job was taken over: write nothing more
      if (isolation_.process(*b, stop) == batch_outcome::abandoned) return false;
      checkpoints_.finish(b->sequence, stop);
      if (workers_.retire()) return true;
    }
  }

  void report_progress() {
    const auto done =
        checkpoints_.done_before() + run_.counters.written->value() + run_.counters.dead_lettered->value();
    std::scoped_lock lock{progress_mutex_};
    run_.options().on_progress(progress_.sample(done, std::chrono::steady_clock::now()));
  }

  auto make_report(std::chrono::nanoseconds duration) -> run_report {
    run_report report;
    report.read = run_.counters.read->value();
    report.written = run_.counters.written->value();
    report.dead_lettered = run_.counters.dead_lettered->value();
    report.retried = run_.counters.retried->value();
    report.duration = duration;
    report.checkpoint = checkpoints_.saved();
    report.done_before = checkpoints_.done_before();
    report.skipped = ledger_.skipped();
    report.failure = run_.failure();
    report.status = report.failure                                          ? run_status::failed
                    : exhausted_.load() && checkpoints_.in_flight() == 0 ? run_status::completed
                                                                            : run_status::stopped;
    return report;
  }

  run_context run_;
  run_stages& stages_;
  run_lease lease_;
  batch_ledger ledger_;
  checkpoint_keeper checkpoints_;
  batch_isolation isolation_;
  job_recorder job_;
  std::optional<autoscaler> scaler_;
  std::atomic<bool> exhausted_{false};
  mpmc_queue<batch_in_flight> queue_;
  std::size_t queue_capacity_;
  std::mutex reading_;                 // held by the worker reading the source
  std::uint64_t next_sequence_ = 0;    // under reading_, or the reader thread's alone
  std::atomic<bool> read_over_{false};  // set once, under read_over_mutex_
  std::mutex read_over_mutex_;
  std::condition_variable_any read_over_changed_;
  bool workers_read_;                  // else the reader thread does
  worker_pool workers_;  // after the queue: joined before it goes
  std::mutex progress_mutex_;
  progress_meter progress_;
};

}  // namespace

auto run_engine(run_stages& stages, const runner_options& options, std::stop_token stop) -> run_report {
  engine e{stages, options, std::move(stop)};
  return e.run();
}

}  // namespace pipeline::detail
