#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/any_job_log_store.hpp>
#include <pipeline/autoscaler.hpp>
#include <pipeline/backoff.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/watermark.hpp>
#include <pipeline/job_log.hpp>
#include <pipeline/log.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/mpmc_queue.hpp>
#include <pipeline/payload.hpp>
#include <pipeline/progress.hpp>
#include <pipeline/retry.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/source.hpp>

namespace pipeline {

/// What to do with records whose transient failures outlast the retry policy.
enum class exhausted_policy : std::uint8_t {
  dead_letter,  ///< dead-letter them with their attempt count; the run goes on
  fail_run,     ///< fail the run (the checkpoint stays below them; a rerun tries again)
};

/// How a run ended. Stopped is not failed: the checkpoint is saved and a rerun resumes.
enum class run_status : std::uint8_t { completed, failed, stopped };

[[nodiscard]] auto to_string(run_status status) noexcept -> std::string_view;

/// How a run is carried out. A plain struct: every field has a working default.
struct runner_options {
  std::string name{"pipeline"};            ///< checkpoint key; metrics label
  std::size_t workers{4};                  ///< threads that transform and write (the first count when autoscaling)
  std::size_t queue_capacity{16};          ///< batches between the reader and the workers
  backoff_options retry{};                 ///< for transient errors of source, transform, sink, DLQ, store
  exhausted_policy when_retries_exhausted{exhausted_policy::dead_letter};
  std::uint64_t max_dead_letters{std::numeric_limits<std::uint64_t>::max()};  ///< more fails the run
  std::chrono::milliseconds checkpoint_interval{1000};  ///< at most one save per interval (0: every batch)
  clock* time{nullptr};                    ///< nullptr: the real steady clock
  logger log{};
  metrics_registry* metrics{nullptr};      ///< where the run's counters are registered, if anywhere
  std::optional<autoscale_options> autoscale{};  ///< when set, the worker count follows the queue depth
  any_job_log_store* job_log{nullptr};     ///< when set, the run is recorded there, with a lease
  lease_options lease{};                   ///< the lease a job-log run holds, renewed every heartbeat
  std::chrono::milliseconds heartbeat_interval{10'000};
  progress_callback on_progress{};         ///< called every progress_interval, and once at the end
  std::chrono::milliseconds progress_interval{1000};
  std::optional<std::uint64_t> expected_records{};  ///< for the progress ETA, when known
  std::uint32_t partition{0};              ///< stamped on every batch and dead letter (see run_partitions)
};

/// Throws std::invalid_argument naming the field when `options` cannot work.
void validate(const runner_options& options);

/// What a run did.
struct run_report {
  run_status status{run_status::completed};
  std::uint64_t read{0};           ///< records read (rejected ones included)
  std::uint64_t written{0};        ///< records the sink accepted
  std::uint64_t dead_lettered{0};  ///< records in the DLQ
  std::uint64_t retried{0};        ///< attempts that were repeated after a transient error
  std::chrono::nanoseconds duration{0};
  position checkpoint;             ///< the saved watermark: a rerun resumes after it
  std::optional<error> failure;    ///< why, when status is failed
  std::uint64_t job_run_id{0};     ///< the run's id in the job log, when there is one

