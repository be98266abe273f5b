#include "run_context.hpp"

namespace pipeline::detail {

run_counters::run_counters(const runner_options& options) {
  if (options.metrics == nullptr) return;
  const metric_labels labels{{"pipeline", options.name}};
  auto& m = *options.metrics;
  workers = &m.register_gauge("pipeline_workers", "Worker threads running", labels);
  read = &m.register_counter("pipeline_records_read_total", "Records read from the source", labels);
  written = &m.register_counter("pipeline_records_written_total", "Records the sink accepted", labels);
  dead_lettered = &m.register_counter("pipeline_records_dead_lettered_total", "Records sent to the DLQ", labels);
  retried = &m.register_counter("pipeline_retries_total", "Attempts repeated after a transient error", labels);
}

run_context::run_context(const runner_options& options, std::stop_token user_stop)
    : counters(options),
      options_(options),
      clock_(options.time != nullptr ? *options.time : steady_clock()),
      forward_stop_(std::move(user_stop), [this] { halt_.request_stop(); }) {}

void run_context::fail(error e) {
  {
    std::scoped_lock lock{failure_mutex_};
    if (!failure_) {
      options_.log.error("{}: failing the run: {}", options_.name, fmt::format("{}", e));
      failure_ = std::move(e);
    }
  }
  halt_.request_stop();
}

auto run_context::fail_unless_stopped(const error& e) -> bool {
  if (e.kind != error_kind::stopped) fail(e);
  return false;
}

auto run_context::failure() const -> std::optional<error> {
  std::scoped_lock lock{failure_mutex_};
  return failure_;
}

void run_context::note_retry(const error& e, std::uint32_t attempt, std::chrono::nanoseconds wait) {
  counters.retried->inc();
  options_.log.debug("{}: attempt {} failed ({}); retrying in {} ms", options_.name, attempt, fmt::format("{}", e),
                     std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
}

}  // namespace pipeline::detail
