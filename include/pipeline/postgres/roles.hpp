#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <utility>

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_roles.hpp>
#include <pipeline/postgres/queue_consumer.hpp>
#include <pipeline/postgres/queue_producer.hpp>
#include <pipeline/postgres/queue_sink.hpp>
#include <pipeline/postgres/queue_source.hpp>
#include <pipeline/result.hpp>
#include <pipeline/runner.hpp>

namespace pipeline::postgres {

/// The producer role: reads `source` with the core runner and puts each batch on the queue as
/// one entry (a row of the queue table); on completion closes the queue, so workers end once
/// it is drained. The same role as `redis::run_producer` (one generic piece serves both).
///
/// Everything is `pipeline::run`'s: the checkpoint (in `checkpoints`, shared by restarts of the
/// producer; e.g. a `postgres::checkpoint_store`) advances only past batches that are on the
/// queue, records the source rejects go to `dlq`, retries follow `options.retry`. A stopped or
/// failed producer leaves the queue open: a restarted one resumes after its checkpoint
/// (batches after it may be added twice, unless `options.exactly_once`: then each batch is on
/// the queue once, through the producer's ledger).
///
///     auto report = pipeline::postgres::run_producer(csv, producer, dlq, checkpoints, {.name = "orders"}, stop);
template <class Codec = record_codec, pipeline::seekable_source Source, pipeline::dead_letter_sink Dlq,
          pipeline::checkpoint_store Store>
auto run_producer(Source& source, queue_producer& producer, Dlq& dlq, Store& checkpoints, const runner_options& options,
                  std::stop_token stop = {}) -> run_report {
  return pipeline::detail::run_queue_producer<Codec>(source, producer, dlq, checkpoints, options, std::move(stop));
}

/// The worker role: claims batches off the queue and runs them through the core runner's
/// per-batch logic (transform, retries with backoff, bisection of permanent failures, DLQ,
/// stats), acknowledging (deleting) each entry only once all its records are in `sink` or
/// `dlq`. The same role as `redis::run_worker`.
///
/// Runs until the queue is closed and drained (completed), `stop` fires (stopped: what is in
/// flight stays claimed and is reclaimed by a live worker after the visibility timeout), or
/// the run fails. Any number of worker processes may join and leave at any time. `options`
/// are used as given except `checkpoint_interval` (0: acknowledge every batch at once) and
/// `exclusive` (false: the workers share the job); `options.workers` threads run in this
/// process. When `dlq` can say which positions it holds (`holds(partition, positions, stop)`),
/// the records of redelivered entries that it holds are left out: no record ends in both the
/// sink and the DLQ.
///
///     auto consumer = pipeline::postgres::queue_consumer::open(db, {.table = "orders_queue"}).value();
///     auto report = pipeline::postgres::run_worker<pipeline::record>(*consumer, transform, sink, dlq, {.workers = 4});
template <class T, class Codec = record_codec, class Transform, pipeline::sink Sink, pipeline::dead_letter_sink Dlq>
auto run_worker(queue_consumer& consumer, Transform&& transform, Sink& sink, Dlq& dlq, runner_options options,
                std::stop_token stop = {}) -> run_report {
  return pipeline::detail::run_queue_worker<T, Codec>(consumer, std::forward<Transform>(transform), sink, dlq,
                                                     std::move(options), std::move(stop));
}

/// A `supervisor`'s depth function for worker processes that consume this queue: its entries
/// ready to claim plus those claimed and not acknowledged, read through `producer`, which must
/// outlive the supervisor.
inline auto queue_depth_function(queue_producer& producer) -> std::function<result<std::uint64_t>()> {
  return pipeline::detail::queue_depth_function(producer);
}

}  // namespace pipeline::postgres