  [[nodiscard]] auto rate_per_second() const noexcept -> double {
    const double seconds = std::chrono::duration<double>(duration).count();
    return seconds > 0 ? static_cast<double>(read) / seconds : 0.0;
  }
};

/// The transform that passes records through unchanged.
struct identity {};

namespace detail {

// A transform is called per record (`U(const T&)` or `result<U>(const T&)`) or per batch
// (`std::vector<U>(std::span<const T>)` or `result<std::vector<U>>(std::span<const T>)`).
template <class R>
struct unwrap_result {
  using type = R;
};
template <class R>
struct unwrap_result<result<R>> {
  using type = R;
};

template <class F, class T>
struct transform_traits;
template <class T>
struct transform_traits<identity, T> {
  using output = T;
  static constexpr bool per_record = false;
};
template <class F, class T>
  requires std::invocable<F&, const T&>
struct transform_traits<F, T> {
  using output = std::remove_cvref_t<typename unwrap_result<std::invoke_result_t<F&, const T&>>::type>;
  static constexpr bool per_record = true;
};
template <class F, class T>
  requires(!std::invocable<F&, const T&>) && std::invocable<F&, std::span<const T>>
struct transform_traits<F, T> {
  using output = typename std::remove_cvref_t<
      typename unwrap_result<std::invoke_result_t<F&, std::span<const T>>>::type>::value_type;
  static constexpr bool per_record = false;
};

// Calls user code; what it throws becomes an `internal` error carrying the message.
template <class F, class... Args>
auto call_user(F& f, Args&&... args) -> result<typename unwrap_result<std::invoke_result_t<F&, Args...>>::type> {
  try {
    return std::invoke(f, std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    return internal_error(std::string("transform threw: ") + e.what());
  } catch (...) {
    return internal_error("transform threw a non-standard exception");
  }
}

}  // namespace detail

/// A transform usable for source records of type `T`.
template <class F, class T>
concept transform_for = requires { typename detail::transform_traits<std::remove_cvref_t<F>, T>::output; };

template <class F, class T>
using transform_output_t = typename detail::transform_traits<std::remove_cvref_t<F>, T>::output;

namespace detail {

template <class Source, class Transform, class Sink, class Dlq, class Store>
class pipeline_run {
  using input = source_value_t<Source>;
  using output = transform_output_t<Transform, input>;
  using traits = transform_traits<std::remove_cvref_t<Transform>, input>;

  // What became of a slice of a batch.
  enum class outcome : std::uint8_t { done, abandoned };

 public:
  pipeline_run(Source& source, Transform& transform, Sink& sink, Dlq& dlq, Store& store, const runner_options& options,
            std::stop_token user_stop)
      : source_(source),
        transform_(transform),
        sink_(sink),
        dlq_(dlq),
        store_(store),
        options_(options),
        clock_(options.time != nullptr ? *options.time : steady_clock()),
        queue_(options.queue_capacity),
        forward_stop_(std::move(user_stop), [this] { halt_.request_stop(); }),
        progress_(std::chrono::steady_clock::now(), progress_meter_options{options.expected_records, 0, std::chrono::seconds{10}}) {
    if (options.autoscale) scaler_.emplace(*options.autoscale);
    if (options.metrics != nullptr) {
      const metric_labels labels{{"pipeline", options.name}};
      workers_gauge_ = &options.metrics->register_gauge("pipeline_workers", "Worker threads running", labels);
      read_ = &options.metrics->register_counter("pipeline_records_read_total", "Records read from the source", labels);
      written_ = &options.metrics->register_counter("pipeline_records_written_total", "Records the sink accepted", labels);
      dead_ = &options.metrics->register_counter("pipeline_records_dead_lettered_total", "Records sent to the DLQ", labels);
      retried_ = &options.metrics->register_counter("pipeline_retries_total", "Attempts repeated after a transient error", labels);
    }
  }

  auto run() -> run_report {
    const auto started = clock_.now();
    if (begin_job() && resume()) {
      {
        std::jthread producer{[this] { produce(); }};
        const auto first = options_.autoscale ? std::clamp(options_.workers, options_.autoscale->min_workers,
                                                            options_.autoscale->max_workers)
                                              : options_.workers;
        for (std::size_t i = 0; i < first; ++i) add_worker();
        std::stop_source scaling_done;
        {
          std::vector<std::jthread> monitors;
          if (options_.autoscale) {
            monitors.push_back(every(options_.autoscale->interval, scaling_done.get_token(), [this] { rescale(); }));
          }
          if (options_.job_log != nullptr) {
            monitors.push_back(every(options_.heartbeat_interval, monitors_done_.get_token(), [this] { beat(); }));
          }
          if (options_.on_progress) {
            monitors.push_back(every(options_.progress_interval, monitors_done_.get_token(), [this] { report_progress(); }));
          }
          producer.join();
          scaling_done.request_stop();  // no worker is added or retired from here on
          if (options_.autoscale) monitors.front().join();
          join_workers();
          monitors_done_.request_stop();
        }  // joins the monitors
      }
      save_checkpoint(std::stop_token{});  // even when stopped: keep what is done
    }
    auto report = make_report(clock_.now() - started);
    if (options_.on_progress) report_progress();
    end_job(report);
    options_.log.info("{}: {} - read {}, written {}, dead-lettered {}, retried {}", options_.name,
                      to_string(report.status), report.read, report.written, report.dead_lettered, report.retried);
    return report;
  }

