#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/job_run.hpp>
#include <pipeline/result.hpp>

namespace pipeline::file {

/// Job runs in a directory, one small JSON file per run, for `pipeline::begin_run`,
/// `heartbeat` and `finish_run` when a pipeline keeps its state in files.
///
/// Files: run `id` of job `j` is `<directory>/<e>/<id, 20 digits>.run`, where `e` is `j` escaped
/// as `checkpoint_store` escapes keys (an empty job name, or one longer than 200 bytes
/// escaped, is `invalid_input`). Ids come from `<directory>/next_id`, taken under an exclusive flock(2) on
/// `<directory>/job_log.lock`, so they increase across threads and processes and are never
/// reused. Every write goes to a temporary file that is fsynced and renamed over the run's
/// file, then the directory is fsynced: a crash leaves the old record or the new one, never a
/// mix. Content: one JSON object (format 1) with every field of `job_run`; times as UTC
/// ISO-8601 text to the microsecond (read back floored to the microsecond).
///
/// Runs are kept until someone deletes their files (one file per run; a heartbeat rewrites
/// its run's file and adds none).
///
/// Contract: models `pipeline::job_log_store`. Thread-safe, and safe across processes on one
/// machine (flock; not across NFS clients). Blocking file I/O. `update` of an id that has no
/// file under the run's job is `not_found`. I/O failures are errno errors as
/// `checkpoint_store` describes; a run file or `next_id` that does not read back (edited,
/// damaged) is a `permanent` error naming the file.
///
///     pipeline::file::job_log log{"/var/lib/etl/jobs"};
///     auto run = pipeline::begin_run(log, "listings", {}, std::chrono::system_clock::now());
class job_log {
 public:
  /// Throws std::invalid_argument if `directory` is empty. Does no I/O; the directory is
  /// created by the first `create`.
  explicit job_log(std::filesystem::path directory);

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t>;
  [[nodiscard]] auto update(const job_run& run) -> result<void>;
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>>;
  /// The jobs that have a directory of runs, in name order; none when the directory is missing
  /// (nothing is created). Entries of the directory that are no job's are left out.
  [[nodiscard]] auto jobs() -> result<std::vector<std::string>>;

 private:
  std::filesystem::path directory_;
};

static_assert(job_log_store<job_log>);

}  // namespace pipeline::file
