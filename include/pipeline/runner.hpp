#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <pipeline/any_job_log_store.hpp>
#include <pipeline/autoscaler.hpp>
#include <pipeline/backoff.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_sharing_sink.hpp>
#include <pipeline/detail/run_stages.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/log.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/payload.hpp>
#include <pipeline/progress.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/source.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline {


/// What to do with records whose transient failures outlast the retry policy. A transient
/// failure is most often an outage (a database restarting, a network cut), not bad data: by
/// default the run fails and a rerun tries the records again; dead-lettering them is a choice.
enum class exhausted_policy : std::uint8_t {
  dead_letter,  ///< dead-letter them with their attempt count; the run goes on
  fail_run,     ///< fail the run (the checkpoint stays below them; a rerun tries again): the default
};

/// What to do with a defect: an `internal` error, i.e. an exception from user code (transform,
/// sink, source) or an error nobody classified. A defect is a bug until proved otherwise: a
/// transform that throws for every record must not dead-letter the whole input and report
/// `completed`.
enum class defect_policy : std::uint8_t {
  fail_run,     ///< fail the run at the first defect; the checkpoint stays below its batch
  dead_letter,  ///< treat it as bad data: dead-letter the record (within the error budget)
};

/// How a run ended. Stopped is not failed: the checkpoint is saved and a rerun resumes.
enum class run_status : std::uint8_t { completed, failed, stopped };

[[nodiscard]] auto to_string(run_status status) noexcept -> std::string_view;

