#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/mysql/database.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline::mysql {

namespace detail {
class connection;
}

/// What a `table_sink` does with a row whose PRIMARY KEY or UNIQUE key is already there.
enum class write_mode : std::uint8_t {
  /// INSERT: the duplicate fails the batch (1062, `permanent`), so the runner dead-letters
  /// it. Not idempotent: use it where keys cannot repeat, or with write_with_checkpoint.
  insert,
  /// INSERT IGNORE: the first row stays, later ones are skipped. Beware: MySQL's IGNORE also
  /// turns other errors (a value too long, a NULL into NOT NULL) into warnings and stores a
  /// cut or default value. For "insert if absent" with every other check kept, prefer
  /// `upsert` with no update or add columns.
  insert_ignore,
  /// INSERT … ON DUPLICATE KEY UPDATE `u` = VALUES(`u`) for each update column and
  /// `a` = `a` + VALUES(`a`) for each add column (`k` = `k` for the first column when
  /// both are empty: nothing changes). Idempotent with update columns only; add columns
  /// count a batch written twice twice (use write_with_checkpoint for those).
  upsert,
};

/// Where and how a `table_sink` writes. Every name is an identifier
/// ([A-Za-z_][A-Za-z0-9_]{0,63}), backtick-quoted in the SQL.
struct table_sink_options {
  /// The table; it must exist (its keys, constraints and types stay the user's choice).
  std::string table{};
  /// The record fields written, in this order, to the columns of the same names. A field a
  /// record lacks is written as NULL; fields not listed are ignored.
  std::vector<std::string> columns{};
  write_mode mode{write_mode::insert};
  /// upsert: columns set to the new row's value.
  std::vector<std::string> update_columns{};
  /// upsert: counters the new row's value is added to.
  std::vector<std::string> add_columns{};
  /// Rows sent per execution of the array-bound INSERT (one COM_STMT_BULK_EXECUTE packet,
  /// which must fit the server's max_allowed_packet).
  std::size_t rows_per_statement{1000};
  /// The checkpoint table `write_with_checkpoint` updates (created there when missing): the
  /// table of the `checkpoint_store` that loads the checkpoint back.
  std::string checkpoint_table{"pipeline_checkpoints"};
};

/// Writes records as rows of a MySQL table: one transaction per batch, the rows sent with
/// array binding (STMT_ATTR_ARRAY_SIZE: one prepared INSERT executed for up to
/// `rows_per_statement` rows at once).
///
/// A write is all-or-nothing: a row the server refuses rolls the batch back, and the error
/// keeps the server's code and message (1062 duplicate, 1406 too long, 1366 bad value, 1264
/// out of range, 1048 NULL: `permanent`), so the runner bisects and dead-letters the row.
/// Deadlocks and lost connections are `transient` (retried; a lost connection is replaced).
/// Values: null → NULL; bool → 0/1; int64 → BIGINT; double → DOUBLE; string → text; bytes →
/// binary; timestamp → DATETIME(6) in UTC (`invalid_input` outside the years 0000-9999). A
/// column whose values mix kinds in one batch is sent as text, which the server converts.
///
/// Contract: models `pipeline::sink` (value_type `pipeline::record`). Thread-safe: each write
/// borrows a pooled connection, so workers write in parallel. Blocking. A stop requested
/// before a write returns `stopped`; one requested during it takes effect at the next chunk
/// of rows and rolls the batch back.
///
///     auto sink = pipeline::mysql::table_sink::open(db, {.table = "counts",
///         .columns = {"id", "name", "count"}, .mode = pipeline::mysql::write_mode::upsert,
///         .update_columns = {"name"}, .add_columns = {"count"}}).value();
///     auto r = sink.write(std::span{rows}, stop);
class table_sink {
 public:
  using value_type = record;

  /// Prepares the statement once, which checks that the table and columns exist (a
  /// `permanent` error otherwise). Throws std::invalid_argument, before any SQL is sent, if
  /// `db` is null, a name is not an identifier, `columns` is empty or repeats a name,
  /// update/add columns are given for another mode than upsert or are not in `columns`, a
  /// column is both updated and added, or rows_per_statement is 0.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, const table_sink_options& options)
      -> result<table_sink>;

  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop) -> result<void>;

  /// Writes `records` and saves checkpoint `key` at `pos` in ONE transaction: the checkpoint
  /// moves from `expected_version` to the returned version exactly when the rows are stored.
  /// A stale `expected_version` is a `conflict` and nothing is written. Exactly-once without
  /// idempotent keys, for one writer per key writing in order. If the connection is lost
  /// during COMMIT (`transient`), calling again with the same arguments is safe: when the
  /// first COMMIT had landed, the call finds the checkpoint at `pos` and the next version
  /// and returns that version without writing the rows again.
  [[nodiscard]] auto write_with_checkpoint(std::span<const record> records, std::string_view key,
                                           const position& pos, std::uint64_t expected_version,
                                           std::stop_token stop) -> result<std::uint64_t>;

 private:
  table_sink(std::shared_ptr<database> db, std::string table, std::vector<std::string> columns, std::string sql,
             std::size_t rows_per_statement, std::string checkpoint_table) noexcept;

  [[nodiscard]] auto insert_rows(detail::connection& c, std::span<const record> records,
                                 const std::stop_token& stop) const -> result<void>;

  std::shared_ptr<database> db_;
  std::string table_;                 // quoted
  std::vector<std::string> columns_;  // field names, unquoted, in parameter order
  std::string insert_sql_;
  std::size_t rows_per_statement_;
  std::string checkpoint_table_;      // quoted
};

static_assert(pipeline::sink<table_sink>);

}  // namespace pipeline::mysql
