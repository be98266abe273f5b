#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/job_run.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail::relational {

struct job_log_options {
  /// The table, created by `open` when missing with an index on (job, id); its columns and
  /// types are the adapter's (pipeline/sqlite/job_log.hpp, pipeline/mysql/job_log.hpp).
  std::string table{"pipeline_job_runs"};
};

/// The job log of every SQL adapter, written once over the adapter's dialect
/// (docs/relational.md); users name it `sqlite::job_log`, `mysql::job_log`.
///
/// Runs for `pipeline::begin_run`, `heartbeat` and `finish_run`, one row each. Ids come from
/// the table's auto-increment, so they increase. `state` is stored as `to_string(run_state)`
/// names it; times to the microsecond (UTC, read back floored to it); counts as signed 64-bit
/// integers (a count above 2^63 - 1 reads back exactly but shows negative in SQL).
///
/// Contract: models `pipeline::job_log_store`. Thread-safe (through the shared `Database`),
/// and shared by every process that uses the same table; blocking. `update` of an id that is
/// not in the table is `not_found`. A row that does not read back as a run (edited by hand)
/// is a `permanent` error naming its id.
template <class Database>
class job_log {
 public:
  /// Creates the table and its index if they are missing. Throws std::invalid_argument if
  /// `db` is null or the table name is not an identifier, before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<Database> db, const job_log_options& options = {})
      -> result<job_log>;

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t>;
  [[nodiscard]] auto update(const job_run& run) -> result<void>;
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>>;
  /// The names of the jobs that have runs, in name order (for an operator's listing).
  [[nodiscard]] auto jobs() -> result<std::vector<std::string>>;

 private:
  job_log(std::shared_ptr<Database> db, std::string table) noexcept : db_(std::move(db)), table_(std::move(table)) {}

  std::shared_ptr<Database> db_;
  std::string table_;  // quoted
};

/// Stands for each adapter's database in the check below: the concept holds whatever the
/// database is, since only the members' declarations are read.
struct any_database;
static_assert(pipeline::job_log_store<job_log<any_database>>);

}  // namespace pipeline::detail::relational
