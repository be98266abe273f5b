#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_acks.hpp>
#include <pipeline/detail/queue_entry.hpp>
#include <pipeline/detail/queue_source.hpp>
#include <pipeline/detail/relational/table_sink.hpp>
#include <pipeline/detail/tracked_entries.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/postgres/queue_options.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::postgres {

/// One queue entry as a worker receives it (its id and origin are the row's id as text).
using queue_entry = pipeline::detail::queue_entry;

/// The worker side of a PostgreSQL queue: claims entries, reclaims the ones whose claim
/// expired, acknowledges (deletes) them, and sleeps on LISTEN while the queue is empty.
///
/// `read` claims up to `read_count` entries never delivered (`SELECT … FOR UPDATE SKIP LOCKED`
/// in an UPDATE that sets the claimer, the delivery count and `visible_at` = now +
/// `visibility_timeout`): two workers never hold one entry at once, and none waits on another's
/// locks. Every `recheck_interval` it first looks for an entry whose claim expired (a crashed,
/// stalled or cut-off worker) and claims it, one delivery more. A reclaimed entry is a
/// suspect, handled as `redis::stream_consumer` handles one, so that a poison record takes
/// nothing else down with it: a reclaimed entry of several records is split into one entry per
/// record (in one transaction: the original deleted, each record added with its origin), and
/// a reclaimed entry of one record is claimed only once every entry this consumer read before
/// is acknowledged, and nothing more is read until it is. An entry delivered more than
/// `max_deliveries` times is dead-lettered by `queue_source` with the reason.
///
/// When nothing is claimable, `read` returns nullopt if the producer closed the queue and the
/// table is empty (no entry undelivered or claimed anywhere: a worker that still holds entries
/// may crash, and then they are reclaimed here); otherwise it waits for a notification on its
/// own listening connection (poll on the socket in slices of 100 ms, so `stop` ends the wait
/// within about that), at most `recheck_interval`, and looks again. A listening connection
/// that is lost is opened again at the next wait, and the table looked at at once.
///
/// Entries are tracked by a number given to each read (`track`/`ack_through`), so the runner's
/// checkpoint — which advances only past batches that are in the sink or the DLQ — acknowledges
/// them (`queue_acks`): the DELETE only after the sink or DLQ write succeeded. Once the queue is
/// closed, acknowledgements notify the channel, so that idle workers see the drained queue at
/// once rather than at their next recheck. With an
/// `acknowledging_table_sink` on the same database the DELETE is instead part of the sink's
/// own transaction (`acknowledgement`).
///
/// Holds its listening connection; claims and acknowledgements borrow pooled connections of
/// `db`. Thread-safety: `read` from one thread at a time; `track`, `ack_through` and `depth`
/// from any thread.
class queue_consumer {
 public:
  /// Creates the queue's tables when missing and opens the listening connection. Throws
  /// std::invalid_argument if `db` is null, a name is not an identifier, or `read_count`,
  /// `max_deliveries` or a duration is 0.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, queue_options options)
      -> result<std::unique_ptr<queue_consumer>>;
  ~queue_consumer();
  queue_consumer(const queue_consumer&) = delete;
  auto operator=(const queue_consumer&) -> queue_consumer& = delete;

  /// The next entries, nullopt when the queue is closed and drained, `stopped` on stop.
  [[nodiscard]] auto read(std::stop_token stop) -> result<std::optional<std::vector<queue_entry>>>;

  /// Remembers `ids` under a new number (numbers increase from 1) for `ack_through`.
  [[nodiscard]] auto track(std::vector<std::string> ids) -> std::uint64_t;
  /// Acknowledges (deletes, in one transaction) every tracked entry with a number up to
  /// `number`.
  [[nodiscard]] auto ack_through(std::uint64_t number) -> result<void>;

  /// The deletion of the entries tracked under `number`, for a table sink to run in its own
  /// transaction (`acknowledging_table_sink`): their acknowledgement commits with the rows.
  /// Call `acknowledged(number)` once that transaction committed.
  [[nodiscard]] auto acknowledgement(std::uint64_t number) -> pipeline::detail::relational::transaction_step;
  /// Forgets the entries tracked under `number`: acknowledged by someone else's transaction.
  void acknowledged(std::uint64_t number);

  [[nodiscard]] auto depth() -> result<queue_depth>;

  [[nodiscard]] auto options() const noexcept -> const queue_options& { return options_; }
  /// The queue's table, for messages.
  [[nodiscard]] auto name() const noexcept -> const std::string& { return options_.table; }

 private:
  queue_consumer(std::shared_ptr<database> db, queue_options options);
  auto reclaim(const std::stop_token& stop) -> result<std::optional<queue_entry>>;
  auto claim_new() -> result<std::vector<queue_entry>>;
  auto closed_and_drained() -> result<bool>;
  auto wait_for_entries(const std::stop_token& stop) -> result<void>;

  std::shared_ptr<database> db_;
  queue_options options_;
  std::unique_ptr<detail::connection> listener_;  // LISTENs on the queue's channel; null: to reopen
  std::chrono::steady_clock::time_point next_reclaim_{};
  bool suspect_in_flight_ = false;  // the last read returned a reclaimed entry
  std::atomic<bool> closed_seen_{false};  // the queue was found closed: acknowledgements notify

  pipeline::detail::tracked_entries tracked_;
};

/// The checkpoint store a worker's run uses so that its checkpoint acknowledges entries
/// (`pipeline::detail::queue_acks`). Models `pipeline::checkpoint_store`; thread-safe.
using queue_acks = pipeline::detail::queue_acks<queue_consumer>;

/// The source a worker's run reads (`pipeline::detail::queue_source`): the entries a
/// `queue_consumer` claims, decoded with `Codec`. A record's position is "<row id>#<index>" of
/// the row it was first added in.
template <class T, class Codec = record_codec>
using queue_source = pipeline::detail::queue_source<T, Codec, queue_consumer>;
static_assert(pipeline::seekable_source<queue_source<record>>);

}  // namespace pipeline::postgres
