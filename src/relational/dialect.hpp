#pragma once

// What a relational adapter provides so that the checkpoint store, dead-letter table, job log
// and table sink in src/relational/ work on it (SOCI's backend split): a `dialect` (how its
// SQL is spelt and what its store tables look like) and a `connection` with its `statement`s
// (how SQL runs, with the adapter's own error classification, and its bulk insert path).
// Private to src/: no C client header here, and none in what includes it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/relational/table_sink.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline::detail::relational {

class connection;

/// The tables of the stores the layer keeps.
enum class store_table : std::uint8_t { checkpoints, dead_letters, job_runs, batches };

/// How one SQL dialect spells what the shared layer asks of it. Stateless and immutable: one
/// instance per adapter, shared by every thread.
class dialect {
 public:
  virtual ~dialect() = default;

  /// The adapter's name, which starts the `who` of each argument check ("sqlite").
  [[nodiscard]] virtual auto name() const noexcept -> std::string_view = 0;
  /// An identifier (already checked to be [A-Za-z_][A-Za-z0-9_]{0,63}) quoted for SQL.
  [[nodiscard]] virtual auto quote(std::string_view identifier) const -> std::string = 0;
  /// Parameter `n` (from 1). Each parameter appears once, in order, so `?` and `?n` both fit.
  [[nodiscard]] virtual auto placeholder(std::size_t n) const -> std::string = 0;
  /// The INSERT that skips rows whose key exists, `into` being its "INTO t (…) VALUES (…)":
  /// "INSERT OR IGNORE <into>", "INSERT IGNORE <into>", "INSERT <into> ON CONFLICT DO NOTHING".
  [[nodiscard]] virtual auto insert_ignore(std::string_view into) const -> std::string = 0;
  /// What follows INSERT INTO `table` (`columns`) VALUES (…) for an upsert: on a conflict over
  /// `keys` (a dialect that matches every unique key may ignore them, and may get none), set
  /// each of `updates` to the new row's value, add the new row's value to each of `adds`, and
  /// when both are empty change nothing (the row counts as not affected). Names are quoted.
  [[nodiscard]] virtual auto upsert_clause(std::string_view table, const std::vector<std::string>& columns,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& updates,
                                           const std::vector<std::string>& adds) const -> std::string = 0;
  /// Whether an upsert must name its conflict target (sqlite's ON CONFLICT (…) does).
  [[nodiscard]] virtual auto upsert_needs_keys() const noexcept -> bool = 0;
  /// Whether a COMMIT may land with its reply lost (a network server): then a checkpoint save
  /// that finds its own position at the next version counts as done, so a retry is safe.
  [[nodiscard]] virtual auto commits_can_be_lost() const noexcept -> bool = 0;

  /// The column type of a table the table sink creates, for a column the user gave no type:
  /// `key` for a PRIMARY KEY column. May be empty (sqlite: no declared type).
  [[nodiscard]] virtual auto default_column_type(bool key) const -> std::string_view = 0;
  /// What follows CREATE TABLE name (…) ("ENGINE=InnoDB"); may be empty.
  [[nodiscard]] virtual auto table_options() const -> std::string_view = 0;

  /// Creates the table of store `which` when it is missing (CREATE … IF NOT EXISTS, with its
  /// indexes), `quoted` being its quoted name and `table` its bare one (for index names). The
  /// columns are the store's, their types the dialect's (the adapter's headers list them). A
  /// dialect may add to a table an older version made what it lacks.
  [[nodiscard]] virtual auto create_store_table(connection& c, store_table which, std::string_view table,
                                                std::string_view quoted) const -> result<void> = 0;

  /// The dead-letter table's identity column (after `time`), its value for a letter whose
  /// shared fingerprint is `fingerprint`, and the unique key (quoted columns) that the
  /// identity completes: an entry whose key is stored already is skipped.
  [[nodiscard]] virtual auto dead_letter_identity_column() const -> std::string_view = 0;
  [[nodiscard]] virtual auto dead_letter_identity(const dead_letter& letter, std::string_view fingerprint) const
      -> std::string = 0;
  [[nodiscard]] virtual auto dead_letter_key() const -> std::vector<std::string> = 0;
};

/// What a dialect knows of a table sink's table, read once when the sink opens: the rows the
/// table would refuse can be found without sending them. Immutable: shared by every writer.
class row_check {
 public:
  virtual ~row_check() = default;
  /// The rows of `rows` (bound for `plan`'s columns) the table would refuse, in index order,
  /// each with a reason like the database's own (`invalid_input`, its code, the column and the
  /// rule). Only rows it is sure of: a row it passes may still be refused by the database.
  [[nodiscard]] virtual auto refused(const sink_plan& plan, std::span<const record> rows) const
      -> std::vector<rejected_record> = 0;
  /// For a plain INSERT the database refused: the rows of `rows` whose value of one of the
  /// table's unique keys is stored already or taken by an earlier row of `rows`, in index
  /// order, with the database's duplicate-key reason. One query for the stored ones; values
  /// the database may see as equal that compare unequal here (a case-insensitive collation)
  /// are not found, so a row it passes may still be a duplicate.
  [[nodiscard]] virtual auto duplicates(connection& c, const sink_plan& plan, std::span<const record> rows) const
      -> result<std::vector<rejected_record>> = 0;
};

/// A prepared statement of one connection: bind parameters 1 … n in the order of their
/// placeholders, `execute`, then (a query) read the rows with `next_row` and the accessors;
/// bind and execute again for the next set of values. Not thread-safe; valid while its
/// connection is. A bind that fails is reported by `execute`.
class statement {
 public:
  virtual ~statement() = default;

