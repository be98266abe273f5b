// Coroutine generator overhead against plain loops, per item and per batch of 1000 ints.
//
// Every case sums `items` ints drawn from a 64-bit LCG, so nothing is optimised away and the
// work per item is one multiply-add (about 1.3 ns here). After Google Benchmark's own lines the
// program prints, per case, ns/item (CPU time, median [min - max] over repetitions) and the
// ratio of medians to the plain loop of its group. Run it as
//
//     bench_generator --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true

#include <pipeline/batched.hpp>
#include <pipeline/generator.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr std::int64_t items = 10'000'000;
constexpr std::int64_t batch_size = 1000;
static_assert(items % batch_size == 0);

// Knuth's MMIX LCG: one multiply-add per value, which the optimiser cannot fold away.
class lcg {
 public:
  explicit lcg(std::uint64_t seed) : state_(seed) {}
  auto next() -> int {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>(state_ >> 33);
  }

 private:
  std::uint64_t state_;
};

auto opaque_seed() -> std::uint64_t {
  std::uint64_t seed = 42;
  benchmark::DoNotOptimize(seed);
  return seed;
}

auto ints(std::int64_t n, std::uint64_t seed) -> pipeline::generator<int> {
  lcg random{seed};
  for (std::int64_t i = 0; i < n; ++i) co_yield random.next();
}

auto int_batches(std::int64_t n, std::uint64_t seed) -> pipeline::generator<std::vector<int>> {
  lcg random{seed};
  std::vector<int> batch;
  batch.reserve(batch_size);
  for (std::int64_t i = 0; i < n; i += batch_size) {
    batch.clear();
    for (std::int64_t j = 0; j < batch_size; ++j) batch.push_back(random.next());
    co_yield batch;
  }
}

auto sum(const std::vector<int>& batch) -> std::uint64_t {
  std::uint64_t total = 0;
  for (int v : batch) total += static_cast<std::uint64_t>(v);
  return total;
}

void plain_loop(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    lcg random{opaque_seed()};
    std::uint64_t total = 0;
    for (std::int64_t i = 0; i < items; ++i) total += static_cast<std::uint64_t>(random.next());
    benchmark::DoNotOptimize(total);
  }
}

void generator_per_item(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    std::uint64_t total = 0;
    for (int v : ints(items, opaque_seed())) total += static_cast<std::uint64_t>(v);
    benchmark::DoNotOptimize(total);
  }
}

void plain_batch_loop(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    lcg random{opaque_seed()};
    std::vector<int> batch;
    batch.reserve(batch_size);
    std::uint64_t total = 0;
    for (std::int64_t i = 0; i < items; i += batch_size) {
      batch.clear();
      for (std::int64_t j = 0; j < batch_size; ++j) batch.push_back(random.next());
      total += sum(batch);
    }
    benchmark::DoNotOptimize(total);
  }
}

void generator_of_batches(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    std::uint64_t total = 0;
    for (const auto& batch : int_batches(items, opaque_seed())) total += sum(batch);
    benchmark::DoNotOptimize(total);
  }
}

void generator_batched(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    std::uint64_t total = 0;
    for (const auto& batch : ints(items, opaque_seed()) | pipeline::batched(batch_size)) total += sum(batch);
    benchmark::DoNotOptimize(total);
  }
}

struct bench_case {
  const char* name;      // Google Benchmark's name, for --benchmark_filter
  const char* label;     // the summary's, a markdown table cell
  const char* baseline;  // name of the plain loop it is compared with
  void (*run)(benchmark::State&);
};

constexpr std::array cases{
    bench_case{"plain_loop", "plain loop", "plain_loop", plain_loop},
    bench_case{"generator_per_item", "generator<int>, one item per resume", "plain_loop", generator_per_item},
    bench_case{"plain_batch_loop", "plain loop, fill a vector of 1000 then sum", "plain_batch_loop", plain_batch_loop},
    bench_case{"generator_of_batches", "generator<std::vector<int>>, batches of 1000", "plain_batch_loop",
               generator_of_batches},
    bench_case{"generator_batched", "generator<int> \\| pipeline::batched(1000)", "plain_batch_loop", generator_batched},
};

auto median(std::vector<double> values) -> double {
  std::sort(values.begin(), values.end());
  const auto mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// The console output, plus each repetition's ns/item kept for the summary.
class summary_reporter : public benchmark::ConsoleReporter {
 public:
  summary_reporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes in saved logs

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const double ns = run.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
      ns_per_item_[run.run_name.function_name].push_back(ns / static_cast<double>(items));
    }
  }

  void print_summary() const {
    std::printf("\n| case | ns/item median [min - max] | ratio to its plain loop |\n|---|---|---|\n");
    for (const auto& c : cases) {
      const auto found = ns_per_item_.find(c.name);
      if (found == ns_per_item_.end()) continue;
      const auto& ns = found->second;
      const auto [low, high] = std::minmax_element(ns.begin(), ns.end());
      std::printf("| %s | %.2f [%.2f - %.2f] |", c.label, median(ns), *low, *high);
      if (const auto base = ns_per_item_.find(c.baseline); base != ns_per_item_.end()) {
        std::printf(" %.2fx |\n", median(ns) / median(base->second));
      } else {
        std::printf(" (baseline not run) |\n");
      }
    }
  }

 private:
  std::map<std::string, std::vector<double>> ns_per_item_;
};

}  // namespace

auto main(int argc, char** argv) -> int {
  for (const auto& c : cases) benchmark::RegisterBenchmark(c.name, c.run);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  summary_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n%lld ints per iteration, CPU time\n", static_cast<long long>(items));
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}
