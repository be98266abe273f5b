#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <pipeline/basic_dead_letter_store.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail::relational {

template <class Database>
class table_sink;

struct dead_letter_table_options {
  /// The table, created by `open` when missing; its columns, types and unique key are the
  /// adapter's (pipeline/sqlite/dead_letter_table.hpp, pipeline/mysql/dead_letter_table.hpp).
  std::string table{"pipeline_dead_letters"};
};

/// The dead-letter queue of every SQL adapter, written once over the adapter's dialect
/// (docs/relational.md); users name it `sqlite::dead_letter_table`, `mysql::dead_letter_table`.
///
/// One row per entry, read back in order for replay: its payload and position byte for byte,
/// the error's kind (as `to_string` names it), message, native code and backend, the attempt
/// count, the partition, the time (UTC, to the microsecond) and the job. Ids increase in write
/// order. A table an older version made without the `job` column gets it when opened (its old
/// rows read back with an empty job).
///
/// Idempotent for replayed batches: after a crash (or a lost COMMIT reply) the runner
/// dead-letters a batch again, with the same letters in the same order; an entry whose
/// partition, position, payload hash and repeat count within its `write` call are stored
/// already is skipped, so the table holds each rejected record once. Two equal payloads in one
/// call stay two entries.
///
/// A `pipeline::basic_dead_letter_store` for replay: `read` with a filter is one SELECT …
/// WHERE … ORDER BY id LIMIT n (ids are the `id` column in decimal); `resolve` DELETEs the rows
/// (a resolved letter is gone, not kept as history); `record_failure` UPDATEs attempts and
/// reason; `purge` is one DELETE … WHERE and returns how many rows. Each of `write`, `resolve`
/// and `record_failure` is one transaction.
///
/// Contract: one transaction per `write` (all entries or none). A `table_sink` on the same
/// `Database` object can insert a batch's entries in the transaction of its rows instead
/// (`pipeline::dead_letter_sharing_sink`). Thread-safe (through the shared `Database`);
/// copies share one table. Blocking. A row that does not read back as an entry (edited by
/// hand) is a `permanent` error naming its id.
template <class Database>
class dead_letter_table : public pipeline::basic_dead_letter_store {
 public:
  /// Creates the table if it is missing. Throws std::invalid_argument if `db` is null or the
  /// table name is not an identifier, before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<Database> db, const dead_letter_table_options& options = {})
      -> result<dead_letter_table>;

  using basic_dead_letter_store::read;
  /// Up to `limit` entries with an id above `after_id`, by increasing id, with their ids.
  [[nodiscard]] auto read(std::int64_t after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::int64_t, dead_letter>>>;

 private:
  template <class>
  friend class table_sink;  // inserts letters into the table in its transactions (same `Database`)

  explicit dead_letter_table(std::shared_ptr<pipeline::detail::dead_letter_backend> backend) noexcept
      : basic_dead_letter_store(std::move(backend)) {}
};

/// Stands for each adapter's database in the check below: the concept holds whatever the
/// database is, since only the members' declarations are read.
struct any_database;
static_assert(pipeline::dead_letter_store<dead_letter_table<any_database>>);

}  // namespace pipeline::detail::relational
