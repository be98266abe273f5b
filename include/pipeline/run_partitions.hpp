#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <pipeline/partition.hpp>
#include <pipeline/runner.hpp>

namespace pipeline {

/// How one partition's run went.
struct partition_report {
  partition part;
  run_report report;
};

/// Runs every partition of `plan`, at most `max_concurrent` at once, each as its own
/// `pipeline::run` over the source `make_source(partition)` returns.
///
/// Each partition has its own job-log entry, `options.name + "/" + partition.name`, and its
/// own checkpoint key, `options.effective_checkpoint_key() + "/" + partition.name`, so each
/// resumes on its own, and its index is stamped on its batches and
/// dead letters. A partition that fails (or whose `make_source` throws) does not stop the
/// others; `stop` stops them all, and partitions not started by then are reported stopped
/// with nothing read. `transform`, `sink`, `dlq` and `checkpoints` are shared by all
/// partitions at once (they must be thread-safe). Returns one report per partition, in plan
/// order. Blocks until every thread is joined.
///
///     auto months = pipeline::plan_time_intervals(2022y/1/1, 2025y/1/1, pipeline::interval_unit::month);
///     auto reports = pipeline::run_partitions(months, [&](const pipeline::partition& p) {
///       return users_registered_in(std::get<pipeline::time_interval>(p.bounds));
///     }, send_report, mail_sink, dlq, checkpoints, {.name = "monthly-report"}, 5, stop);
template <class MakeSource, class Transform, sink Sink, dead_letter_sink Dlq, checkpoint_store Store>
  requires std::invocable<MakeSource&, const partition&> &&
           seekable_source<std::remove_cvref_t<std::invoke_result_t<MakeSource&, const partition&>>>
auto run_partitions(const std::vector<partition>& plan, MakeSource&& make_source, Transform&& transform, Sink& sink,
                    Dlq& dlq, Store& checkpoints, const runner_options& options, std::size_t max_concurrent,
                    std::stop_token stop = {}) -> std::vector<partition_report> {
  if (max_concurrent == 0) throw std::invalid_argument("run_partitions: max_concurrent must be > 0");
  validate(options);
  std::vector<partition_report> reports;
  for (const auto& p : plan) {
    run_report not_started;
    not_started.status = run_status::stopped;
    reports.push_back({p, std::move(not_started)});
  }
  std::atomic<std::size_t> next{0};
  const auto run_one = [&](std::size_t i) {
    auto part_options = options;
    part_options.name = options.name + "/" + plan[i].name;
    part_options.checkpoint_key = options.effective_checkpoint_key() + "/" + plan[i].name;
    part_options.partition = plan[i].index;
    try {
      auto source = make_source(plan[i]);
      reports[i].report = run(source, transform, sink, dlq, checkpoints, part_options, stop);
    } catch (const std::exception& e) {
      reports[i].report.status = run_status::failed;
      reports[i].report.failure = internal_error(std::string("partition ") + plan[i].name + ": " + e.what());
    }
  };
  {
    std::vector<std::jthread> runners;
    for (std::size_t t = 0; t < std::min(max_concurrent, plan.size()); ++t) {
      runners.emplace_back([&] {
        for (auto i = next++; i < plan.size() && !stop.stop_requested(); i = next++) run_one(i);
      });
    }
  }
  return reports;
}

}  // namespace pipeline
