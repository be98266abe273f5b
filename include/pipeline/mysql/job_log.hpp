#pragma once

#include <pipeline/detail/relational/job_log.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/mysql/database.hpp>

namespace pipeline::mysql {

/// The InnoDB table, created by `open` when missing, with an index on (job, id): (`id`
/// BIGINT AUTO_INCREMENT PRIMARY KEY, `job` VARBINARY(255), `state` VARCHAR(16), `owner`
/// VARBINARY(255), `read` … `retried` BIGINT, `created`, `updated`, `lease_until`
/// DATETIME(6), `message` BLOB).
using job_log_options = pipeline::detail::relational::job_log_options;

/// Job runs in a MySQL table, for `pipeline::begin_run`, `heartbeat` and `finish_run`: the
/// shared relational job log (pipeline/detail/relational/job_log.hpp) on MySQL.
///
/// Ids come from AUTO_INCREMENT (increasing). Times are kept to the microsecond (UTC);
/// counts as BIGINT (a count above 2^63 - 1 reads back exactly but shows negative in SQL).
///
/// Contract: models `pipeline::job_log_store`. Thread-safe, and shared by every process that
/// uses the same table; blocking. `update` of an unknown id is `not_found`.
///
///     auto log = pipeline::mysql::job_log::open(db).value();
using job_log = pipeline::detail::relational::job_log<database>;

}  // namespace pipeline::mysql
