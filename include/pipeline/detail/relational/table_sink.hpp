#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/dead_letter_sharing_sink.hpp>
#include <pipeline/detail/relational/dead_letter_table.hpp>
#include <pipeline/detail/relational/write_mode.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::detail::relational {

/// Where and how a `table_sink` writes. Every name is an identifier
/// ([A-Za-z_][A-Za-z0-9_]{0,63}), quoted in the SQL as the database quotes names.
struct table_sink_options {
  /// The table. It must exist unless `create_table` is set (then its keys, constraints and
  /// types are those given here).
  std::string table{};
  /// The record fields written, in this order, to the columns of the same names. A field a
  /// record lacks is written as NULL; fields not listed are ignored.
  std::vector<std::string> columns{};
  write_mode mode{write_mode::insert};
  /// upsert: the conflict target, the columns of a PRIMARY KEY or UNIQUE index (sqlite needs
  /// them; MySQL checks them and matches every unique key). create_table: the PRIMARY KEY.
  std::vector<std::string> key_columns{};
  /// upsert: columns set to the new row's value.
  std::vector<std::string> update_columns{};
  /// upsert: counters the new row's value is added to (a NULL on either side gives NULL).
  std::vector<std::string> add_columns{};
  /// Rows sent per execution of the bulk INSERT where the database takes many at once
  /// (MySQL: one array-bound COM_STMT_BULK_EXECUTE packet, which must fit the server's
  /// max_allowed_packet); sqlite inserts row by row and only checks it is not 0.
  std::size_t rows_per_statement{1000};
  /// The checkpoint table `write_with_checkpoint` updates (created there when missing): the
  /// table of the `checkpoint_store` that loads the checkpoint back.
  std::string checkpoint_table{"pipeline_checkpoints"};
  /// The batch ledger of exactly-once mode (`write_committed`), created at the first ledger
  /// call when missing: one row per committed batch of each job above its checkpoint.
  std::string batch_table{"pipeline_batches"};
  /// Create the table at `open` when it does not exist (CREATE TABLE IF NOT EXISTS): one
  /// column per entry of `columns`, typed by `column_types` or else the database's default
  /// type, and PRIMARY KEY (key_columns) when key columns are given. A table that exists is
  /// used as it is, never altered.
  bool create_table{false};
  /// create_table: the SQL type of a column, by name ({{"id", "BIGINT"}, {"name",
  /// "VARCHAR(64) NOT NULL"}}). Letters, digits, '_', spaces, commas and balanced parentheses
  /// only: it is DDL the user writes, never data. A column not named gets the database's
  /// default (sqlite: no declared type, so each value is kept as it is given; MySQL: LONGBLOB,
  /// and VARBINARY(255) for a key column, which an index needs bounded).
  std::map<std::string, std::string, std::less<>> column_types{};
};

/// A connection of the adapter's, held for one operation; defined in src/.
class connection;
/// More work done inside a table sink's transaction, after its rows (`write_committed` with a
/// step): another write that must commit with them or not at all, on the same connection.
using transaction_step = std::function<result<void>(connection&)>;

/// What a dialect checks rows against before it sends them (MySQL: the table's column
/// metadata), read once by `open`; defined by the dialect, in src/.
class row_check;
/// Whether a table sink's batch ledger table exists yet (created once, at the first ledger
/// call); shared by the moved copies of one sink. Defined in src/.
struct ledger_gate;

/// What a table sink runs, built and checked once by `open`.
struct sink_plan {
  std::string sql;                   ///< INSERT … VALUES (one row of placeholders) [upsert clause]
  std::string table;                 ///< quoted, for messages
  std::string table_name;            ///< the same, bare
  std::vector<std::string> columns;  ///< the record fields, unquoted, in parameter order
  std::size_t rows_per_statement{1000};
  std::string checkpoint_table;    ///< quoted
  std::string checkpoint_name;     ///< the same, bare
  std::string batch_table;          ///< quoted
  std::string batch_name;           ///< the same, bare
  std::shared_ptr<const row_check> check;  ///< null: the dialect checks nothing before sending
  bool refuses_duplicates{false};          ///< a plain INSERT (write_mode::insert)
  bool repeats_count{false};               ///< a rewritten batch adds again: a plain INSERT, or add columns
  /// `sql` as a statement that skips a row whose unique key is taken instead of failing
  /// (INSERT IGNORE); set with `refuses_duplicates` only.
  std::string skip_duplicates_sql;

  /// The value `row` gives column `column` (the field `columns[column]`), nullptr when it has
  /// none. The field at the same place is looked at first: a row built in column order (what
  /// a transform returns, most often) is bound without a scan by name.
  [[nodiscard]] auto value_of(const record& row, std::size_t column) const noexcept -> const value* {
    const auto& name = columns[column];
    if (column < row.size()) {
      const auto& at = *(row.begin() + static_cast<std::ptrdiff_t>(column));
      if (at.first == name) return &at.second;
    }
    return row.find(name);
  }
};

/// The table sink of every SQL adapter, written once over the adapter's dialect
/// (docs/relational.md); users name it `sqlite::table_sink`, `mysql::table_sink`.
///
/// One transaction per batch. `write` is all-or-nothing: a row the database refuses rolls the
/// batch back, and the error keeps the database's code and message and names the row.
/// `write_each` answers per record: the rows the database refuses are returned, by index,
/// with their reason, and the others commit in the one transaction (docs/relational.md says
/// how each dialect finds them). A value the database cannot hold as it is (NaN, a time
/// outside the years 0000-9999) is `invalid_input`.
///
/// With a `dead_letter_table` on the same `Database` object, it is a
/// `pipeline::dead_letter_sharing_sink`: `write`, `write_each` and `write_committed` take the
/// letters of a batch and insert them into that table in the transaction of the rows, so
/// `pipeline::run` commits such a batch once.
///
/// Contract: models `pipeline::per_record_sink` (value_type `pipeline::record`). Thread-safe;
/// blocking. A stop requested before a write returns `stopped` and writes nothing.
template <class Database>
class table_sink {
 public:
  using value_type = record;

