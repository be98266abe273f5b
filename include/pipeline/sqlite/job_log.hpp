#pragma once

#include <pipeline/detail/relational/job_log.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

/// The table, created by `open` when missing, with an index `<table>_by_job` on (job, id):
/// `(id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT, state TEXT, owner TEXT, read INTEGER,
/// written INTEGER, dead_lettered INTEGER, retried INTEGER, created TEXT, updated TEXT,
/// lease_until TEXT, message TEXT)`.
using job_log_options = pipeline::detail::relational::job_log_options;

/// Job runs in a sqlite table, for `pipeline::begin_run`, `heartbeat` and `finish_run`: the
/// shared relational job log (pipeline/detail/relational/job_log.hpp) on sqlite.
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
using job_log = pipeline::detail::relational::job_log<database>;

}  // namespace pipeline::sqlite
