#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/queue_acks.hpp>
#include <pipeline/detail/queue_entry.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/detail/queue_source.hpp>
#include <pipeline/result.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/source.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline {

/// The producer side of a distributed queue (`postgres::queue_producer`,
/// `redis::stream_producer`): adds framed batches as entries (`add`, `add_all`), keeps the
/// ledger of an exactly-once run (`add_committed`, `committed`, `forget`), closes the queue so
/// that drained workers end, and says how deep it is (`depth().total()`: entries not yet
/// acknowledged). `options().records_per_entry` splits a batch into entries of that many records.
template <class P>
concept entry_producer = requires(P& p, const std::string& frame, std::span<const std::string> frames,
                                  const committed_batch& entry, std::string_view job, std::uint64_t n,
                                  std::stop_token stop) {
  { p.add(frame, stop) } -> std::same_as<result<std::string>>;
  { p.add_all(frames, stop) } -> std::same_as<result<void>>;
  { p.add_committed(frames, entry, stop) } -> std::same_as<result<void>>;
  { p.committed(job, stop) } -> std::same_as<result<std::vector<committed_batch>>>;
  { p.forget(job, n, n, stop) } -> std::same_as<result<void>>;
  { p.close() } -> std::same_as<result<void>>;
  { p.depth().value().total() } -> std::convertible_to<std::uint64_t>;
  { p.options().records_per_entry } -> std::convertible_to<std::size_t>;
};

/// The worker side of a distributed queue (`postgres::queue_consumer`,
/// `redis::stream_consumer`): `read` delivers entries (nullopt once the queue is closed and
/// drained), `track` numbers the ids of a read and `ack_through(number)` acknowledges every
/// entry tracked up to it. `options()` carries `max_deliveries`, the worker's `consumer` name
/// and its `log`; `name()` names the queue in messages.
template <class C>
concept entry_consumer = requires(C& c, std::vector<std::string> ids, std::uint64_t number, std::stop_token stop) {
  { c.read(stop) } -> std::same_as<result<std::optional<std::vector<detail::queue_entry>>>>;
  { c.track(std::move(ids)) } -> std::convertible_to<std::uint64_t>;
  { c.ack_through(number) } -> std::same_as<result<void>>;
  { c.name() } -> std::convertible_to<std::string_view>;
  { c.options().max_deliveries } -> std::convertible_to<std::uint32_t>;
  { c.options().consumer } -> std::convertible_to<std::string_view>;
};

/// The producer role of a distributed queue: reads `source` with the core runner and puts each
/// batch on the queue as one entry (`detail::queue_sink`: or entries of
/// `records_per_entry` records); on completion closes the queue, so workers end once it is
/// drained.
///
/// Everything is `pipeline::run`'s: the checkpoint (in `checkpoints`, shared by restarts of the
/// producer) advances only past batches that are on the queue, records the source rejects go to
/// `dlq`, retries follow `options.retry`. A stopped or failed producer leaves the queue open: a
/// restarted one resumes after its checkpoint. With `options.exactly_once` it adds nothing
/// twice (the entries and the producer's ledger entry are added in one step); without, batches
/// after the checkpoint may be added again, so workers' sinks must be idempotent and their DLQ
/// may store a bad record twice. Blocking; thread-safety and ownership as `pipeline::run`.
///
///     auto report = pipeline::postgres::run_producer(csv, producer, dlq, checkpoints, {.name = "orders"}, stop);
template <class Codec = record_codec, seekable_source Source, entry_producer Producer, dead_letter_sink Dlq,
          checkpoint_store Store>
auto run_producer(Source& source, Producer& producer, Dlq& dlq, Store& checkpoints, const runner_options& options,
                  std::stop_token stop = {}) -> run_report {
  detail::queue_sink<source_value_t<Source>, Codec, Producer> sink{producer};
  auto report = pipeline::run(source, identity{}, sink, dlq, checkpoints, options, std::move(stop));
  if (report.status == run_status::completed) {
    if (auto closed = producer.close(); !closed) {
      report.status = run_status::failed;
      report.failure = closed.error();
    }
  }
  return report;
}

/// The worker role of a distributed queue: takes batches off the queue (`detail::queue_source`
/// over `consumer`, decoded with `Codec`) and runs them through the core runner's per-batch
/// logic (transform, retries with backoff, bisection of permanent failures, DLQ, stats),
/// acknowledging each entry only once all its records are in `sink` or `dlq`.
///
/// Runs until the queue is closed and drained (completed), `stop` fires (stopped: what is in
/// flight stays unacknowledged and is redelivered to a live worker after the queue's
/// visibility timeout), or the run fails. Any number of worker processes may join and leave at
/// any time. `options` are used as given except `checkpoint_interval`, which is 0 (acknowledge
/// every batch at once, so nothing is redelivered needlessly), and `exclusive`, which is false
/// (the workers share the job); `options.workers` threads run in this process. In exactly-once
/// mode the checkpoint key (the ledger's job) is "<key>@<consumer name>": the ledger is kept
/// per worker, as workers of one job run at once. When `dlq` can say which positions it holds
/// (`holds(partition, positions, stop)`), the records of redelivered entries that it holds are
/// left out: no record ends in both the sink and the DLQ. Blocking; `consumer` is read by this
/// run only and must outlive it.
///
///     auto report = pipeline::redis::run_worker<pipeline::record>(*consumer, transform, sink, dlq, {.workers = 4});
template <class T, class Codec = record_codec, entry_consumer Consumer, class Transform, sink Sink,
          dead_letter_sink Dlq>
auto run_worker(Consumer& consumer, Transform&& transform, Sink& sink, Dlq& dlq, runner_options options,
                std::stop_token stop = {}) -> run_report {
  detail::queue_source<T, Codec, Consumer> source{consumer};
  if constexpr (requires(std::span<const position> p, std::stop_token s) { dlq.holds(std::uint32_t{}, p, s); }) {
    source.skip_dead_lettered([&dlq, partition = options.partition](std::span<const position> p, std::stop_token s) {
      return dlq.holds(partition, p, std::move(s));
    });
  }
  detail::queue_acks<Consumer> acks{consumer};
  options.checkpoint_interval = std::chrono::milliseconds{0};
  options.exclusive = false;
  if (options.exactly_once) options.checkpoint_key = options.effective_checkpoint_key() + "@" + consumer.options().consumer;
  return pipeline::run(source, std::forward<Transform>(transform), sink, dlq, acks, options, std::move(stop));
}

/// A `supervisor`'s depth function for the worker processes of a queue: its entries not yet
/// acknowledged (`producer.depth().total()`), read through `producer`, which must outlive it.
/// Each call blocks for one round trip; thread-safe as the producer is.
template <entry_producer Producer>
auto queue_depth_function(Producer& producer) -> std::function<result<std::uint64_t>()> {
  return [&producer]() -> result<std::uint64_t> {
    auto depth = producer.depth();
    if (!depth) return std::move(depth).error();
    return depth->total();
  };
}

}  // namespace pipeline
