// pipeline::mpmc_queue against its peers, in one run, interleaved repetitions.
//
//   bench_mpmc_queue [--quick] [--pin=split|same] [--reps=N] [--items=N] [benchmark flags]
//
// Candidates: pipeline::mpmc_queue; mutex_cv (the naive baseline, bench/baselines);
// moodycamel::BlockingConcurrentQueue bounded by a semaphore of free slots; TBB's
// concurrent_bounded_queue; and, as the ceiling, a Vyukov ring that spins then yields and never
// sleeps (not a peer: an idle consumer keeps burning a core). Capacity 1024, 8- and 64-byte
// items, 1P1C to 8P8C, one item per call and bulk of 64 (queues with bulk operations only),
// plus the hand-off latency of one item in flight. Each case moves a fixed number of items,
// timed by hand from the moment every thread is ready, and checks the sum of what was popped.
// The table at the end gives items/s (median of the repetitions) and the ratios of
// mpmc_queue to the best blocking peer and to the ceiling. --pin=split puts producers on CPU 0
// and consumers on CPU 1, --pin=same everything on CPU 0: on 2 cores placement changes results
// up to 8x, and an unpinned run flips between the two.

#include <pipeline/mpmc_queue.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <tbb/concurrent_queue.h>

#include "baselines/moodycamel_bounded.hpp"
#include "baselines/mutex_cv_queue.hpp"
#include "baselines/vyukov_yield_ring.hpp"

