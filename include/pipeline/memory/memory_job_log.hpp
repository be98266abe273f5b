#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/job_run.hpp>

namespace pipeline {

/// Job runs kept in memory: for tests, and for programs that only report at the end.
///
/// Thread-safe. Not movable (it owns a mutex): use `std::ref` or build it in place.
class memory_job_log {
 public:
  memory_job_log() = default;
  memory_job_log(const memory_job_log&) = delete;
  auto operator=(const memory_job_log&) -> memory_job_log& = delete;

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t>;
  [[nodiscard]] auto update(const job_run& run) -> result<void>;
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>>;

 private:
  std::mutex mutex_;
  std::vector<job_run> runs_;  // id n is runs_[n - 1]
};

static_assert(job_log_store<memory_job_log>);

}  // namespace pipeline