/// How a run is carried out. A plain struct: every field has a working default.
struct runner_options {
  std::string name{"pipeline"};            ///< the job's name: job log, metrics label, log lines
  std::string checkpoint_key{};            ///< where the checkpoint is kept; empty: `name`
  std::size_t workers{4};                  ///< threads that read in turn, transform and write (the first count when autoscaling)
  std::size_t queue_capacity{16};          ///< batches read ahead of the workers
  /// For transient errors of source, transform, sink, DLQ, store. `retry.max_attempts` counts
  /// the first try: "3 retries" is `max_attempts = 4`.
  backoff_options retry{};
  exhausted_policy when_retries_exhausted{exhausted_policy::fail_run};
  defect_policy on_defect{defect_policy::fail_run};
  /// The error budget. More dead letters than this fails the run.
  std::uint64_t max_dead_letters{std::numeric_limits<std::uint64_t>::max()};
  /// The error budget as a share: more than this share of dead letters among the last
  /// `dead_letter_window` records fails the run (checked once that many records are done).
  double max_dead_letter_share{1.0};
  std::uint64_t dead_letter_window{10'000};
  std::chrono::milliseconds checkpoint_interval{1000};  ///< at most one save per interval (0: every batch)
  /// Exactly-once mode (docs/runner.md): each batch commits with its entry in the sink's batch
  /// ledger, and a resumed run skips what earlier runs committed, so no record is written twice
  /// even into a sink with no idempotent key. The sink must keep a ledger
  /// (`pipeline::is_transactional`), or the run fails at once with `invalid_input`. Records
  /// the sink refuses are then found by splitting batches, not by its per-record answers.
  bool exactly_once{false};
  clock* time{nullptr};                    ///< nullptr: the real steady clock
  logger log{};
  metrics_registry* metrics{nullptr};      ///< where the run's counters are registered, if anywhere
  std::optional<autoscale_options> autoscale{};  ///< when set, the worker count follows the queue depth
  any_job_log_store* job_log{nullptr};     ///< when set, the run is recorded there, with a lease
  /// One runner per job: the run holds a lease on its checkpoint key, kept in the checkpoint
  /// store under `<key>#lease`, so a second run of the same key fails with `conflict` before
  /// it reads or writes (docs/runner.md, "One runner per job"). False only where many runs
  /// share one job by design: the workers of a queue (`redis::run_worker` sets it).
  bool exclusive{true};
  /// The lease a run holds on its checkpoint key (and on its job-log entry), renewed every
  /// heartbeat. Must be longer than `heartbeat_interval`.
  lease_options lease{};
  std::chrono::milliseconds heartbeat_interval{10'000};
  progress_callback on_progress{};         ///< called every progress_interval, and once at the end
  std::chrono::milliseconds progress_interval{1000};
  std::optional<std::uint64_t> expected_records{};  ///< for the progress ETA, when known
  std::uint32_t partition{0};              ///< stamped on every batch and dead letter (see run_partitions)

  /// `checkpoint_key`, or `name` when it is empty.
  [[nodiscard]] auto effective_checkpoint_key() const -> const std::string& {
    return checkpoint_key.empty() ? name : checkpoint_key;
  }
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
  std::uint64_t done_before{0};    ///< records done by earlier runs, below the checkpoint this run resumed from
  /// Exactly-once mode: records read again above the checkpoint that an earlier run had
  /// committed (its batch ledger says so), skipped rather than written twice; counted in `read`.
  std::uint64_t skipped{0};
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

// The `internal` error for the exception in flight, thrown by `who`; call it in a catch block.
// Out of line (src/core/runner.cpp), so no user file formats the message.
[[nodiscard]] auto current_exception_error(std::string_view who) -> error;

// Calls user code (`who` names it in the message); what it throws becomes an `internal` error,
// which the run treats as a defect (see runner_options::on_defect).
template <class F, class... Args>
auto call_user(std::string_view who, F&& f, Args&&... args)
    -> result<typename unwrap_result<std::invoke_result_t<F&, Args...>>::type> {
  try {
    return std::invoke(f, std::forward<Args>(args)...);
  } catch (...) {
    return current_exception_error(who);
  }
}

}  // namespace detail

/// A transform usable for source records of type `T`.
template <class F, class T>
concept transform_for = requires { typename detail::transform_traits<std::remove_cvref_t<F>, T>::output; };

template <class F, class T>
using transform_output_t = typename detail::transform_traits<std::remove_cvref_t<F>, T>::output;

namespace detail {

// The typed records of a batch: its inputs, and the outputs of its transform (none for the
// identity, whose outputs are its inputs).
template <class Input, class Output>
struct typed_records final : batch_records {
  std::vector<Input> inputs;
  std::vector<Output> outputs;
};

// The typed half of a run (see detail/run_stages.hpp): forwards to the user's objects, catches
// what they throw, and keeps each batch's records typed. Per-record transforms run as a loop
// here, so the engine makes one virtual call per batch, not per record.
template <class Source, class Transform, class Sink, class Dlq, class Store>
class typed_stages final : public run_stages {
  using input = source_value_t<Source>;
  using output = transform_output_t<Transform, input>;
  using traits = transform_traits<std::remove_cvref_t<Transform>, input>;
  static constexpr bool is_identity = std::is_same_v<std::remove_cvref_t<Transform>, identity>;
  using records = typed_records<input, std::conditional_t<is_identity, std::monostate, output>>;

 public:
  typed_stages(Source& source, Transform& transform, Sink& sink, Dlq& dlq, Store& store)
      : source_(source), transform_(transform), sink_(sink), dlq_(dlq), store_(store) {}

  auto seek(const position& pos) -> result<void> override {
    return call_user("the source", [&] { return source_.seek(pos); });
  }
  auto next_batch(std::stop_token stop) -> result<std::optional<batch_in_flight>> override {
    auto next = call_user("the source", [&] { return source_.next_batch(stop); });
    if (!next) return std::move(next).error();
    if (!*next) return std::optional<batch_in_flight>{};
    auto& b = **next;
    auto held = std::make_unique<records>();
    held->inputs = std::move(b.records);
    batch_in_flight out;
    out.size = held->inputs.size();
    out.records = std::move(held);
    out.end = std::move(b.end);
    out.rejected = std::move(b.rejected);
    out.positions = std::move(b.positions);
    return std::optional<batch_in_flight>{std::move(out)};
  }

  auto load_checkpoint(const std::string& key) -> result<checkpoint> override {
    return call_user("the checkpoint store", [&] { return store_.load(key); });
  }
  auto save_checkpoint(const std::string& key, const position& pos, std::uint64_t version)
      -> result<std::uint64_t> override {
    return call_user("the checkpoint store", [&] { return store_.save(key, pos, version); });
  }
  auto store_dead_letters(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
    return call_user("the DLQ", [&] { return dlq_.write(letters, stop); });
  }

  [[nodiscard]] auto shape() const noexcept -> transform_shape override {
    if constexpr (is_identity) {
      return transform_shape::identity;
    } else if constexpr (traits::per_record) {
      return transform_shape::per_record;
    } else {
      return transform_shape::per_batch;
    }
  }

  auto transform(batch_in_flight& b, std::size_t begin, std::size_t end) -> transform_progress override {
    if constexpr (is_identity) {
      return {end, std::nullopt};
    } else {
      auto& held = of(b);
      const std::span<const input> in{held.inputs};
      if constexpr (traits::per_record) {
        for (auto i = begin; i < end; ++i) {
          auto out = call_user("the transform", transform_, in[i]);
          if (!out) return {i, std::move(out).error()};
          held.outputs.push_back(std::move(*out));
          b.origins.push_back(i);
        }
        return {end, std::nullopt};
      } else {
        auto out = call_user("the transform", transform_, in.subspan(begin, end - begin));
        if (!out) return {begin, std::move(out).error()};
        held.outputs.insert(held.outputs.end(), std::make_move_iterator(out->begin()),
                            std::make_move_iterator(out->end()));
        return {end, std::nullopt};
      }
    }
  }
  [[nodiscard]] auto output_count(const batch_in_flight& b) const -> std::size_t override {
    return outputs(b).size();
  }

  [[nodiscard]] auto flushes() const noexcept -> bool override { return flushable_sink<Sink>; }
  [[nodiscard]] auto answers_per_record() const noexcept -> bool override { return pipeline::answers_per_record(sink_); }
  [[nodiscard]] auto shares_dlq_transactions() const noexcept -> bool override {
    if constexpr (dead_letter_sharing_sink<Sink, Dlq>) {
      return sink_.shares_transactions_with(dlq_);
    } else {
      return false;
    }
  }
  auto write(batch_in_flight& b, std::size_t begin, std::size_t end, std::span<const dead_letter> letters,
             std::stop_token stop) -> result<void> override {
    return with_letters(letters, [&](const auto&... shared) {
      return call_user("the sink", [&] { return sink_.write(outputs(b).subspan(begin, end - begin), stop, shared...); });
    });
  }
  auto write_each(batch_in_flight& b, std::size_t begin, std::size_t end, std::span<const dead_letter> letters,
                  std::stop_token stop) -> result<std::vector<rejected_record>> override {
    if constexpr (per_record_sink<Sink>) {
      return with_letters(letters, [&](const auto&... shared) {
        return call_user("the sink",
                         [&] { return sink_.write_each(outputs(b).subspan(begin, end - begin), stop, shared...); });
      });
    } else {
      return internal_error("write_each: the sink does not answer per record");
    }
  }
  auto flush(std::stop_token stop) -> result<void> override {
    if constexpr (flushable_sink<Sink>) {
      return call_user("the sink", [&] { return sink_.flush(stop); });
    } else {
      return ok();
    }
  }

  [[nodiscard]] auto transactional() const noexcept -> bool override { return pipeline::is_transactional(sink_); }
  auto write_committed(batch_in_flight& b, std::size_t begin, std::size_t end, const committed_batch& entry,
                       std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
    if constexpr (transactional_sink<Sink>) {
      return with_letters(letters, [&](const auto&... shared) {
        return call_user("the sink", [&] {
          return sink_.write_committed(outputs(b).subspan(begin, end - begin), entry, stop, shared...);
        });
      });
    } else {
      return internal_error("write_committed: the sink keeps no batch ledger");
    }
  }
  auto committed_batches(const std::string& job, std::stop_token stop)
      -> result<std::vector<committed_batch>> override {
    if constexpr (transactional_sink<Sink>) {
      return call_user("the sink", [&] { return sink_.committed_batches(job, stop); });
    } else {
      return std::vector<committed_batch>{};
    }
  }
  auto forget_batches(const std::string& job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> result<void> override {
    if constexpr (transactional_sink<Sink>) {
      return call_user("the sink", [&] { return sink_.forget_batches(job, run, sequence, stop); });
    } else {
      return ok();
    }
  }
  void drop_inputs(batch_in_flight& b, const std::vector<bool>& skip) override {
    auto& inputs = of(b).inputs;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (skip[i]) continue;
      if (kept != i) {
        inputs[kept] = std::move(inputs[i]);
        if (i < b.positions.size()) b.positions[kept] = std::move(b.positions[i]);
      }
      ++kept;
    }
    inputs.erase(inputs.begin() + static_cast<std::ptrdiff_t>(kept), inputs.end());
    if (!b.positions.empty()) b.positions.resize(kept);
    b.size = kept;
  }

  [[nodiscard]] auto input_payload(const batch_in_flight& b, std::size_t i) const -> std::string override {
    return to_payload(of(b).inputs[i]);
  }
  [[nodiscard]] auto output_payload(const batch_in_flight& b, std::size_t j) const -> std::string override {
    return to_payload(outputs(b)[j]);
  }

 private:
  static auto of(batch_in_flight& b) -> records& { return static_cast<records&>(*b.records); }
  static auto of(const batch_in_flight& b) -> const records& { return static_cast<const records&>(*b.records); }
  // `write(…)` with no letters, or with `letters_into` the DLQ when there are some: the engine
  // gives letters only when shares_dlq_transactions() said yes.
  template <class Write>
  auto with_letters(std::span<const dead_letter> letters, Write&& write) {
    if constexpr (dead_letter_sharing_sink<Sink, Dlq>) {
      if (!letters.empty()) return write(letters_into<Dlq>{dlq_, letters});
    }
    using written = decltype(write());
    if (!letters.empty()) return written{internal_error("the sink cannot store dead letters in its transactions")};
    return write();
  }
  static auto outputs(const batch_in_flight& b) -> std::span<const output> {
    if constexpr (is_identity) {
      return of(b).inputs;
    } else {
      return of(b).outputs;
    }
  }

  Source& source_;
  Transform& transform_;
  Sink& sink_;
  Dlq& dlq_;
  Store& store_;
};

}  // namespace detail

/// Runs a pipeline in this process: `workers` threads read `source` into a bounded queue in
/// turn (one at a time, whichever finds the queue at most half full) and transform and write
/// its batches to `sink`, until the source is exhausted, `stop` fires, or the run fails.
/// Blocks until every thread is joined. The source is called from one thread at a time, not
/// always the same one.
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
  detail::typed_stages<Source, std::remove_reference_t<Transform>, Sink, Dlq, Store> stages{source, transform, sink,
                                                                                           dlq, checkpoints};
  return detail::run_engine(stages, options, std::move(stop));
}

}  // namespace pipeline
