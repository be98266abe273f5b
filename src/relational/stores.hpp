#pragma once

// The SQL of the relational stores and the table sink, written once against `dialect` and
// `connection` (dialect.hpp) and compiled into pipeline::core. Every function runs on the
// caller's connection, inside the caller's transaction when there is one; table names are
// quoted already.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/detail/relational/table_sink.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

#include "relational/dialect.hpp"

namespace pipeline::detail::relational {

/// The quoted name of the table a store or sink of `d` opens, after the checks made before
/// any SQL is sent: throws std::invalid_argument "<dialect>::<type>::open: …" when `has_db`
/// is false or `table` is not an identifier.
[[nodiscard]] auto checked_table(bool has_db, const dialect& d, std::string_view type, std::string_view table)
    -> std::string;

/// The stored checkpoint, or version 0 and an empty position.
[[nodiscard]] auto load_checkpoint(connection& c, std::string_view table, std::string_view key)
    -> result<checkpoint>;

/// What a save did: the new version, and whether this call stored it or found it stored.
struct saved_checkpoint {
  std::uint64_t version = 0;
  /// The row held `pos` at `expected_version + 1` already: an earlier attempt of this same save
  /// landed although its reply was lost (only where `commits_can_be_lost`). The save is done;
  /// a transaction that carried rows with it must not write them again.
  bool already_stored = false;
};

/// Stores `pos` as version `expected_version + 1` if the stored version is `expected_version`
/// (0: no row yet), in one statement; otherwise `conflict` naming the stored version and
/// nothing changed, unless the stored row is exactly what this save stores (above).
[[nodiscard]] auto save_checkpoint(connection& c, std::string_view table, std::string_view key, const position& pos,
                                   std::uint64_t expected_version) -> result<saved_checkpoint>;

/// Inserts `letters`, skipping those stored already (see relational::dead_letter_table).
[[nodiscard]] auto insert_dead_letters(connection& c, std::string_view table, std::span<const dead_letter> letters)
    -> result<void>;
[[nodiscard]] auto select_dead_letters(connection& c, std::string_view table, std::int64_t after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::int64_t, dead_letter>>>;
/// The dead_letter_store members (see relational::dead_letter_table); ids are the `id` column
/// in decimal, and one that is not is `invalid_input`.
[[nodiscard]] auto select_dead_letters(connection& c, std::string_view table, const dead_letter_filter& filter,
                                       const std::optional<std::string>& after_id, std::size_t limit)
    -> result<std::vector<stored_dead_letter>>;
[[nodiscard]] auto delete_dead_letters(connection& c, std::string_view table, std::span<const std::string> ids)
    -> result<void>;
[[nodiscard]] auto record_dead_letter_failures(connection& c, std::string_view table,
                                               std::span<const failed_replay> failures) -> result<void>;
[[nodiscard]] auto purge_dead_letters(connection& c, std::string_view table, const dead_letter_filter& filter)
    -> result<std::size_t>;
/// Adds `column` (`definition`: its type and default) to a table an older version created
/// without it; nothing when it is there. For a dialect's `create_store_table`.
[[nodiscard]] auto add_column_if_missing(connection& c, std::string_view quoted_table, std::string_view column,
                                         std::string_view definition) -> result<void>;

[[nodiscard]] auto insert_run(connection& c, std::string_view table, const job_run& run) -> result<std::uint64_t>;
/// `not_found` for an id that is not in the table; call it inside a transaction.
[[nodiscard]] auto update_run(connection& c, std::string_view table, const job_run& run) -> result<void>;
[[nodiscard]] auto select_runs(connection& c, std::string_view table, std::string_view job, std::size_t limit)
    -> result<std::vector<job_run>>;
// The values of a text column of `table` (the jobs of a job log, the keys of checkpoints), sorted.
[[nodiscard]] auto select_distinct(connection& c, std::string_view table, std::string_view column)
    -> result<std::vector<std::string>>;

/// The checked plan of a table sink; throws std::invalid_argument as table_sink::open says.
[[nodiscard]] auto plan_sink(bool has_db, const dialect& d, const table_sink_options& options) -> sink_plan;
/// Creates the table when the options ask for it, prepares the plan's INSERT, and reads the
/// dialect's row check into `plan.check`.
[[nodiscard]] auto open_sink(connection& c, const table_sink_options& options, sink_plan& plan) -> result<void>;
/// `also` on `c` when it is given (not null, not empty); ok otherwise.
[[nodiscard]] inline auto run_step(connection& c, const transaction_step* also) -> result<void> {
  return also != nullptr && *also ? (*also)(c) : ok();
}
/// One transaction: the rows, then `also` (run_step).
[[nodiscard]] auto write_rows(connection& c, const sink_plan& plan, std::span<const record> records,
                              const std::stop_token& stop, const transaction_step* also = nullptr) -> result<void>;
/// One transaction: the rows the database accepts (the others returned: connection::insert_each),
/// then `also` (run_step).
[[nodiscard]] auto write_rows_each(connection& c, const sink_plan& plan, std::span<const record> records,
                                   const std::stop_token& stop, const transaction_step* also = nullptr)
    -> result<std::vector<rejected_record>>;
/// An `insert_each` for a database whose failed statement can be undone alone within a
/// transaction: the rows `plan.check` refuses are never sent; the rest go by `insert_rows`
/// under a SAVEPOINT. If the database refuses that, it is rolled back to the savepoint; for a
/// plain INSERT the rows `plan.check` finds duplicate keys for are held back and the rest sent
/// in bulk again; if that too is refused, the rows are sent one statement each, so that each
/// bad row gets the database's own error and each good row is stored once.
[[nodiscard]] auto insert_checked_rows(connection& c, const sink_plan& plan, std::span<const record> rows,
                                       const std::stop_token& stop) -> result<std::vector<rejected_record>>;
[[nodiscard]] auto write_rows_with_checkpoint(connection& c, const sink_plan& plan, std::span<const record> records,
                                              std::string_view key, const position& pos,
                                              std::uint64_t expected_version, const std::stop_token& stop)
    -> result<std::uint64_t>;

/// Whether a batch ledger table exists yet: `ensure` creates it (outside any transaction: DDL
/// commits implicitly in MySQL) the first time, and only then. `name` is the table's bare name,
/// `quoted` the same quoted.
struct ledger_gate {
  [[nodiscard]] auto ensure(connection& c, std::string_view name, std::string_view quoted) -> result<void>;

 private:
  std::mutex mutex_;
  bool ready_ = false;
};

/// The batch ledger of a transactional sink (a table sink's write_committed and the two after
/// it; a queue producer's), in the quoted table `batch_table`.
///
/// `record_batch`, inside the caller's transaction: adds `entry`'s row and returns true, or
/// returns false when the row is there already with the same positions (its batch is in: a
/// retry after a COMMIT whose reply was lost), or fails `conflict` when it is there with
/// other positions (another runner of the job).
[[nodiscard]] auto record_batch(connection& c, std::string_view batch_table, const committed_batch& entry)
    -> result<bool>;
/// `also`, when given, runs in the transaction after the rows (not for an entry stored already).
[[nodiscard]] auto write_rows_committed(connection& c, const sink_plan& plan, std::span<const record> records,
                                        const committed_batch& entry, const std::stop_token& stop,
                                        const transaction_step* also = nullptr) -> result<void>;
[[nodiscard]] auto select_batches(connection& c, std::string_view batch_table, std::string_view job)
    -> result<std::vector<committed_batch>>;
[[nodiscard]] auto delete_batches(connection& c, std::string_view batch_table, std::string_view job,
                                  std::uint64_t run, std::uint64_t sequence) -> result<void>;

/// `n` as a LIMIT parameter: SQL integers stop at INT64_MAX.
[[nodiscard]] auto limit_parameter(std::size_t n) noexcept -> std::int64_t;

/// Reads the rows of an executed query: `read_row(st)` (returning a `result`) of each, in
/// order; the first error ends it.
template <class ReadRow>
[[nodiscard]] auto collect_rows(statement& st, ReadRow&& read_row)
    -> result<std::vector<typename std::invoke_result_t<ReadRow&, const statement&>::value_type>> {
  std::vector<typename std::invoke_result_t<ReadRow&, const statement&>::value_type> out;
  for (;;) {
    auto row = st.next_row();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    auto value = read_row(std::as_const(st));
    if (!value) return std::move(value).error();
    out.push_back(std::move(*value));
  }
}

/// The upsert clause of the dialects that spell it ON CONFLICT (sqlite, postgres): " ON CONFLICT
/// (keys) DO UPDATE SET u = excluded.u, …, a = <stored>a + excluded.a, …", or DO NOTHING when
/// both lists are empty. `stored` qualifies an add column's stored value ("t.", or empty).
/// Names are quoted.
[[nodiscard]] auto on_conflict_clause(std::string_view stored, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& updates, const std::vector<std::string>& adds)
    -> std::string;

/// A dead letter's identity in one bounded column, for a dialect whose index cannot take a
/// whole position: "<partition>/<hash of the position>/<shared fingerprint>".
[[nodiscard]] auto bounded_dead_letter_identity(const dead_letter& letter, std::string_view fingerprint)
    -> std::string;

/// `names` quoted and joined by ", ".
[[nodiscard]] auto quoted_list(const dialect& d, std::span<const std::string_view> names) -> std::string;
/// Placeholders `first` … `first + count - 1` joined by ", ".
[[nodiscard]] auto placeholders(const dialect& d, std::size_t first, std::size_t count) -> std::string;

}  // namespace pipeline::detail::relational
