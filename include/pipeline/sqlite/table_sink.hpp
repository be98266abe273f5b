#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

namespace detail {
class session;
}

/// What a `table_sink` does with a row whose key is already in the table.
enum class write_mode : std::uint8_t {
  /// INSERT: the row fails the batch (a UNIQUE or PRIMARY KEY constraint: `permanent`), so
  /// the runner dead-letters it. Not idempotent: use it only where keys cannot repeat.
  insert,
  /// INSERT OR IGNORE: the first row stays and later ones are skipped. Beware: sqlite's
  /// IGNORE also skips rows that break a NOT NULL or CHECK constraint, silently. For "insert
  /// if absent" prefer `upsert` with no update or add columns (ON CONFLICT … DO NOTHING),
  /// which skips only rows whose key exists and fails on every other constraint.
  insert_or_ignore,
  /// INSERT … ON CONFLICT (key_columns) DO UPDATE SET `u` = excluded.`u` for each update
  /// column and `a` = `a` + excluded.`a` for each add column (DO NOTHING when both are
  /// empty). Idempotent when only update columns are given; add columns count a batch
  /// written twice twice (see write_with_checkpoint).
  upsert,
};

/// Where and how a `table_sink` writes. Every name is an identifier
/// ([A-Za-z_][A-Za-z0-9_]{0,63}), double-quoted in the SQL.
struct table_sink_options {
  /// The table: it must exist (the sink does not create it, so that its keys, constraints
  /// and types stay the user's choice).
  std::string table{};
  /// The record fields written, in this order, to the columns of the same names. A field
  /// that a record lacks is written as NULL; fields not listed here are ignored.
  std::vector<std::string> columns{};
  write_mode mode{write_mode::insert};
  /// upsert: the conflict target, the columns of a PRIMARY KEY or UNIQUE index.
  std::vector<std::string> key_columns{};
  /// upsert: columns set to the new row's value.
  std::vector<std::string> update_columns{};
  /// upsert: counters the new row's value is added to (a NULL on either side gives NULL).
  std::vector<std::string> add_columns{};
  /// The checkpoint table `write_with_checkpoint` updates (created there when missing): the
  /// table of the `checkpoint_store` that loads the checkpoint back.
  std::string checkpoint_table{"pipeline_checkpoints"};
};

/// Writes records as rows of a sqlite table, one transaction per batch.
///
/// A write is all-or-nothing: a row that sqlite refuses rolls the whole batch back, and the
/// error names the row (0-based index in the batch), the table and sqlite's message, with
/// the extended result code (SQLITE_CONSTRAINT_CHECK, …), so that the runner's bisection
/// finds the row and dead-letters it. Values: null → NULL; bool → INTEGER 0/1; int64 →
/// INTEGER; double → REAL (NaN is `invalid_input`, since sqlite would store NULL); string →
/// TEXT (UTF-8, embedded NULs kept); bytes → BLOB; timestamp → TEXT
/// "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC (`invalid_input` outside the years 0000-9999).
///
/// Contract: models `pipeline::sink` (value_type `pipeline::record`). Thread-safe: writes
/// from many workers are serialised on the shared `database`. Blocking; waits up to the
/// database's busy_timeout for another process's write lock (then `transient`). A stop
/// requested before or during a write rolls it back and returns `stopped`.
///
///     auto sink = pipeline::sqlite::table_sink::open(db, {.table = "listings",
///         .columns = {"id", "price", "seen"}, .mode = pipeline::sqlite::write_mode::upsert,
///         .key_columns = {"id"}, .update_columns = {"price"}, .add_columns = {"seen"}}).value();
///     auto r = sink.write(std::span{rows}, stop);
class table_sink {
 public:
  using value_type = record;

  /// Prepares the statement, which checks that the table, the columns and (upsert) a UNIQUE
  /// index on the key columns exist: a `permanent` error otherwise. Throws
  /// std::invalid_argument, before any SQL is sent, if `db` is null, a name is not an
  /// identifier, `columns` is empty or repeats a name, key/update/add columns are given for
  /// another mode than upsert, upsert has no key columns, or a key/update/add column is not
  /// in `columns`, is a key and updated, or is both updated and added.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, const table_sink_options& options)
      -> result<table_sink>;

  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop) -> result<void>;

  /// Writes `records` and saves the checkpoint `key` at `pos` in ONE transaction: the
  /// checkpoint moves from `expected_version` to the returned version exactly when the rows
  /// are stored. A stale `expected_version` is a `conflict` and nothing is written; a failed
  /// row leaves the checkpoint where it was. Exactly-once without idempotent keys (insert,
  /// add columns): after a crash the source resumes from the checkpoint committed with the
  /// last rows, so no row is written twice. The batches of one key must be written in order
  /// by one writer; the version fence turns a second writer away with `conflict`.
  [[nodiscard]] auto write_with_checkpoint(std::span<const record> records, std::string_view key,
                                           const position& pos, std::uint64_t expected_version,
                                           std::stop_token stop) -> result<std::uint64_t>;

 private:
  table_sink(std::shared_ptr<database> db, std::string table, std::vector<std::string> columns, std::string sql,
             std::string checkpoint_table) noexcept;

  // Binds and inserts every record; the caller holds the transaction.
  [[nodiscard]] auto insert_rows(detail::session& s, std::span<const record> records,
                                 const std::stop_token& stop) const -> result<void>;

  std::shared_ptr<database> db_;
  std::string table_;                 // quoted
  std::vector<std::string> columns_;  // the field names, unquoted, in parameter order
  std::string insert_sql_;
  std::string checkpoint_table_;      // quoted
};

static_assert(pipeline::sink<table_sink>);

}  // namespace pipeline::sqlite
