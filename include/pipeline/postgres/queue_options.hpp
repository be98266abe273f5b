#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <pipeline/log.hpp>

namespace pipeline::postgres {

/// Where a PostgreSQL queue lives and how its workers read it. Producers and workers of one
/// queue must agree on `table` (and `state_table`). A plain struct: every field has a working
/// default. Every name is an identifier ([A-Za-z_][A-Za-z0-9_]{0,63}), double-quoted in the SQL.
///
/// Tables: `table` holds one row per entry (docs/adapters/postgres.md, "Queue"), `state_table`
/// one row per queue (its closed flag), `batch_table` the exactly-once ledger (the table sink's
/// ledger table). The LISTEN/NOTIFY channel is named `table`.
struct queue_options {
  std::string table{"pipeline_queue"};
  std::string state_table{"pipeline_queue_state"};
  std::string batch_table{"pipeline_batches"};
  std::string consumer{};  ///< this worker's name (the claimer); empty: "<host>:<pid>:<n>"
  std::size_t read_count{4};  ///< entries (batches) per claim
  /// A claimed entry not acknowledged within this is claimable again (one delivery more).
  std::chrono::milliseconds visibility_timeout{30'000};
  std::uint32_t max_deliveries{5};  ///< an entry delivered more often is dead-lettered
  std::size_t max_depth{10'000};    ///< a producer waits while the queue holds more entries; 0: never
  std::size_t records_per_entry{0};  ///< a producer puts this many records in one entry; 0: a whole batch
  /// How often an idle worker looks at the table without being notified (a notification lost
  /// while its listening connection was down), and looks for entries whose claim expired.
  std::chrono::milliseconds recheck_interval{1000};
  logger log{};
};

/// How much work a queue holds: entries no worker holds a live claim on (`ready`: never
/// delivered, or their claim expired) and entries claimed and not acknowledged (`claimed`).
struct queue_depth {
  std::uint64_t ready = 0;
  std::uint64_t claimed = 0;
  [[nodiscard]] auto total() const noexcept -> std::uint64_t { return ready + claimed; }
};

}  // namespace pipeline::postgres
