#pragma once

#include <cstddef>
#include <functional>
#include <stop_token>
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

namespace detail {
// The untyped part of run_partitions (src/core/run_partitions.cpp): the threads, the options
// and the report of each partition. `run_one` runs one partition under the options given.
[[nodiscard]] auto run_each_partition(const std::vector<partition>& plan, const runner_options& options,
                                      std::size_t max_concurrent, std::stop_token stop,
                                      const std::function<run_report(const partition&, const runner_options&)>& run_one)
    -> std::vector<partition_report>;
}  // namespace detail

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
  return detail::run_each_partition(plan, options, max_concurrent, stop,
                                    [&](const partition& part, const runner_options& part_options) {
                                      auto source = make_source(part);
                                      return run(source, transform, sink, dlq, checkpoints, part_options, stop);
                                    });
}

}  // namespace pipeline
