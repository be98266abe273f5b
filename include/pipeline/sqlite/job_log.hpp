#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/job_run.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

struct job_log_options {
  /// The table, created by `open` when missing, with an index on (job, id): `(id INTEGER
  /// PRIMARY KEY AUTOINCREMENT, job TEXT, state TEXT, owner TEXT, read INTEGER, written
  /// INTEGER, dead_lettered INTEGER, retried INTEGER, created TEXT, updated TEXT,
  /// lease_until TEXT, message TEXT)`.
  std::string table{"pipeline_job_runs"};
};

/// Job runs in a sqlite table, for `pipeline::begin_run`, `heartbeat` and `finish_run`.
///
/// Ids come from AUTOINCREMENT, so they increase and are never reused. `state` is stored as
/// `to_string(run_state)` names it; times as UTC ISO-8601 text to the microsecond (read back
/// floored to the microsecond); counts as INTEGER (a count above 2^63 - 1 reads back exactly
/// but shows negative in SQL).
///
/// Contract: models `pipeline::job_log_store`. Thread-safe (through the shared `database`),
/// and shared by processes that open the same file; blocking. `update` of an id that is not
/// in the table is `not_found`. sqlite errors as `database` describes; a row that does not
/// read back as a run (edited by hand) is a `permanent` error naming its id.
///
///     auto log = pipeline::sqlite::job_log::open(db).value();
///     auto run = pipeline::begin_run(log, "listings", {}, std::chrono::system_clock::now());
class job_log {
 public:
  /// Creates the table and its index if they are missing. Throws std::invalid_argument if
  /// `db` is null or the table name is not an identifier, before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, const job_log_options& options = {})
      -> result<job_log>;

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t>;
  [[nodiscard]] auto update(const job_run& run) -> result<void>;
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>>;

 private:
  job_log(std::shared_ptr<database> db, std::string table) noexcept;

  std::shared_ptr<database> db_;
  std::string table_;  // quoted
};

static_assert(job_log_store<job_log>);

}  // namespace pipeline::sqlite
