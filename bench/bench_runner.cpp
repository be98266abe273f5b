// The 3-stage CPU-bound pipeline of the perf anchors (generate -> ~160 ns transform -> sum,
// 10M items, batches of 1000) through pipeline::run, against tbb::parallel_pipeline and a
// single-threaded loop, in one run. Every case's sum is checked against the loop's.
//
//     bench_runner --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true
//
// Targets (issue 3): the runner at least TBB's throughput and at least 1.8x the single thread.

#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/runner.hpp>

#include <benchmark/benchmark.h>
#include <tbb/parallel_pipeline.h>

#include "summary.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

constexpr std::uint64_t items = 10'000'000;
constexpr std::uint64_t batch_size = 1000;

// 100 dependent rounds of xorshift, multiply, add: about 160 ns per item on this machine.
auto transform_one(std::uint64_t x) -> std::uint64_t {
  for (std::uint64_t round = 0; round < 100; ++round) {
    x ^= x >> 13;
    x *= 0x9E3779B97F4A7C15ULL;
    x += round;
  }
  return x;
}

auto expected_sum() -> std::uint64_t {
  static const std::uint64_t sum = [] {
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i < items; ++i) total += transform_one(i);
    return total;
  }();
  return sum;
}

void check(benchmark::State& state, std::uint64_t sum) {
  if (sum != expected_sum()) state.SkipWithError("wrong sum");
}

void single_thread_loop(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i < items; ++i) total += transform_one(i);
    benchmark::DoNotOptimize(total);
    check(state, total);
  }
}

void tbb_parallel_pipeline(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    std::uint64_t next = 0;
    std::uint64_t total = 0;
    tbb::parallel_pipeline(
        16,
        tbb::make_filter<void, std::vector<std::uint64_t>>(
            tbb::filter_mode::serial_in_order,
            [&](tbb::flow_control& fc) {
              std::vector<std::uint64_t> batch;
              if (next >= items) {
                fc.stop();
                return batch;
              }
              for (std::uint64_t j = 0; j < batch_size; ++j) batch.push_back(next++);
              return batch;
            }) &
            tbb::make_filter<std::vector<std::uint64_t>, std::vector<std::uint64_t>>(
                tbb::filter_mode::parallel,
                [](std::vector<std::uint64_t> batch) {
                  for (auto& v : batch) v = transform_one(v);
                  return batch;
                }) &
            tbb::make_filter<std::vector<std::uint64_t>, void>(tbb::filter_mode::serial_out_of_order,
                                                              [&](const std::vector<std::uint64_t>& batch) {
                                                                for (auto v : batch) total += v;
                                                              }));
    check(state, total);
  }
}

// 0, 1, 2, … in batches; the position is the next number.
class counting_source {
 public:
  using value_type = std::uint64_t;
  auto next_batch(std::stop_token) -> pipeline::result<std::optional<pipeline::batch<std::uint64_t>>> {
    if (next_ >= items) return std::optional<pipeline::batch<std::uint64_t>>{};
    pipeline::batch<std::uint64_t> b;
    b.records.reserve(batch_size);
    for (std::uint64_t j = 0; j < batch_size; ++j) b.records.push_back(next_++);
    b.end = pipeline::position::from_integer(static_cast<std::int64_t>(next_));
    return std::optional{std::move(b)};
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> {
    next_ = static_cast<std::uint64_t>(p.to_integer().value_or(0));
    return pipeline::ok();
  }

 private:
  std::uint64_t next_ = 0;
};

struct summing_sink {
  using value_type = std::uint64_t;
  std::atomic<std::uint64_t> total{0};
  auto write(std::span<const std::uint64_t> values, std::stop_token) -> pipeline::result<void> {
    std::uint64_t sum = 0;
    for (auto v : values) sum += v;
    total += sum;
    return pipeline::ok();
  }
};

void runner(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    counting_source source;
    summing_sink sink;
    pipeline::memory_dlq dlq;
    pipeline::memory_checkpoint_store checkpoints;
    pipeline::runner_options options;
    options.workers = 2;
    options.queue_capacity = 16;
    auto report = pipeline::run(
        source,
        [](std::span<const std::uint64_t> batch) {
          std::vector<std::uint64_t> out(batch.begin(), batch.end());
          for (auto& v : out) v = transform_one(v);
          return out;
        },
        sink, dlq, checkpoints, options);
    if (report.status != pipeline::run_status::completed) state.SkipWithError("run did not complete");
    check(state, sink.total.load());
  }
}

constexpr std::array cases{
    bench::bench_case{"single_thread_loop", "single-threaded loop", "single_thread_loop", single_thread_loop},
    bench::bench_case{"tbb_parallel_pipeline", "tbb::parallel_pipeline (16 tokens, batches of 1000)", "single_thread_loop",
                      tbb_parallel_pipeline},
    bench::bench_case{"runner", "pipeline::run (2 workers, batches of 1000)", "single_thread_loop", runner,
                      "tbb_parallel_pipeline"},
};

}  // namespace

auto main(int argc, char** argv) -> int {
  (void)expected_sum();  // computed once, before anything is timed
  const auto caption = std::to_string(items) + " items, wall time, " + std::to_string(batch_size) + " per batch";
  return bench::run_benchmarks(argc, argv, cases, static_cast<std::int64_t>(items), bench::measure::wall_items_per_second,
                               caption.c_str());
}