namespace {

constexpr std::size_t capacity = 1024;
constexpr std::size_t bulk_size = 64;

// --- items -----------------------------------------------------------------------------------

struct item8 {
  std::uint64_t value = 0;
};

struct item64 {
  std::uint64_t value = 0;
  std::array<std::uint64_t, 7> payload{};
};

static_assert(sizeof(item8) == 8 && sizeof(item64) == 64);

// --- placement -------------------------------------------------------------------------------

enum class placement { any, split, same };
enum class role { producer, consumer };

void place_this_thread(placement where, role who) {
  if (where == placement::any) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(where == placement::split && who == role::consumer ? 1 : 0, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// --- candidates: one producer and one consumer handle per thread ----------------------------

enum class kind { ours, peer, ceiling };

template <class T>
struct ours {
  static constexpr std::string_view name = "pipeline::mpmc_queue";
  static constexpr kind what = kind::ours;
  static constexpr bool has_bulk = true;

  explicit ours(std::size_t cap) : q(cap) {}
  pipeline::mpmc_queue<T> q;

  struct producer {
    explicit producer(ours& c) : q(&c.q) {}
    void push(T&& v) { (void)q->push(std::move(v)); }
    auto push_bulk(T* items, std::size_t n) -> std::size_t { return q->push_bulk({items, n}).count; }
    pipeline::mpmc_queue<T>* q;
  };
  struct consumer {
    explicit consumer(ours& c) : q(&c.q) {}
    auto pop() -> T { return *q->pop(); }
    auto pop_bulk(T* out, std::size_t max) -> std::size_t { return q->pop_bulk({out, max}).count; }
    pipeline::mpmc_queue<T>* q;
  };
};

// For queues that need no per-thread state: both handles forward to the queue. Every adapter
// takes items by reference: a by-value hop makes GCC 12 spill 64-byte items through the stack
// for some queues and not others, which measures the compiler, not the queue.
template <class Q>
struct direct {
  explicit direct(Q& q) : q_(&q) {}
  void push(auto&& v) { q_->push(std::forward<decltype(v)>(v)); }
  auto pop() { return q_->pop(); }
  auto push_bulk(auto* items, std::size_t n) -> std::size_t { return q_->push_bulk(items, n); }
  auto pop_bulk(auto* out, std::size_t max) -> std::size_t { return q_->pop_bulk(out, max); }
  Q* q_;
};

template <class T>
struct mutex_cv : bench::mutex_cv_queue<T> {
  static constexpr std::string_view name = "mutex_cv (baseline)";
  static constexpr kind what = kind::peer;
  static constexpr bool has_bulk = true;
  using bench::mutex_cv_queue<T>::mutex_cv_queue;
  using producer = direct<mutex_cv>;
  using consumer = direct<mutex_cv>;
};

template <class T>
struct moodycamel_sem : bench::moodycamel_bounded<T> {
  static constexpr std::string_view name = "moodycamel_blocking+sem";
  static constexpr kind what = kind::peer;
  static constexpr bool has_bulk = true;
  using bench::moodycamel_bounded<T>::moodycamel_bounded;
  using producer = typename bench::moodycamel_bounded<T>::producer;
  using consumer = typename bench::moodycamel_bounded<T>::consumer;
};

template <class T>
struct tbb_bounded {
  static constexpr std::string_view name = "tbb::concurrent_bounded_queue";
  static constexpr kind what = kind::peer;
  static constexpr bool has_bulk = false;

  explicit tbb_bounded(std::size_t cap) { q.set_capacity(static_cast<std::ptrdiff_t>(cap)); }
  void push(T&& v) { q.push(std::move(v)); }
  auto pop() -> T {
    T v;
    q.pop(v);
    return v;
  }
  auto push_bulk(T*, std::size_t) -> std::size_t { return 0; }
  auto pop_bulk(T*, std::size_t) -> std::size_t { return 0; }
  tbb::concurrent_bounded_queue<T> q;
  using producer = direct<tbb_bounded>;
  using consumer = direct<tbb_bounded>;
};

template <class T>
struct ceiling : bench::vyukov_yield_ring<T> {
  static constexpr std::string_view name = "vyukov_ring+yield (ceiling)";
  static constexpr kind what = kind::ceiling;
  static constexpr bool has_bulk = false;
  using bench::vyukov_yield_ring<T>::vyukov_yield_ring;
  auto push_bulk(T*, std::size_t) -> std::size_t { return 0; }
  auto pop_bulk(T*, std::size_t) -> std::size_t { return 0; }
  using producer = direct<ceiling>;
  using consumer = direct<ceiling>;
};

// --- the measurements ------------------------------------------------------------------------

void wait_for(const std::atomic<bool>& go) {
  while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
}

// Moves `items` items (values 1..items) through a fresh queue; seconds, or nothing when the sum
// of what was popped is wrong.
template <template <class> class Candidate, class Item>
auto transfer(std::size_t producers, std::size_t consumers, std::uint64_t items, bool bulk, placement where)
    -> std::optional<double> {
  Candidate<Item> queue{capacity};
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::uint64_t> total{0};
  const std::uint64_t per_producer = items / producers;
  const std::uint64_t per_consumer = items / consumers;
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      place_this_thread(where, role::producer);
      typename Candidate<Item>::producer handle{queue};
      ready.fetch_add(1);
      wait_for(go);
      const std::uint64_t first = p * per_producer + 1;
      if (!bulk) {
        for (std::uint64_t i = 0; i < per_producer; ++i) handle.push(Item{first + i});
        return;
      }
      std::array<Item, bulk_size> chunk{};
      for (std::uint64_t i = 0; i < per_producer; i += bulk_size) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bulk_size, per_producer - i));
        for (std::size_t k = 0; k < n; ++k) chunk[k] = Item{first + i + k};
        for (std::size_t done = 0; done < n;) done += handle.push_bulk(chunk.data() + done, n - done);
      }
    });
  }
  for (std::size_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      place_this_thread(where, role::consumer);
      typename Candidate<Item>::consumer handle{queue};
      ready.fetch_add(1);
      wait_for(go);
      std::uint64_t sum = 0;
      if (!bulk) {
        for (std::uint64_t i = 0; i < per_consumer; ++i) sum += handle.pop().value;
      } else {
        std::array<Item, bulk_size> out{};
        for (std::uint64_t i = 0; i < per_consumer;) {
          const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(bulk_size, per_consumer - i));
          const auto got = handle.pop_bulk(out.data(), want);
          for (std::size_t k = 0; k < got; ++k) sum += out[k].value;
          i += got;
        }
      }
      total.fetch_add(sum);
    });
  }
  while (ready.load() != producers + consumers) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (total.load() != items * (items + 1) / 2) return std::nullopt;
  return seconds;
}

struct latency {
  double p50_ns;
  double p99_ns;
  double seconds;
};

