#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/postgres/queue_options.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::detail::relational {
struct ledger_gate;
}  // namespace pipeline::detail::relational

namespace pipeline::postgres {

/// Adds framed batches to a PostgreSQL queue table: the producer side of a distributed queue
/// whose workers use `queue_consumer`.
///
/// `open` creates the queue's tables when missing and clears its closed flag. `add` waits,
/// polling, while the table holds more than `max_depth` entries (a fast producer waits for slow
/// workers), then INSERTs the entries and notifies the queue's channel (pg_notify) in the same
/// statement, so a worker is woken exactly when the entries are visible.
///
/// An add whose reply was lost (the connection dropped during its commit) may have added its
/// entries; a retry adds them again: delivery is at least once and sinks are idempotent.
/// Unless the producer's run is exactly-once (`runner_options::exactly_once`, which
/// `queue_sink` supports through the three ledger calls below): then each batch's entries
/// and its row in the batch ledger (`batch_table`, the table sink's ledger, shared code)
/// commit in one transaction, and a batch the ledger holds is not added again: a restarted
/// producer skips what its killed predecessor added after its last checkpoint, so every
/// record is on the queue once.
///
/// Thread-safe: each call borrows a pooled connection of `db`. Blocking.
class queue_producer {
 public:
  /// Throws std::invalid_argument if `db` is null or a name is not an identifier.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, queue_options options) -> result<queue_producer>;

  /// Adds one entry holding `frame`; returns its id. `stopped` when stopped while waiting.
  [[nodiscard]] auto add(const std::string& frame, std::stop_token stop) -> result<std::string>;
  /// Adds one entry per frame, in order, in one statement, after one depth check.
  [[nodiscard]] auto add_all(std::span<const std::string> frames, std::stop_token stop) -> result<void>;

  /// Adds one entry per frame and records `entry` in the batch ledger, in one transaction,
  /// after one depth check: both or neither. When the ledger holds `entry`'s identity already
  /// it adds nothing: success when the positions are the same, a `conflict` when they differ.
  [[nodiscard]] auto add_committed(std::span<const std::string> frames, const committed_batch& entry,
                                   std::stop_token stop) -> result<void>;
  /// Every ledger entry of `job`.
  [[nodiscard]] auto committed(std::string_view job, std::stop_token stop) -> result<std::vector<committed_batch>>;
  /// Deletes the ledger entries of `job` at or below (`run`, `sequence`).
  [[nodiscard]] auto forget(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> result<void>;

  /// Marks the queue closed (and notifies): workers that find it drained end their run as
  /// completed.
  [[nodiscard]] auto close() -> result<void>;

  [[nodiscard]] auto depth() -> result<queue_depth>;

  [[nodiscard]] auto options() const noexcept -> const queue_options& { return options_; }

 private:
  queue_producer(std::shared_ptr<database> db, queue_options options);
  auto wait_for_room(const std::stop_token& stop) -> result<void>;

  std::shared_ptr<database> db_;
  queue_options options_;
  std::shared_ptr<pipeline::detail::relational::ledger_gate> ledger_;  // the ledger table exists
};

/// The sink a producer's run writes to (`pipeline::detail::queue_sink` says how batches become
/// entries): here an entry is a row of the queue table, a batch's rows are added in one
/// statement and, exactly-once, commit with the ledger row in one transaction.
template <class T, class Codec = record_codec>
using queue_sink = pipeline::detail::queue_sink<T, Codec, queue_producer>;
static_assert(pipeline::transactional_sink<queue_sink<record>>);

}  // namespace pipeline::postgres