 private:
  // Loads the checkpoint and moves the source after it.
  auto resume() -> bool {
    auto cp = with_retry([&] { return store_.load(options_.name); }, halt_.get_token());
    if (!cp) return fail_unless_stopped(cp.error());
    version_ = cp->version;
    saved_ = cp->pos;
    if (cp->version > 0) {
      options_.log.info("{}: resuming after checkpoint '{}' (version {})", options_.name, cp->pos.bytes(), cp->version);
      if (auto sought = source_.seek(cp->pos); !sought) return fail_unless_stopped(sought.error());
    }
    return true;
  }

  void produce() {
    const auto stop = halt_.get_token();
    for (std::uint64_t sequence = 0;;) {
      // A failed next_batch leaves the source where it was, so it may be called again.
      auto next = with_retry([&] { return source_.next_batch(stop); }, stop);
      if (!next) {
        fail_unless_stopped(next.error());
        break;
      }
      if (!*next) {
        exhausted_ = true;
        break;
      }
      auto& b = **next;
      b.sequence = sequence++;
      b.partition = options_.partition;
      read_->inc(b.records.size() + b.rejected.size());
      {
        std::scoped_lock lock{checkpoint_mutex_};
        watermark_.issue(b.sequence, b.end);
      }
      if (queue_.push(std::move(b), stop) != push_status::pushed) break;
    }
    queue_.close();
  }

  void work() {
    const auto stop = halt_.get_token();
    for (;;) {
      // When autoscaling, an idle worker wakes now and then to see whether it is retired.
      auto b = options_.autoscale ? queue_.pop_for(std::chrono::milliseconds{100}, stop) : queue_.pop(stop);
      if (!b && b.status() == pop_status::empty) {
        if (retire()) return;
        continue;
      }
      if (!b) break;
      if (process(*b, stop) == outcome::abandoned) break;
      finish(b->sequence, stop);
      if (retire()) return;
    }
    workers_gauge_->dec();
  }

  void add_worker() {
    std::scoped_lock lock{workers_mutex_};
    workers_gauge_->inc();
    ++worker_count_;
    workers_.emplace_back([this] { work(); });
  }

  // A worker that finds a retirement pending takes it and ends.
  auto retire() -> bool {
    auto pending = retirements_.load();
    while (pending > 0) {
      if (retirements_.compare_exchange_weak(pending, pending - 1)) {
        std::scoped_lock lock{workers_mutex_};
        --worker_count_;
        workers_gauge_->dec();
        return true;
      }
    }
    return false;
  }

  void rescale() {
    std::size_t running = 0;
    {
      std::scoped_lock lock{workers_mutex_};
      running = worker_count_ - std::min(worker_count_, static_cast<std::size_t>(retirements_.load()));
    }
    const auto desired = scaler_->evaluate(queue_.size(), running);
    if (desired > running) {
      options_.log.info("{}: scaling up from {} to {} workers (queue depth {})", options_.name, running, desired, queue_.size());
      for (auto i = running; i < desired; ++i) add_worker();
    } else if (desired < running) {
      options_.log.info("{}: scaling down from {} to {} workers", options_.name, running, desired);
      retirements_ += static_cast<std::uint32_t>(running - desired);
    }
  }

  void join_workers() {
    std::vector<std::jthread> done;
    {
      std::scoped_lock lock{workers_mutex_};
      done.swap(workers_);
    }
  }

  // A thread that calls `action` every `interval` of real time until `stop`.
  template <class Action>
  static auto every(std::chrono::milliseconds interval, std::stop_token stop, Action action) -> std::jthread {
    return std::jthread{[interval, stop = std::move(stop), action = std::move(action)] {
      while (steady_clock().sleep_for(interval, stop)) action();
    }};
  }

  auto begin_job() -> bool {
    if (options_.job_log == nullptr) return true;
    auto run = begin_run(*options_.job_log, options_.name, options_.lease, std::chrono::system_clock::now());
    if (!run) {
      fail(std::move(run).error());
      return false;
    }
    std::scoped_lock lock{job_mutex_};
    job_run_ = std::move(*run);
    return true;
  }

  void copy_counts(job_run& run) const {
    run.read = read_->value();
    run.written = written_->value();
    run.dead_lettered = dead_->value();
    run.retried = retried_->value();
  }

