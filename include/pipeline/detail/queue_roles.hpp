#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <utility>

#include <pipeline/detail/queue_acks.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/detail/queue_source.hpp>
#include <pipeline/result.hpp>
#include <pipeline/runner.hpp>

namespace pipeline::detail {

/// The producer role of every adapter's queue (`redis::run_producer`, `postgres::run_producer`
/// say what it does): `source` read by the core runner into a `queue_sink` over `producer`,
/// and the queue closed (`producer.close()`) once the run completed.
template <class Codec, class Producer, class Source, class Dlq, class Store>
auto run_queue_producer(Source& source, Producer& producer, Dlq& dlq, Store& checkpoints,
                        const runner_options& options, std::stop_token stop) -> run_report {
  queue_sink<source_value_t<Source>, Codec, Producer> sink{producer};
  auto report = pipeline::run(source, identity{}, sink, dlq, checkpoints, options, std::move(stop));
  if (report.status == run_status::completed) {
    if (auto closed = producer.close(); !closed) {
      report.status = run_status::failed;
      report.failure = closed.error();
    }
  }
  return report;
}

/// The worker role of every adapter's queue (`redis::run_worker`, `postgres::run_worker` say
/// what it does): a `queue_source` over `consumer` run by the core runner into `sink` and
/// `dlq`, its checkpoint a `queue_acks` (acknowledge every batch at once, workers sharing the
/// job), and the records of redelivered entries that a DLQ with `holds` holds left out. In
/// exactly-once mode the checkpoint key (the ledger's job) is "<key>@<consumer name>".
template <class T, class Codec, class Consumer, class Transform, class Sink, class Dlq>
auto run_queue_worker(Consumer& consumer, Transform&& transform, Sink& sink, Dlq& dlq, runner_options options,
                      std::stop_token stop) -> run_report {
  queue_source<T, Codec, Consumer> source{consumer};
  if constexpr (requires(std::span<const position> p, std::stop_token s) { dlq.holds(std::uint32_t{}, p, s); }) {
    source.skip_dead_lettered([&dlq, partition = options.partition](std::span<const position> p, std::stop_token s) {
      return dlq.holds(partition, p, std::move(s));
    });
  }
  queue_acks<Consumer> acks{consumer};
  options.checkpoint_interval = std::chrono::milliseconds{0};
  options.exclusive = false;
  // Exactly-once: the ledger is kept per worker (its runs are numbered by what the ledger
  // holds, and workers of one job run at once).
  if (options.exactly_once) options.checkpoint_key = options.effective_checkpoint_key() + "@" + consumer.options().consumer;
  return pipeline::run(source, std::forward<Transform>(transform), sink, dlq, acks, options, std::move(stop));
}

/// A `supervisor`'s depth function over `producer.depth()` (whose result has `total()`);
/// `producer` must outlive it.
template <class Producer>
auto queue_depth_function(Producer& producer) -> std::function<result<std::uint64_t>()> {
  return [&producer]() -> result<std::uint64_t> {
    auto depth = producer.depth();
    if (!depth) return std::move(depth).error();
    return depth->total();
  };
}

}  // namespace pipeline::detail
