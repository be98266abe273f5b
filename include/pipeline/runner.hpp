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

#include <pipeline/backoff.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/watermark.hpp>
#include <pipeline/log.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/mpmc_queue.hpp>
#include <pipeline/payload.hpp>
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
  std::size_t workers{4};                  ///< threads that transform and write
  std::size_t queue_capacity{16};          ///< batches between the reader and the workers
  backoff_options retry{};                 ///< for transient errors of source, transform, sink, DLQ, store
  exhausted_policy when_retries_exhausted{exhausted_policy::dead_letter};
  std::uint64_t max_dead_letters{std::numeric_limits<std::uint64_t>::max()};  ///< more fails the run
  std::chrono::milliseconds checkpoint_interval{1000};  ///< at most one save per interval (0: every batch)
  clock* time{nullptr};                    ///< nullptr: the real steady clock
  logger log{};
  metrics_registry* metrics{nullptr};      ///< where the run's counters are registered, if anywhere
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
class run_state {
  using input = source_value_t<Source>;
  using output = transform_output_t<Transform, input>;
  using traits = transform_traits<std::remove_cvref_t<Transform>, input>;

  // What became of a slice of a batch.
  enum class outcome : std::uint8_t { done, abandoned };

 public:
  run_state(Source& source, Transform& transform, Sink& sink, Dlq& dlq, Store& store, const runner_options& options,
            std::stop_token user_stop)
      : source_(source),
        transform_(transform),
        sink_(sink),
        dlq_(dlq),
        store_(store),
        options_(options),
        clock_(options.time != nullptr ? *options.time : steady_clock()),
        queue_(options.queue_capacity),
        forward_stop_(std::move(user_stop), [this] { halt_.request_stop(); }) {
    if (options.metrics != nullptr) {
      const metric_labels labels{{"pipeline", options.name}};
      read_ = &options.metrics->register_counter("pipeline_records_read_total", "Records read from the source", labels);
      written_ = &options.metrics->register_counter("pipeline_records_written_total", "Records the sink accepted", labels);
      dead_ = &options.metrics->register_counter("pipeline_records_dead_lettered_total", "Records sent to the DLQ", labels);
      retried_ = &options.metrics->register_counter("pipeline_retries_total", "Attempts repeated after a transient error", labels);
    }
  }

  auto run() -> run_report {
    const auto started = clock_.now();
    run_report report;
    if (resume()) {
      {
        std::jthread producer{[this] { produce(); }};
        std::vector<std::jthread> workers;
        workers.reserve(options_.workers);
        for (std::size_t i = 0; i < options_.workers; ++i) workers.emplace_back([this] { work(); });
      }  // joins every thread, on every path
      save_checkpoint(std::stop_token{});  // even when stopped: keep what is done
    }
    report.read = read_->value();
    report.written = written_->value();
    report.dead_lettered = dead_->value();
    report.retried = retried_->value();
    report.duration = clock_.now() - started;
    report.checkpoint = saved_;
    report.failure = failure();
    report.status = report.failure                                         ? run_status::failed
                    : exhausted_.load() && watermark_.in_flight() == 0 ? run_status::completed
                                                                           : run_status::stopped;
    options_.log.info("{}: {} — read {}, written {}, dead-lettered {}, retried {}", options_.name,
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
    while (auto b = queue_.pop(stop)) {
      if (process(*b, stop) == outcome::abandoned) return;
      finish(b->sequence, stop);
    }
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
        std::uint32_t attempts = 0;
        auto out = with_retry(
            [&](std::uint32_t n) {
              attempts = n;
              return call_user(transform_, r);
            },
            stop);
        if (out) outputs.push_back(std::move(*out));
        else if (!failed_for_good(out.error(), [&](error e) { letter(to_payload(r), std::move(e), attempts); }))
          return outcome::abandoned;
      }
      return outcome::done;
    } else {
      std::uint32_t attempts = 0;
      auto out = with_retry(
          [&](std::uint32_t n) {
            attempts = n;
            return call_user(transform_, records);
          },
          stop);
      if (out) {
        outputs.insert(outputs.end(), std::make_move_iterator(out->begin()), std::make_move_iterator(out->end()));
        return outcome::done;
      }
      return split_or_letter(records, std::move(out).error(), attempts, letter, stop, [&](auto half) {
        return transform_isolating(half, outputs, letter, stop);
      });
    }
  }

  // Writes records; a permanent failure is bisected so that only the bad records are
  // dead-lettered and the good ones are written once.
  template <class Letter>
  auto write_isolating(std::span<const output> records, Letter& letter, const std::stop_token& stop) -> outcome {
    if (records.empty()) return outcome::done;
    std::uint32_t attempts = 0;
    auto wrote = with_retry(
        [&](std::uint32_t n) {
          attempts = n;
          return sink_.write(records, stop);
        },
        stop);
    if (wrote) {
      written_->inc(records.size());
      return outcome::done;
    }
    return split_or_letter(records, std::move(wrote).error(), attempts, letter, stop,
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
  detail::run_state<Source, std::remove_reference_t<Transform>, Sink, Dlq, Store> state{
      source, transform, sink, dlq, checkpoints, options, std::move(stop)};
  return state.run();
}

}  // namespace pipeline
