#pragma once

// What every benchmark here prints after Google Benchmark's own lines: a markdown table with,
// per case, the median [min - max] over repetitions and the ratio of medians to the case's
// named baseline from the same run.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace bench {

struct bench_case {
  const char* name;      // Google Benchmark's name, for --benchmark_filter
  const char* label;     // the summary's, a markdown table cell
  const char* baseline;  // name of the case it is compared with
  void (*run)(benchmark::State&);
  const char* peer = nullptr;  // optionally, a second case to compare with (a competing library)
};

enum class measure {
  cpu_ns_per_item,       // lower is better
  wall_items_per_second  // higher is better
};

inline auto median(std::vector<double> values) -> double {
  std::sort(values.begin(), values.end());
  const auto mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

class summary_reporter : public benchmark::ConsoleReporter {
 public:
  summary_reporter(std::span<const bench_case> cases, std::int64_t items, measure what)
      : ConsoleReporter(OO_Tabular), cases_(cases), items_(static_cast<double>(items)), what_(what) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const double multiplier = benchmark::GetTimeUnitMultiplier(run.time_unit);
      const double value = what_ == measure::cpu_ns_per_item
                               ? run.GetAdjustedCPUTime() * 1e9 / multiplier / items_
                               : items_ / (run.GetAdjustedRealTime() / multiplier);
      values_[run.run_name.function_name].push_back(value);
    }
  }

  void print_summary() const {
    const bool rate = what_ == measure::wall_items_per_second;
    std::printf("\n| case | %s median [min - max] | ratio to its baseline | ratio to its peer |\n|---|---|---|---|\n",
                rate ? "items/s (wall)" : "ns/item (CPU)");
    for (const auto& c : cases_) {
      const auto found = values_.find(c.name);
      if (found == values_.end()) continue;
      const auto& v = found->second;
      const auto [low, high] = std::minmax_element(v.begin(), v.end());
      if (rate) std::printf("| %s | %.3gM [%.3gM - %.3gM] |", c.label, median(v) / 1e6, *low / 1e6, *high / 1e6);
      else std::printf("| %s | %.2f [%.2f - %.2f] |", c.label, median(v), *low, *high);
      print_ratio(v, c.baseline);
      print_ratio(v, c.peer);
      std::printf("\n");
    }
  }

 private:
  void print_ratio(const std::vector<double>& v, const char* other) const {
    if (other == nullptr) return (void)std::printf(" |");
    if (const auto found = values_.find(other); found != values_.end()) {
      std::printf(" %.2fx (%s) |", median(v) / median(found->second), other);
    } else {
      std::printf(" (%s not run) |", other);
    }
  }

  std::span<const bench_case> cases_;
  double items_;
  measure what_;
  std::map<std::string, std::vector<double>> values_;
};

// Registers the cases, runs what the command line selects, prints the summary.
inline auto run_benchmarks(int argc, char** argv, std::span<const bench_case> cases, std::int64_t items, measure what,
                           const char* caption) -> int {
  for (const auto& c : cases) benchmark::RegisterBenchmark(c.name, c.run);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  summary_reporter reporter{cases, items, what};
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n%s\n", caption);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
