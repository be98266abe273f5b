#pragma once

#include <memory>

#include <pipeline/basic_entry_producer.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/postgres/queue_options.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::postgres {

/// Adds framed batches to a PostgreSQL queue table: the producer side of a distributed queue
/// whose workers use `queue_consumer`; a `pipeline::basic_entry_producer` (which documents the
/// operations).
///
/// `open` creates the queue's tables when missing and clears its closed flag. `add` and
/// `add_all` wait, polling, while the table holds more than `max_depth` entries, then INSERT
/// the entries (all of an `add_all` in one statement) and notify the queue's channel
/// (pg_notify) in the same statement, so a worker is woken exactly when the entries are
/// visible. `close` sets the closed flag and notifies too.
///
/// An add whose reply was lost (the connection dropped during its commit) may have added its
/// entries; a retry adds them again: delivery is at least once and sinks are idempotent.
/// Unless the producer's run is exactly-once: then `add_committed` commits a batch's entries
/// and its row in the batch ledger (`batch_table`, the table sink's ledger, shared code) in
/// one transaction, so every record is on the queue once.
///
/// Thread-safe: each call borrows a pooled connection of `db`. Blocking. Copies share one
/// producer.
class queue_producer : public pipeline::basic_entry_producer {
 public:
  /// Throws std::invalid_argument if `db` is null or a name is not an identifier.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, queue_options options) -> result<queue_producer>;

  /// How much work the queue holds, counted in one query.
  [[nodiscard]] auto depth() -> result<queue_depth>;

  [[nodiscard]] auto options() const noexcept -> const queue_options& { return *options_; }

 private:
  queue_producer(std::shared_ptr<pipeline::detail::entry_producer_backend> backend,
                 const queue_options& options) noexcept;

  const queue_options* options_;  // the backend's, which every copy shares
};

/// The sink a producer's run writes to (`pipeline::detail::queue_sink` says how batches become
/// entries): here an entry is a row of the queue table, a batch's rows are added in one
/// statement and, exactly-once, commit with the ledger row in one transaction.
template <class T, class Codec = record_codec>
using queue_sink = pipeline::detail::queue_sink<T, Codec, queue_producer>;
static_assert(pipeline::transactional_sink<queue_sink<record>>);

}  // namespace pipeline::postgres