auto now_ns() -> std::uint64_t {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// One item in flight: the producer waits until the previous one arrived, sleeps 20 us, stamps
// the time into the item and pushes it; the consumer, blocked in pop, stamps its arrival.
template <template <class> class Candidate>
auto handoff(std::size_t samples, placement where) -> latency {
  Candidate<item8> queue{capacity};
  std::atomic<std::size_t> arrived{0};
  std::vector<double> lat(samples);
  const auto start = std::chrono::steady_clock::now();
  std::thread producer{[&] {
    place_this_thread(where, role::producer);
    typename Candidate<item8>::producer handle{queue};
    for (std::size_t i = 0; i < samples; ++i) {
      while (arrived.load(std::memory_order_acquire) != i) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::microseconds{20});
      handle.push(item8{now_ns()});
    }
  }};
  std::thread consumer{[&] {
    place_this_thread(where, role::consumer);
    typename Candidate<item8>::consumer handle{queue};
    for (std::size_t i = 0; i < samples; ++i) {
      const auto sent = handle.pop().value;
      lat[i] = static_cast<double>(now_ns() - sent);
      arrived.store(i + 1, std::memory_order_release);
    }
  }};
  producer.join();
  consumer.join();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(lat.begin(), lat.end());
  const auto at = [&](double q) { return lat[static_cast<std::size_t>(q * static_cast<double>(samples - 1))]; };
  return {at(0.50), at(0.99), seconds};
}

