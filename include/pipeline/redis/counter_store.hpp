#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/redis/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

struct counter_store_options {
  /// Keys: `<name>:live` (the hash counts go to), `<name>:flushing` (the counts being flushed),
  /// `<name>:flush_id` and `<name>:flush_seq`. Braces ("{errors}:counts") keep them in one slot.
  std::string name{"pipeline:counts"};
};

/// Counts taken out of `counter_store::begin_flush`, to be applied elsewhere and confirmed.
struct counter_flush {
  std::uint64_t id = 0;  ///< the same for every retry of this flush: apply it once per id
  std::vector<std::pair<std::string, std::int64_t>> counts;  ///< key and the sum added since the last flush

  [[nodiscard]] auto empty() const noexcept -> bool { return counts.empty(); }
};

/// Coalescing counters: many processes `add` to a key cheaply (HINCRBY); one flusher now and
/// then takes every count out and applies it elsewhere (a `UPDATE … SET n = n + ?`).
///
/// A flush is two steps so that a flusher that dies mid-flush loses nothing: `begin_flush`
/// atomically moves the live counts under a flush key with a new flush id (a Lua script:
/// RENAME, so an `add` lands either in this flush or the next, never in both or neither), and
/// returns them; the flush key stays until `confirm_flush(id)`. A `begin_flush` while a flush
/// is unconfirmed returns that same flush, with the same id, again. To count nothing twice,
/// apply a flush and record its id in the same transaction, and skip ids already applied.
///
/// Contract: thread-safe and safe across processes; blocking. Concurrent `add`s on one store
/// (or its copies) share round trips: while one thread's HINCRBYs are on the wire, the adds
/// that arrive queue up and go together as one pipeline when it returns, so a store under N
/// concurrent callers costs about one round trip per N adds, not N (a group commit).
/// Errors as `client` describes; `confirm_flush` of an id that is not the pending flush is a
/// `conflict` error (another flusher confirmed it).
///
///     counters.add(fingerprint, 1);
///     auto f = counters.begin_flush().value();            // every 30 s, in one process
///     db.apply_once(f.id, f.counts);                     // idempotent by f.id
///     counters.confirm_flush(f.id).value();
class counter_store {
 public:
  /// Throws std::invalid_argument if `c` is null or the name is empty.
  counter_store(std::shared_ptr<client> c, counter_store_options options = {});

  /// Adds `delta` to `key`'s live count and returns the live count. As `client::pipeline`,
  /// a pipeline sent again after a lost connection may add twice.
  [[nodiscard]] auto add(std::string_view key, std::int64_t delta = 1) -> result<std::int64_t>;

  /// The live count of `key` (0 when none), not counting a flush in progress.
  [[nodiscard]] auto get(std::string_view key) -> result<std::int64_t>;

  /// The pending flush, or a new one made of every live count; empty (id 0) when there is nothing.
  [[nodiscard]] auto begin_flush() -> result<counter_flush>;

  /// Deletes the flush `id` after its counts were applied.
  [[nodiscard]] auto confirm_flush(std::uint64_t id) -> result<void>;

 private:
  struct add_queue;  // the adds waiting for the round trip in flight (shared with copies)

  std::shared_ptr<client> client_;
  std::shared_ptr<add_queue> adds_;
  std::string live_, flushing_, flush_id_, flush_seq_;
};

}  // namespace pipeline::redis
