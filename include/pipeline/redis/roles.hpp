#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include <pipeline/autoscaler.hpp>
#include <pipeline/queue_roles.hpp>
#include <pipeline/redis/stream_consumer.hpp>
#include <pipeline/redis/stream_producer.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

/// The queue's roles are the generic ones (pipeline/queue_roles.hpp) over `stream_producer`
/// and `stream_consumer`; docs/adapters/redis.md says what is particular to a stream (pending
/// entries reclaimed after the visibility timeout, `dead_letter_stream::holds`).
using pipeline::run_producer;
using pipeline::run_worker;

static_assert(pipeline::entry_producer<stream_producer> && pipeline::entry_consumer<stream_consumer>);

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
  return pipeline::queue_depth_function(producer);
}

}  // namespace pipeline::redis