// Share of its wall time a consumer spends on the CPU while it waits 200 ms on an empty queue.
template <template <class> class Candidate>
auto idle_cpu_share(placement where) -> double {
  Candidate<item8> queue{capacity};
  double share = 0;
  std::thread consumer{[&] {
    place_this_thread(where, role::consumer);
    typename Candidate<item8>::consumer handle{queue};
    const auto cpu = [] {
      timespec t{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
    };
    const auto cpu_start = cpu();
    const auto wall_start = std::chrono::steady_clock::now();
    (void)handle.pop();
    share = (cpu() - cpu_start) / std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  typename Candidate<item8>::producer{queue}.push(item8{1});
  consumer.join();
  return share;
}

// --- registration ----------------------------------------------------------------------------

struct settings {
  placement where = placement::any;
  std::uint64_t items = 1'000'000;  // per single-item case
  std::uint64_t bulk_items = 4'000'000;
  std::size_t latency_samples = 4'000;
  int reps = 5;
};

struct case_id {
  std::string table;  // "single, 8 B" ...
  std::string column;  // "1P1C" ...
  std::string row;     // candidate name
  kind what;
};

std::map<std::string, case_id>& cases() {
  static std::map<std::string, case_id> all;
  return all;
}

template <template <class> class Candidate, class Item>
void register_transfer(const settings& s, bool bulk) {
  if (bulk && !Candidate<Item>::has_bulk) return;
  for (std::size_t threads : {1U, 2U, 4U, 8U}) {
    const auto column = std::to_string(threads) + "P" + std::to_string(threads) + "C";
    const auto table = std::string(bulk ? "bulk 64" : "single") + ", " + std::to_string(sizeof(Item)) + " B";
    const auto row = std::string(Candidate<Item>::name);
    const auto name = table + "/" + column + "/" + row;
    cases()[name] = {table, column, row, Candidate<Item>::what};
    const auto items = bulk ? s.bulk_items : s.items;
    benchmark::RegisterBenchmark(name.c_str(),
                                 [=](benchmark::State& state) {
                                   for (auto _ : state) {
                                     const auto secs = transfer<Candidate, Item>(threads, threads, items, bulk, s.where);
                                     if (!secs) {
                                       state.SkipWithError("wrong sum of popped values");
                                       return;
                                     }
                                     state.SetIterationTime(*secs);
                                     state.counters["items_per_s"] = static_cast<double>(items) / *secs;
                                   }
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
}

template <template <class> class Candidate>
void register_candidate(const settings& s) {
  for (bool bulk : {false, true}) {
    register_transfer<Candidate, item8>(s, bulk);
    register_transfer<Candidate, item64>(s, bulk);
  }
  const auto row = std::string(Candidate<item8>::name);
  const auto name = "latency/" + row;
  cases()[name] = {"latency", "", row, Candidate<item8>::what};
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& state) {
                                 for (auto _ : state) {
                                   const auto r = handoff<Candidate>(s.latency_samples, s.where);
                                   state.SetIterationTime(r.seconds);
                                   state.counters["p50_ns"] = r.p50_ns;
                                   state.counters["p99_ns"] = r.p99_ns;
                                 }
                               })
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

// --- results ---------------------------------------------------------------------------------

// Keeps every repetition's counters; shows only the median rows on the console.
class collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const auto& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
        for (const auto& [key, counter] : run.counters) values_[run.run_name.function_name][key].push_back(counter.value);
      }
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      if (run.run_type == Run::RT_Iteration && run.repetitions > 1) continue;
      shown.push_back(run);
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }

  // The median of a counter over the repetitions of one case, if it ran.
  [[nodiscard]] auto median(const std::string& name, const std::string& counter) const -> std::optional<double> {
    const auto c = values_.find(name);
    if (c == values_.end()) return std::nullopt;
    const auto v = c->second.find(counter);
    if (v == c->second.end() || v->second.empty()) return std::nullopt;
    auto sorted = v->second;
    std::sort(sorted.begin(), sorted.end());
    const auto n = sorted.size();
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

 private:
  std::map<std::string, std::map<std::string, std::vector<double>>> values_;
};

auto human(double v) -> std::string {
  char buf[32];
  if (v >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.3gG", v / 1e9);
  } else if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

auto ratio(double v) -> std::string {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", v);
  return buf;
}

void print_tables(const collector& results, const settings& s) {
  const std::vector<std::string> columns{"1P1C", "2P2C", "4P4C", "8P8C"};
  const std::vector<std::string> tables{"single, 8 B", "single, 64 B", "bulk 64, 8 B", "bulk 64, 64 B"};
  // Registration order within a table: ours, peers, ceiling.
  const auto rows_of = [&](const std::string& table) {
    std::vector<std::pair<std::string, kind>> rows;
    for (const auto& entry : cases()) {
      const case_id& id = entry.second;  // not a structured binding: clang 14 cannot capture one
      if (id.table == table && std::find_if(rows.begin(), rows.end(), [&](auto& r) { return r.first == id.row; }) == rows.end()) {
        rows.emplace_back(id.row, id.what);
      }
    }
    std::stable_sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second < b.second; });
    return rows;
  };

  std::printf("\n");
  for (const auto& table : tables) {
    std::printf("### %s (items/s, median of %d)\n\n| case | %s | %s | %s | %s |\n|---|---|---|---|---|\n", table.c_str(),
                s.reps, columns[0].c_str(), columns[1].c_str(), columns[2].c_str(), columns[3].c_str());
    const auto rows = rows_of(table);
    std::map<std::string, double> mine;
    std::map<std::string, double> best_peer;
    std::map<std::string, double> top;
    for (const auto& [row, what] : rows) {
      std::printf("| %s |", row.c_str());
      for (const auto& column : columns) {
        const auto v = results.median(table + "/" + column + "/" + row, "items_per_s");
        std::printf(" %s |", v ? human(*v).c_str() : "-");
        if (!v) continue;
        if (what == kind::ours) mine[column] = *v;
        if (what == kind::peer) best_peer[column] = std::max(best_peer[column], *v);
        if (what == kind::ceiling) top[column] = *v;
      }
      std::printf("\n");
    }
    const auto ratio_row = [&](const char* label, std::map<std::string, double>& against) {
      if (against.empty()) return;
      std::printf("| %s |", label);
      for (const auto& column : columns) {
        const bool both = mine.contains(column) && against.contains(column) && against[column] > 0;
        std::printf(" %s |", both ? ratio(mine[column] / against[column]).c_str() : "-");
      }
      std::printf("\n");
    };
    ratio_row("**mpmc_queue / best blocking peer**", best_peer);
    ratio_row("**mpmc_queue / ceiling**", top);
    std::printf("\n");
  }

  std::printf("### hand-off latency, 1P1C, one item in flight (ns, median of %d)\n\n| case | p50 | p99 |\n|---|---|---|\n", s.reps);
  for (const auto& [row, what] : rows_of("latency")) {
    const auto p50 = results.median("latency/" + row, "p50_ns");
    const auto p99 = results.median("latency/" + row, "p99_ns");
    std::printf("| %s | %s | %s |\n", row.c_str(), p50 ? human(*p50).c_str() : "-", p99 ? human(*p99).c_str() : "-");
  }
}

// CPU time used on the whole machine and by this process, to report what others used meanwhile.
struct cpu_sample {
  double machine_busy_s;
  double machine_steal_s;
  double self_s;
  std::chrono::steady_clock::time_point at;
};

auto sample_cpu() -> cpu_sample {
  std::ifstream stat{"/proc/stat"};
  std::string cpu;
  std::array<double, 8> f{};  // user nice system idle iowait irq softirq steal
  stat >> cpu;
  for (auto& x : f) stat >> x;
  const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  const auto secs = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {(f[0] + f[1] + f[2] + f[5] + f[6]) / tick, f[7] / tick, secs(self.ru_utime) + secs(self.ru_stime),
          std::chrono::steady_clock::now()};
}

void print_machine(const cpu_sample& a, const cpu_sample& b, const settings& s) {
  const auto wall = std::chrono::duration<double>(b.at - a.at).count();
  const auto cpus = static_cast<double>(std::thread::hardware_concurrency());
  const auto others = std::max(0.0, (b.machine_busy_s - a.machine_busy_s) - (b.self_s - a.self_s));
  std::string load;
  std::getline(std::ifstream{"/proc/loadavg"}, load);
  std::printf("\nmachine: %u CPUs; run took %.0f s; co-load by other processes %.0f%% of the machine, steal %.0f%%; "
              "loadavg at end: %s\nsettings: %s, %llu items per single case, %llu per bulk case, %zu latency samples, "
              "%d repetitions\n",
              std::thread::hardware_concurrency(), wall, 100 * others / (wall * cpus),
              100 * (b.machine_steal_s - a.machine_steal_s) / (wall * cpus), load.c_str(),
              s.where == placement::any ? "unpinned" : s.where == placement::split ? "--pin=split" : "--pin=same",
              static_cast<unsigned long long>(s.items), static_cast<unsigned long long>(s.bulk_items), s.latency_samples,
              s.reps);
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      s.items = 100'000;
      s.bulk_items = 400'000;
      s.latency_samples = 500;
      s.reps = 1;
    } else if (arg == "--pin=split") {
      s.where = placement::split;
    } else if (arg == "--pin=same") {
      s.where = placement::same;
    } else if (arg.starts_with("--reps=")) {
      s.reps = std::atoi(argv[i] + 7);
    } else if (arg.starts_with("--items=")) {
      s.items = std::strtoull(argv[i] + 8, nullptr, 10);
      s.bulk_items = 4 * s.items;
    } else {
      rest.push_back(argv[i]);
    }
  }
  // Divisible by 8 threads times 64-item chunks, so every thread moves whole chunks.
  s.items -= s.items % (8 * bulk_size);
  s.bulk_items -= s.bulk_items % (8 * bulk_size);

  std::string reps_flag = "--benchmark_repetitions=" + std::to_string(s.reps);
  std::string interleave_flag = "--benchmark_enable_random_interleaving=true";
  rest.insert(rest.begin() + 1, {reps_flag.data(), interleave_flag.data()});
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;

  register_candidate<ours>(s);
  register_candidate<mutex_cv>(s);
  register_candidate<moodycamel_sem>(s);
  register_candidate<tbb_bounded>(s);
  register_candidate<ceiling>(s);

  collector results;
  const auto before = sample_cpu();
  benchmark::RunSpecifiedBenchmarks(&results);
  const auto after = sample_cpu();
  print_tables(results, s);
  std::printf("\n### CPU used by a consumer blocked 200 ms on an empty queue (share of wall time)\n\n"
              "| case | CPU |\n|---|---|\n");
  const auto idle_row = [&]<template <class> class Candidate>() {
    std::printf("| %s | %.1f%% |\n", std::string(Candidate<item8>::name).c_str(), 100 * idle_cpu_share<Candidate>(s.where));
  };
  idle_row.operator()<ours>();
  idle_row.operator()<mutex_cv>();
  idle_row.operator()<moodycamel_sem>();
  idle_row.operator()<tbb_bounded>();
  idle_row.operator()<ceiling>();
  print_machine(before, after, s);
  benchmark::Shutdown();
  return 0;
}