  virtual void bind_int64(int index, std::int64_t v) = 0;
  /// Text the stores keep (keys, names, messages): TEXT in sqlite; bytes in MySQL, whose
  /// store columns are binary (kept byte for byte, compared without a collation).
  virtual void bind_text(int index, std::string_view v) = 0;
  /// Bytes kept as they are (payloads, positions).
  virtual void bind_bytes(int index, std::string_view v) = 0;
  /// A time, kept to the microsecond in the dialect's own way (UTC).
  virtual void bind_time(int index, std::chrono::system_clock::time_point t) = 0;
  /// A record's field, bound as the table sink binds it; a value the database cannot hold as
  /// it is makes `execute` fail with `invalid_input`.
  virtual void bind_value(int index, const value& v) = 0;

  /// Runs the statement; `context` starts the message of its error.
  [[nodiscard]] virtual auto execute(std::string_view context) -> result<void> = 0;
  /// Moves to the next row of a query: false after the last.
  [[nodiscard]] virtual auto next_row() -> result<bool> = 0;
  /// Rows an INSERT, UPDATE or DELETE changed (an upsert that changed nothing: 0).
  [[nodiscard]] virtual auto affected_rows() const -> std::uint64_t = 0;
  /// The id an INSERT gave its row (AUTOINCREMENT, AUTO_INCREMENT).
  [[nodiscard]] virtual auto last_insert_id() const -> std::uint64_t = 0;

  /// Column `column` (from 0) of the current row: an integer (nullopt: NULL or not one),
  /// text or bytes (empty for NULL, valid until the next row), a time (nullopt: NULL or not
  /// one).
  [[nodiscard]] virtual auto int64_at(int column) const -> std::optional<std::int64_t> = 0;
  [[nodiscard]] virtual auto text_at(int column) const -> std::string_view = 0;
  [[nodiscard]] virtual auto time_at(int column) const -> std::optional<timestamp> = 0;
};

/// One connection held for one operation (a lock, a pooled connection), released when
/// destroyed. Not thread-safe: one user at a time.
class connection {
 public:
  virtual ~connection() = default;

  [[nodiscard]] virtual auto sql_dialect() const noexcept -> const dialect& = 0;
  /// Runs SQL without parameters or rows (DDL).
  [[nodiscard]] virtual auto execute(std::string_view sql) -> result<void> = 0;
  /// Prepares `sql`, which checks that its tables and columns exist.
  [[nodiscard]] virtual auto prepare(std::string_view sql) -> result<std::unique_ptr<statement>> = 0;

  [[nodiscard]] virtual auto begin() -> result<void> = 0;
  [[nodiscard]] virtual auto commit() -> result<void> = 0;
  /// Best effort, and nothing when nothing is open any more (a lost connection, a
  /// transaction the database rolled back itself).
  virtual void rollback() noexcept = 0;

  /// The bulk path: inserts `rows` with `plan`'s statement inside the caller's transaction.
  /// A row that fails ends it with an error naming the row and the table; a value the
  /// dialect cannot hold as it is is `invalid_input`; a stop requested before a row (or a
  /// chunk of rows) is `stopped`.
  [[nodiscard]] virtual auto insert_rows(const sink_plan& plan, std::span<const record> rows,
                                         const std::stop_token& stop) -> result<void> = 0;

  /// What rows of `plan`'s table are checked against before they are sent (read once, at
  /// open); null (this default) when the dialect checks nothing: each row is checked by the
  /// database as it is sent.
  [[nodiscard]] virtual auto read_row_check(const sink_plan& /*plan*/) -> result<std::shared_ptr<const row_check>> {
    return std::shared_ptr<const row_check>{};
  }

  /// For a plain INSERT, inside the caller's transaction: sends `rows` by
  /// `plan.skip_duplicates_sql`, so that a row whose unique key is taken is skipped instead of
  /// failing the statement, and returns the skipped rows, in index order, with the database's
  /// reason. nullopt when the outcome cannot be vouched for (a row skipped or changed for
  /// another reason, skipped rows that cannot be told apart): the caller undoes what was sent
  /// (ROLLBACK TO SAVEPOINT) and finds the refused rows another way; so it does after an
  /// error. A dialect that cannot skip keeps this default: the rows sent as they are, all
  /// taken (none skipped) or refused (the error).
  [[nodiscard]] virtual auto insert_skipping_duplicates(const sink_plan& plan, std::span<const record> rows,
                                                        const std::stop_token& stop)
      -> result<std::optional<std::vector<rejected_record>>> {
    if (auto sent = insert_rows(plan, rows, stop); !sent) return std::move(sent).error();
    return std::optional{std::vector<rejected_record>{}};
  }

  /// The per-record path, inside the caller's transaction: inserts the rows the database
  /// accepts and returns the others, in index order, with their reasons (bad data only:
  /// `invalid_input` or `permanent`). An error means the transaction must be rolled back.
  [[nodiscard]] virtual auto insert_each(const sink_plan& plan, std::span<const record> rows,
                                         const std::stop_token& stop) -> result<std::vector<rejected_record>> = 0;
};

using connection_ptr = std::unique_ptr<connection>;

/// Runs `body()` (returning a `result`) in one transaction of `c`: committed when it succeeds,
/// rolled back when it fails, throws, or the commit fails.
template <class Body>
[[nodiscard]] auto in_transaction(connection& c, Body&& body) -> decltype(body()) {
  if (auto begun = c.begin(); !begun) return std::move(begun).error();
  struct rollback_unless_committed {
    connection* open;
    ~rollback_unless_committed() {
      if (open != nullptr) open->rollback();
    }
  } guard{&c};
  auto out = body();
  if (!out) return out;
  if (auto committed = c.commit(); !committed) return std::move(committed).error();
  guard.open = nullptr;
  return out;
}

}  // namespace pipeline::detail::relational
