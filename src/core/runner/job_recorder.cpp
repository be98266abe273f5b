#include "job_recorder.hpp"

#include <chrono>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <pipeline/any_job_log_store.hpp>
#include <pipeline/job_log.hpp>

namespace pipeline::detail {

auto job_recorder::begin() -> bool {
  const auto& options = run_.options();
  if (options.job_log == nullptr) return true;
  auto entry = begin_run(*options.job_log, options.name, options.lease, std::chrono::system_clock::now());
  if (!entry) {
    run_.fail(std::move(entry).error());
    return false;
  }
  std::scoped_lock lock{mutex_};
  entry_ = std::move(*entry);
  return true;
}

void job_recorder::copy_counts(job_run& entry) const {
  entry.read = run_.counters.read->value();
  entry.written = run_.counters.written->value();
  entry.dead_lettered = run_.counters.dead_lettered->value();
  entry.retried = run_.counters.retried->value();
}

void job_recorder::beat() {
  std::scoped_lock lock{mutex_};
  beat_locked();
}

void job_recorder::checkpointed() {
  std::scoped_lock lock{mutex_};
  if (std::chrono::steady_clock::now() - last_write_ >= std::chrono::seconds{1}) beat_locked();
}

// A heartbeat that fails is only logged: if the lease runs out, another process may take the
// job over, and this run's lease on its checkpoint key (run_lease) then stops this one.
void job_recorder::beat_locked() {
  if (!entry_) return;
  last_write_ = std::chrono::steady_clock::now();
  copy_counts(*entry_);
  const auto& options = run_.options();
  if (auto r = heartbeat(*options.job_log, *entry_, options.lease, std::chrono::system_clock::now()); !r) {
    run_.log().warn("{}: heartbeat failed: {}", run_.name(), fmt::format("{}", r.error()));
  }
}

void job_recorder::end(run_report& report) {
  std::scoped_lock lock{mutex_};
  if (!entry_) return;
  report.job_run_id = entry_->id;
  copy_counts(*entry_);
  const auto state = report.status == run_status::completed ? run_state::completed
                     : report.status == run_status::failed  ? run_state::failed
                                                            : run_state::stopped;
  const auto message = report.failure ? fmt::format("{}", *report.failure) : std::string{};
  if (auto r = finish_run(*run_.options().job_log, *entry_, state, message, std::chrono::system_clock::now()); !r) {
    run_.log().warn("{}: recording the end of the run failed: {}", run_.name(), fmt::format("{}", r.error()));
  }
}

}  // namespace pipeline::detail