  // A heartbeat that fails is only logged: if the lease runs out, another process may take
  // the job over, and the checkpoint's version fencing then stops this one.
  void beat() {
    std::scoped_lock lock{job_mutex_};
    if (!job_run_) return;
    copy_counts(*job_run_);
    if (auto r = heartbeat(*options_.job_log, *job_run_, options_.lease, std::chrono::system_clock::now()); !r) {
      options_.log.warn("{}: heartbeat failed: {}", options_.name, fmt::format("{}", r.error()));
    }
  }

  void end_job(run_report& report) {
    std::scoped_lock lock{job_mutex_};
    if (!job_run_) return;
    report.job_run_id = job_run_->id;
    copy_counts(*job_run_);
    const auto state = report.status == run_status::completed ? run_state::completed
                       : report.status == run_status::failed  ? run_state::failed
                                                              : run_state::stopped;
    const auto message = report.failure ? fmt::format("{}", *report.failure) : std::string{};
    if (auto r = finish_run(*options_.job_log, *job_run_, state, message, std::chrono::system_clock::now()); !r) {
      options_.log.warn("{}: recording the end of the run failed: {}", options_.name, fmt::format("{}", r.error()));
    }
  }

  void report_progress() {
    std::scoped_lock lock{progress_mutex_};
    options_.on_progress(progress_.sample(written_->value() + dead_->value(), std::chrono::steady_clock::now()));
  }

  auto make_report(std::chrono::nanoseconds duration) -> run_report {
    run_report report;
    report.read = read_->value();
    report.written = written_->value();
    report.dead_lettered = dead_->value();
    report.retried = retried_->value();
    report.duration = duration;
    report.checkpoint = saved_;
    report.failure = failure();
    report.status = report.failure                                     ? run_status::failed
                    : exhausted_.load() && watermark_.in_flight() == 0 ? run_status::completed
                                                                       : run_status::stopped;
    return report;
  }

  // Every record of the batch ends in the sink or in the DLQ, or the batch is abandoned
  // (stopped, or the run failed) and stays below the checkpoint.
  auto process(batch<input>& b, const std::stop_token& stop) -> outcome {
    std::vector<dead_letter> letters = std::move(b.rejected);
    const auto letter = [&](std::string payload, error reason, std::uint32_t attempts) {
      letters.push_back({std::move(payload), std::move(reason), attempts, b.end, b.partition, std::chrono::system_clock::now()});
    };
    auto written = outcome::done;
    if constexpr (std::is_same_v<std::remove_cvref_t<Transform>, identity>) {
      written = write_isolating(std::span<const output>{b.records}, letter, stop);
    } else {
      std::vector<output> outputs;
      if (transform_isolating(std::span<const input>{b.records}, outputs, letter, stop) == outcome::abandoned) {
        return outcome::abandoned;
      }
      written = write_isolating(std::span<const output>{outputs}, letter, stop);
    }
    if (written == outcome::abandoned) return outcome::abandoned;
    return dead_letter_all(letters, stop);
  }

  // Per-record transforms isolate failures by themselves; a failing per-batch transform is
  // bisected until the records that make it fail are found.
  template <class Letter>
  auto transform_isolating(std::span<const input> records, std::vector<output>& outputs, Letter& letter,
                           const std::stop_token& stop) -> outcome {
    if constexpr (traits::per_record) {
      for (const auto& r : records) {
        auto out = with_counted_retry([&] { return call_user(transform_, r); }, stop);
        if (out.result) {
          outputs.push_back(std::move(*out.result));
        } else if (!failed_for_good(out.result.error(),
                                    [&](error e) { letter(to_payload(r), std::move(e), out.attempts); })) {
          return outcome::abandoned;
        }
      }
      return outcome::done;
    } else {
      auto out = with_counted_retry([&] { return call_user(transform_, records); }, stop);
      if (out.result) {
        outputs.insert(outputs.end(), std::make_move_iterator(out.result->begin()),
                       std::make_move_iterator(out.result->end()));
        return outcome::done;
      }
      return split_or_letter(records, std::move(out.result).error(), out.attempts, letter, stop, [&](auto half) {
        return transform_isolating(half, outputs, letter, stop);
      });
    }
  }

  // Writes records; a permanent failure is bisected so that only the bad records are
  // dead-lettered and the good ones are written once.
  template <class Letter>
  auto write_isolating(std::span<const output> records, Letter& letter, const std::stop_token& stop) -> outcome {
    if (records.empty()) return outcome::done;
    auto wrote = with_counted_retry([&] { return sink_.write(records, stop); }, stop);
    if (wrote.result) {
      written_->inc(records.size());
      return outcome::done;
    }
    return split_or_letter(records, std::move(wrote.result).error(), wrote.attempts, letter, stop,
                           [&](auto half) { return write_isolating(half, letter, stop); });
  }

