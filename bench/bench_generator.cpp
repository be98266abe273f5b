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

#include "summary.hpp"

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

constexpr std::array cases{
    bench::bench_case{"plain_loop", "plain loop", "plain_loop", plain_loop},
    bench::bench_case{"generator_per_item", "generator<int>, one item per resume", "plain_loop", generator_per_item},
    bench::bench_case{"plain_batch_loop", "plain loop, fill a vector of 1000 then sum", "plain_batch_loop", plain_batch_loop},
    bench::bench_case{"generator_of_batches", "generator<std::vector<int>>, batches of 1000", "plain_batch_loop",
               generator_of_batches},
    bench::bench_case{"generator_batched", "generator<int> \\| pipeline::batched(1000)", "plain_batch_loop", generator_batched},
};

}  // namespace

auto main(int argc, char** argv) -> int {
  const auto caption = std::to_string(items) + " ints per iteration, CPU time";
  return bench::run_benchmarks(argc, argv, cases, items, bench::measure::cpu_ns_per_item, caption.c_str());
}
