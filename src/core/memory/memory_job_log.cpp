#include <pipeline/memory/memory_job_log.hpp>

#include <fmt/core.h>

namespace pipeline {

auto memory_job_log::create(const job_run& run) -> result<std::uint64_t> {
  std::scoped_lock lock{mutex_};
  runs_.push_back(run);
  runs_.back().id = runs_.size();
  return runs_.back().id;
}

auto memory_job_log::update(const job_run& run) -> result<void> {
  std::scoped_lock lock{mutex_};
  if (run.id == 0 || run.id > runs_.size()) return not_found_error(fmt::format("no job run with id {}", run.id));
  runs_[run.id - 1] = run;
  return ok();
}

auto memory_job_log::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  std::scoped_lock lock{mutex_};
  std::vector<job_run> out;
  for (auto it = runs_.rbegin(); it != runs_.rend() && out.size() < limit; ++it) {
    if (it->job == job) out.push_back(*it);
  }
  return out;
}

}  // namespace pipeline
