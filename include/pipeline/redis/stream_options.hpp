#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <pipeline/log.hpp>
#include <pipeline/metrics.hpp>

namespace pipeline::redis {

/// Where a distributed queue lives and how its workers read it. Producers and workers of one
/// queue must agree on `stream` and `group`.
///
/// Keys: `stream` (the entries) and `<stream>:closed` (set when the producer is done). Write
/// the stream name with a hash tag ("{orders}:q") to keep both in one cluster slot.
struct stream_options {
  std::string stream{"pipeline:queue"};
  std::string group{"workers"};
  std::string consumer{};                      ///< this worker's name; empty: "<host>:<pid>:<n>"
  std::size_t read_count{4};                   ///< entries (batches) per read
  std::chrono::milliseconds block{500};        ///< how long one read waits for new entries
  std::chrono::milliseconds visibility_timeout{30'000};  ///< idle pending entries are reclaimed after this
  std::uint32_t max_deliveries{5};             ///< an entry delivered more often is dead-lettered
  std::size_t max_depth{10'000};               ///< a producer waits while the stream holds more entries; 0: never
  std::size_t records_per_entry{0};            ///< a producer puts this many records in one entry; 0: a whole batch
  std::chrono::milliseconds trim_interval{1000};  ///< how often acknowledged entries are trimmed
  /// A producer's durability: after each add, WAIT until this many replicas acknowledged it
  /// (0: do not wait). An add that fewer replicas took within `replica_timeout` fails
  /// `transient` (its entries stay on the primary; the runner's retry adds nothing twice and
  /// waits again), so a failover to an up-to-date replica cannot lose an entry the producer
  /// counted as added. Costs a round trip and the replication delay per add.
  std::uint32_t wait_replicas{0};
  std::chrono::milliseconds replica_timeout{1000};
  logger log{};
  metrics_registry* metrics{nullptr};          ///< gauges pipeline_redis_stream_depth / _pending, if set
};

/// How much work a queue holds: entries not yet delivered to any worker (`lag`) and entries
/// delivered but not acknowledged (`pending`).
struct stream_depth {
  std::uint64_t lag = 0;
  std::uint64_t pending = 0;
  [[nodiscard]] auto total() const noexcept -> std::uint64_t { return lag + pending; }
};

}  // namespace pipeline::redis