  // The failure policy shared by transform and write: stopped abandons; exhausted transient
  // errors follow `when_retries_exhausted`; other errors are narrowed down by halving the
  // slice, and a single record that still fails is dead-lettered.
  template <class Record, class Letter, class Retry>
  auto split_or_letter(std::span<const Record> records, error e, std::uint32_t attempts, Letter& letter,
                       const std::stop_token& stop, Retry&& again) -> outcome {
    if (e.kind == error_kind::stopped || stop.stop_requested()) return outcome::abandoned;
    if (e.retryable() || records.size() == 1) {
      bool kept_going = true;
      for (const auto& r : records) {
        kept_going = failed_for_good(e, [&](error reason) { letter(to_payload(r), std::move(reason), attempts); });
        if (!kept_going) break;
      }
      return kept_going ? outcome::done : outcome::abandoned;
    }
    const auto half = records.size() / 2;
    if (again(records.first(half)) == outcome::abandoned) return outcome::abandoned;
    return again(records.subspan(half));
  }

  // A record failed for good: dead-letter it, unless the policy fails the run. Returns
  // whether the run goes on.
  template <class Letter>
  auto failed_for_good(const error& e, Letter&& to_letter) -> bool {
    if (e.kind == error_kind::stopped) return false;
    if (e.retryable() && options_.when_retries_exhausted == exhausted_policy::fail_run) {
      fail(error{e.kind, "retries exhausted: " + e.message, e.native_code, e.backend});
      return false;
    }
    to_letter(e);
    return true;
  }

  auto dead_letter_all(const std::vector<dead_letter>& letters, const std::stop_token& stop) -> outcome {
    if (letters.empty()) return outcome::done;
    // DLQ before ack: a batch whose dead letters cannot be stored is not done.
    auto stored = with_retry([&] { return dlq_.write(std::span{letters}, stop); }, stop);
    if (!stored) {
      fail_unless_stopped(stored.error());
      return outcome::abandoned;
    }
    dead_->inc(letters.size());
    if (dead_->value() > options_.max_dead_letters) {
      fail(permanent_error(fmt::format("{} records dead-lettered, more than max_dead_letters ({})", dead_->value(),
                                       options_.max_dead_letters)));
      return outcome::abandoned;
    }
    return outcome::done;
  }

  // One lock around finishing and publishing, so watermarks are published in order.
  void finish(std::uint64_t sequence, const std::stop_token& stop) {
    std::scoped_lock lock{checkpoint_mutex_};
    auto moved = watermark_.finish(sequence);
    if (!moved) return;
    pending_ = std::move(*moved);
    if (clock_.now() - last_save_ >= options_.checkpoint_interval) save_checkpoint_locked(stop);
  }

  void save_checkpoint(const std::stop_token& stop) {
    std::scoped_lock lock{checkpoint_mutex_};
    save_checkpoint_locked(stop);
  }

  // The sink is flushed first: a checkpoint must never get ahead of durable data.
  void save_checkpoint_locked(const std::stop_token& stop) {
    if (!pending_) return;
    if constexpr (flushable_sink<Sink>) {
      if (auto flushed = with_retry([&] { return sink_.flush(stop); }, stop); !flushed) {
        fail_unless_stopped(flushed.error());
        return;
      }
    }
    auto saved = with_retry([&] { return store_.save(options_.name, *pending_, version_); }, stop);
    if (!saved) {
      fail_unless_stopped(saved.error());  // a conflict means another process owns this pipeline
      return;
    }
    version_ = *saved;
    saved_ = std::move(*pending_);
    pending_.reset();
    last_save_ = clock_.now();
  }

