#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/job_run.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mongodb {

struct job_log_options {
  std::string database{};
  /// One document per run: `{run_id: int64, job, state, owner, read, written, dead_lettered,
  /// retried: int64, created, updated, lease_until: date, message}`.
  std::string collection{"pipeline_job_runs"};
  /// Where run ids come from: one document `{name: collection, seq: int64}` per job log.
  std::string counters_collection{"pipeline_counters"};
};

/// Job runs in a collection, for `pipeline::begin_run`, `heartbeat` and `finish_run`.
///
/// Ids come from an atomic `$inc` (findAndModify) on a counter document that `open` creates,
/// so they increase and are never reused; runs are keyed by `run_id`, not `_id` (which stays
/// an ObjectId). `state` is stored as `to_string(run_state)` names it; times as dates (to the
/// millisecond, read back floored to it); counts as int64 (a count above 2^63 - 1 reads back
/// exactly but shows negative in the shell).
///
/// Contract: models `pipeline::job_log_store`. Thread-safe (pooled connections) and shared by
/// processes using the same collections; blocking. `update` of an id that is not stored is
/// `not_found`. A document that does not read back as a run (edited by hand) is a
/// `permanent` error naming its run_id.
///
///     auto log = pipeline::mongodb::job_log::open(mongo, {.database = "etl"}).value();
///     auto run = pipeline::begin_run(log, "listings", {}, std::chrono::system_clock::now());
class job_log {
 public:
  /// Creates the counter document and an index on (job, run_id). Throws
  /// std::invalid_argument if `c` is null or a name is empty.
  [[nodiscard]] static auto open(std::shared_ptr<client> c, job_log_options options) -> result<job_log>;

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t>;
  [[nodiscard]] auto update(const job_run& run) -> result<void>;
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>>;
  /// The jobs that have runs, in name order (one `distinct` on `job`).
  [[nodiscard]] auto jobs() -> result<std::vector<std::string>>;

 private:
  job_log(std::shared_ptr<client> c, job_log_options options) noexcept;

  std::shared_ptr<client> client_;
  job_log_options options_;
};

static_assert(job_log_store<job_log>);

}  // namespace pipeline::mongodb
