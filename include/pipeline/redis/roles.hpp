#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <utility>

#include <pipeline/autoscaler.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_roles.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/stream_consumer.hpp>
#include <pipeline/redis/stream_producer.hpp>
#include <pipeline/result.hpp>
#include <pipeline/runner.hpp>

namespace pipeline::redis {

/// The producer role: reads `source` with the core runner and puts each batch on the queue as
/// one stream entry; on completion closes the queue, so workers end once it is drained.
///
/// Everything is `pipeline::run`'s: the checkpoint (in `checkpoints`, shared by restarts of
/// the producer; e.g. a `redis::checkpoint_store`) advances only past batches that are on the
/// stream, records the source rejects go to `dlq`, retries follow `options.retry`.
/// A stopped or failed producer leaves the queue open: a restarted one resumes after its
/// checkpoint. With `options.exactly_once` it adds nothing twice (the stream sink keeps a
/// ledger, see `stream_sink`); without, batches after the checkpoint may be added again, so
/// workers' sinks must be idempotent and their DLQ may store a bad record twice.
///
///     auto report = pipeline::redis::run_producer(csv, producer, dlq, checkpoints, {.name = "orders"}, stop);
template <class Codec = record_codec, pipeline::seekable_source Source, pipeline::dead_letter_sink Dlq,
          pipeline::checkpoint_store Store>
auto run_producer(Source& source, stream_producer& producer, Dlq& dlq, Store& checkpoints, const runner_options& options,
                  std::stop_token stop = {}) -> run_report {
  return pipeline::detail::run_queue_producer<Codec>(source, producer, dlq, checkpoints, options, std::move(stop));
}

/// The worker role: takes batches off the queue and runs them through the core runner's
/// per-batch logic (transform, retries with backoff, bisection of permanent failures, DLQ,
/// stats), acknowledging each entry only once all its records are in `sink` or `dlq`.
///
/// Runs until the queue is closed and drained (completed), `stop` fires (stopped: what is
/// in flight stays pending and is reclaimed by a live worker after the visibility timeout),
/// or the run fails. Any number of worker processes may join and leave at any time. `options`
/// are used as given except `checkpoint_interval`, which is 0 (acknowledge every batch at once,
/// so nothing is redelivered needlessly), and `exclusive`, which is false (the workers share
/// the job); `options.workers` threads run in this process.
/// When `dlq` can say which positions it holds (`holds(partition, positions, stop)`, as
/// `redis::dead_letter_stream` does), the records of redelivered entries that it holds are
/// left out (`stream_source::skip_dead_lettered`): no record ends in both the sink and the DLQ.
///
///     auto consumer = pipeline::redis::stream_consumer::open(conn, {.stream = "{orders}:q"}).value();
///     auto report = pipeline::redis::run_worker<pipeline::record>(*consumer, transform, sink, dlq, {.workers = 4});
template <class T, class Codec = record_codec, class Transform, pipeline::sink Sink, pipeline::dead_letter_sink Dlq>
auto run_worker(stream_consumer& consumer, Transform&& transform, Sink& sink, Dlq& dlq, runner_options options,
                std::stop_token stop = {}) -> run_report {
  return pipeline::detail::run_queue_worker<T, Codec>(consumer, std::forward<Transform>(transform), sink, dlq,
                                                     std::move(options), std::move(stop));
}

/// The worker count a deployment should run for the queue's depth now, by `scaler`'s rule
/// (entries, i.e. batches, per worker); `scaler.options().on_desired` is told the result.
/// Call it every `scaler.options().interval` from whatever starts worker processes.
inline auto desired_workers(stream_producer& producer, autoscaler& scaler, std::size_t running) -> result<std::size_t> {
  auto depth = producer.depth();
  if (!depth) return std::move(depth).error();
  const auto desired = scaler.evaluate(static_cast<std::size_t>(depth->total()), running);
  if (scaler.options().on_desired) scaler.options().on_desired(desired);
  return desired;
}

/// A `supervisor`'s depth function for worker processes that consume this stream: its
/// entries not yet delivered plus those delivered and not acknowledged, read through
/// `producer`, which must outlive the supervisor.
inline auto stream_depth_function(stream_producer& producer) -> std::function<result<std::uint64_t>()> {
  return pipeline::detail::queue_depth_function(producer);
}

}  // namespace pipeline::redis
