#include <pipeline/runner.hpp>

#include <exception>
#include <string_view>

#include <fmt/core.h>

namespace pipeline {

auto to_string(run_status status) noexcept -> std::string_view {
  switch (status) {
    case run_status::completed: return "completed";
    case run_status::failed: return "failed";
    case run_status::stopped: return "stopped";
  }
  return "unknown";
}

void validate(const runner_options& options) {
  if (options.name.empty()) throw std::invalid_argument("runner_options.name must not be empty");
  if (!(options.max_dead_letter_share >= 0.0 && options.max_dead_letter_share <= 1.0)) {
    throw std::invalid_argument("runner_options.max_dead_letter_share must be between 0 and 1");
  }
  if (options.dead_letter_window == 0) throw std::invalid_argument("runner_options.dead_letter_window must be > 0");
  if (options.workers == 0) throw std::invalid_argument("runner_options.workers must be > 0");
  if (options.queue_capacity == 0) throw std::invalid_argument("runner_options.queue_capacity must be > 0");
  if (options.checkpoint_interval.count() < 0) {
    throw std::invalid_argument("runner_options.checkpoint_interval must not be negative");
  }
  if (options.heartbeat_interval.count() <= 0) throw std::invalid_argument("runner_options.heartbeat_interval must be > 0");
  if (options.progress_interval.count() <= 0) throw std::invalid_argument("runner_options.progress_interval must be > 0");
  if (options.lease.lease <= options.heartbeat_interval) {
    throw std::invalid_argument("runner_options.lease.lease must be longer than heartbeat_interval");
  }
  validate(options.retry);
  if (options.autoscale) validate(*options.autoscale);
}

auto detail::current_exception_error(std::string_view who) -> error {
  try {
    throw;
  } catch (const std::exception& e) {
    return internal_error(fmt::format("{} threw: {}", who, e.what()));
  } catch (...) {
    return internal_error(fmt::format("{} threw a non-standard exception", who));
  }
}

}  // namespace pipeline
