#include <pipeline/run_partitions.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

namespace pipeline::detail {

auto run_each_partition(const std::vector<partition>& plan, const runner_options& options, std::size_t max_concurrent,
                        std::stop_token stop,
                        const std::function<run_report(const partition&, const runner_options&)>& run_one)
    -> std::vector<partition_report> {
  if (max_concurrent == 0) throw std::invalid_argument("run_partitions: max_concurrent must be > 0");
  validate(options);
  std::vector<partition_report> reports;
  for (const auto& p : plan) {
    run_report not_started;
    not_started.status = run_status::stopped;
    reports.push_back({p, std::move(not_started)});
  }
  std::atomic<std::size_t> next{0};
  const auto run_at = [&](std::size_t i) {
    auto part_options = options;
    part_options.name = options.name + "/" + plan[i].name;
    part_options.checkpoint_key = options.effective_checkpoint_key() + "/" + plan[i].name;
    part_options.partition = plan[i].index;
    try {
      reports[i].report = run_one(plan[i], part_options);
    } catch (const std::exception& e) {
      reports[i].report.status = run_status::failed;
      reports[i].report.failure = internal_error(std::string("partition ") + plan[i].name + ": " + e.what());
    }
  };
  {
    std::vector<std::jthread> runners;
    for (std::size_t t = 0; t < std::min(max_concurrent, plan.size()); ++t) {
      runners.emplace_back([&] {
        for (auto i = next++; i < plan.size() && !stop.stop_requested(); i = next++) run_at(i);
      });
    }
  }
  return reports;
}

}  // namespace pipeline::detail
