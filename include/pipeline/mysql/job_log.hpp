#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/job_run.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql {

struct job_log_options {
  /// The InnoDB table, created by `open` when missing, with an index on (job, id): (`id`
  /// BIGINT AUTO_INCREMENT PRIMARY KEY, `job` VARBINARY(255), `state` VARCHAR(16), `owner`
  /// VARBINARY(255), `read` … `retried` BIGINT, `created`, `updated`, `lease_until`
  /// DATETIME(6), `message` BLOB).
  std::string table{"pipeline_job_runs"};
};

/// Job runs in a MySQL table, for `pipeline::begin_run`, `heartbeat` and `finish_run`.
///
/// Ids come from AUTO_INCREMENT (increasing). Times are kept to the microsecond (UTC);
/// counts as BIGINT (a count above 2^63 - 1 reads back exactly but shows negative in SQL).
///
/// Contract: models `pipeline::job_log_store`. Thread-safe, and shared by every process that
/// uses the same table; blocking. `update` of an unknown id is `not_found`.
///
///     auto log = pipeline::mysql::job_log::open(db).value();
class job_log {
 public:
  /// Creates the table if missing. Throws std::invalid_argument if `db` is null or the table
  /// name is not an identifier, before any SQL is sent.
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

}  // namespace pipeline::mysql