  template <class F>
  auto with_retry(F&& attempt, const std::stop_token& stop) {
    return retry(std::forward<F>(attempt), options_.retry, stop, clock_,
                 [this](const error& e, std::uint32_t n, std::chrono::nanoseconds wait) {
                   retried_->inc();
                   options_.log.debug("{}: attempt {} failed ({}); retrying in {} ms", options_.name, n,
                                      fmt::format("{}", e),
                                      std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
                 });
  }

  template <class R>
  struct counted {
    R result;
    std::uint32_t attempts;  // dead letters record how often a record was tried
  };

  template <class F>
  auto with_counted_retry(F&& attempt, const std::stop_token& stop) {
    std::uint32_t attempts = 0;
    auto result = with_retry(
        [&](std::uint32_t n) {
          attempts = n;
          return attempt();
        },
        stop);
    return counted<decltype(result)>{std::move(result), attempts};
  }

  auto fail_unless_stopped(const error& e) -> bool {
    if (e.kind != error_kind::stopped) fail(e);
    return false;
  }

  void fail(error e) {
    {
      std::scoped_lock lock{failure_mutex_};
      if (!failure_) {
        options_.log.error("{}: failing the run: {}", options_.name, fmt::format("{}", e));
        failure_ = std::move(e);
      }
    }
    halt_.request_stop();
  }

  auto failure() -> std::optional<error> {
    std::scoped_lock lock{failure_mutex_};
    return failure_;
  }

  Source& source_;
  Transform& transform_;
  Sink& sink_;
  Dlq& dlq_;
  Store& store_;
  const runner_options& options_;
  clock& clock_;

  mpmc_queue<batch<input>> queue_;
  std::stop_source halt_;  // the user's stop, or a failure
  std::stop_callback<std::function<void()>> forward_stop_;
  std::atomic<bool> exhausted_{false};

  std::mutex checkpoint_mutex_;       // guards the watermark and everything below
  watermark watermark_;
  std::optional<position> pending_;  // watermark not saved yet
  position saved_;
  std::uint64_t version_ = 0;
  clock::time_point last_save_{};

  std::mutex failure_mutex_;
  std::optional<error> failure_;

  std::mutex workers_mutex_;
  std::vector<std::jthread> workers_;
  std::size_t worker_count_ = 0;               // started and not retired
  std::atomic<std::uint32_t> retirements_{0};  // workers asked to end
  std::optional<autoscaler> scaler_;
  std::stop_source monitors_done_;

  std::mutex job_mutex_;
  std::optional<job_run> job_run_;

  std::mutex progress_mutex_;
  progress_meter progress_;

  gauge local_workers_;
  gauge* workers_gauge_ = &local_workers_;
  counter local_read_, local_written_, local_dead_, local_retried_;
  counter* read_ = &local_read_;
  counter* written_ = &local_written_;
  counter* dead_ = &local_dead_;
  counter* retried_ = &local_retried_;
};

}  // namespace detail

/// Runs a pipeline in this process: one thread reads `source` into a bounded queue, `workers`
/// threads transform and write to `sink`, until the source is exhausted, `stop` fires, or the
/// run fails. Blocks until every thread is joined.
///
/// The contract (design notes §3): every record read ends in `sink` or in `dlq` (dead letters
/// are stored before a batch counts as done). Transient errors are retried with `options.retry`;
/// a permanent error splits the failing batch in halves until the bad records are found, which
/// go to the DLQ with their payload, error and attempts while the others are written once. The
/// checkpoint (`options.name` in `checkpoints`) advances only to the watermark below which
/// every batch is done, after flushing the sink, and is saved again at the end, also when
/// stopped; the next run resumes after it. Exceptions thrown by `transform` are dead-lettered
/// with their message. A checkpoint conflict fails the run (another process owns it).
///
/// Thread-safety: `source` is used by one thread at a time; `transform`, `sink`, `dlq` and
/// `checkpoints` are called from all workers at once and must be thread-safe.
///
///     auto report = pipeline::run(source, [](const row& r) -> pipeline::result<doc> { return to_doc(r); },
///                                 sink, dlq, checkpoints, {.name = "listings", .workers = 8}, stop);
template <seekable_source Source, class Transform, sink Sink, dead_letter_sink Dlq, checkpoint_store Store>
  requires transform_for<Transform, source_value_t<Source>> &&
           std::same_as<sink_value_t<Sink>, transform_output_t<Transform, source_value_t<Source>>> &&
           payload_encodable<source_value_t<Source>> && payload_encodable<sink_value_t<Sink>>
auto run(Source& source, Transform&& transform, Sink& sink, Dlq& dlq, Store& checkpoints, const runner_options& options,
         std::stop_token stop = {}) -> run_report {
  validate(options);
  detail::pipeline_run<Source, std::remove_reference_t<Transform>, Sink, Dlq, Store> state{
      source, transform, sink, dlq, checkpoints, options, std::move(stop)};
  return state.run();
}

}  // namespace pipeline