  /// Creates the table when `create_table` asks for it, then prepares the statement, which
  /// checks that the table, the columns and (sqlite's upsert) a UNIQUE index on the key
  /// columns exist: a `permanent` error otherwise. Throws std::invalid_argument, before any
  /// SQL is sent, if `db` is null, a name is not an identifier, `columns` is empty or repeats
  /// a name, update/add columns are given for another mode than upsert (key columns: unless
  /// create_table), an upsert has no key columns where the database needs them, a
  /// key/update/add column or a column type is not for a column of `columns`, a column is a
  /// key and updated or added, or both updated and added, a column type is not plain type
  /// text, column types are given without create_table, or rows_per_statement is 0.
  [[nodiscard]] static auto open(std::shared_ptr<Database> db, const table_sink_options& options)
      -> result<table_sink>;

  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop) -> result<void>;

  /// Whether `dlq` writes through this sink's `Database` object, so that one transaction can
  /// hold its letters and this sink's rows.
  [[nodiscard]] auto shares_transactions_with(const dead_letter_table<Database>& dlq) const noexcept -> bool;
  /// The letters of `pipeline::dead_letter_sharing_sink`: inserted as `dlq.write` inserts
  /// them, in the transaction of the rows of the calls below, after the rows.
  using letters = letters_into<dead_letter_table<Database>>;
  /// `write`, and `shared` in the same transaction. Only when shares_transactions_with(shared.dlq).
  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop, letters shared) -> result<void>;

  /// Writes `records` in one transaction and returns the ones the database refused, in index
  /// order, each with its reason (`invalid_input` or `permanent`, the database's code and
  /// message naming the column); the others are committed, each once. An error for the whole
  /// call (a lost connection, a deadlock: `transient`; a stop) means nothing was committed.
  [[nodiscard]] auto write_each(std::span<const record> records, std::stop_token stop)
      -> result<std::vector<rejected_record>>;
  /// `write_each`, and `shared` committed with the rows it takes.
  [[nodiscard]] auto write_each(std::span<const record> records, std::stop_token stop, letters shared)
      -> result<std::vector<rejected_record>>;

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

  /// Whether `pipeline::run` writes this sink through its batch ledger: for a plain INSERT and
  /// for an upsert with add columns, where writing a batch again would add it again. An
  /// idempotent sink (INSERT IGNORE, upsert without add columns) is exactly-once without it.
  [[nodiscard]] auto is_transactional() const noexcept -> bool { return plan_.repeats_count; }

  /// Exactly-once mode (`pipeline::transactional_sink`): writes `records` and the ledger row of
  /// `entry` into `batch_table` in ONE transaction. An entry stored already commits nothing
  /// and succeeds (a retry after a lost COMMIT reply). A row the database refuses rolls both
  /// back, as for `write`. Works in every write mode; it is what makes a plain INSERT exact.
  [[nodiscard]] auto write_committed(std::span<const record> records, const committed_batch& entry,
                                     std::stop_token stop) -> result<void>;
  /// The same, with `also` run in the same transaction after the rows (only when `entry` is
  /// not stored yet): all three commit together or not at all. A queue acknowledges the
  /// entries the rows came from this way (`postgres::acknowledging_table_sink`).
  [[nodiscard]] auto write_committed(std::span<const record> records, const committed_batch& entry,
                                     std::stop_token stop, const transaction_step& also) -> result<void>;
  /// The same, with `shared` as the step.
  [[nodiscard]] auto write_committed(std::span<const record> records, const committed_batch& entry,
                                     std::stop_token stop, letters shared) -> result<void>;
  /// The ledger rows of `job`, in (run, sequence, slice) order.
  [[nodiscard]] auto committed_batches(std::string_view job, std::stop_token stop)
      -> result<std::vector<committed_batch>>;
  /// Deletes the ledger rows of `job` at or below (`run`, `sequence`): one DELETE.
  [[nodiscard]] auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                    std::stop_token stop) -> result<void>;

 private:
  table_sink(std::shared_ptr<Database> db, sink_plan plan, std::shared_ptr<ledger_gate> gate) noexcept
      : db_(std::move(db)), plan_(std::move(plan)), gate_(std::move(gate)) {}

  // The writes, with `also` (when not null) run in their transaction after the rows.
  auto write_rows_then(std::span<const record> records, const std::stop_token& stop, const transaction_step* also)
      -> result<void>;
  auto write_each_then(std::span<const record> records, const std::stop_token& stop, const transaction_step* also)
      -> result<std::vector<rejected_record>>;
  // The step that inserts `shared` into its table.
  static auto letters_step(const letters& shared) -> transaction_step;

  std::shared_ptr<Database> db_;
  sink_plan plan_;
  std::shared_ptr<ledger_gate> gate_;
};

/// Stands for each adapter's database in the check below: the concept holds whatever the
/// database is, since only the members' declarations are read.
struct any_database;
static_assert(pipeline::per_record_sink<table_sink<any_database>>);
static_assert(pipeline::transactional_sink<table_sink<any_database>>);
static_assert(pipeline::dead_letter_sharing_sink<table_sink<any_database>, dead_letter_table<any_database>>);

}  // namespace pipeline::detail::relational
