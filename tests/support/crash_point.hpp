#pragma once

// A crash as a kill -9 makes it, in one process: from a chosen commit on, nothing more reaches
// any store. Wrap the sink, the checkpoint store and the DLQ of a run with one crash_point;
// the commit numbered `commits` (from 0) and every call after it fail with an `internal`
// error, which fails the run, and the stores keep what landed before. For the exactly-once
// tests (tests/test_runner_exactly_once.cpp, tests/sqlite/test_sqlite_exactly_once.cpp,
// tests/file/test_jsonl_exactly_once.cpp); `run_until_crash` is the run the last two make, and
// `run_stopped_after` their stop mid-run.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/result.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/transactional_sink.hpp>

namespace test_support {

/// Thread-safe.
class crash_point {
 public:
  /// `commits` land, then the process is gone; negative: it never crashes.
  explicit crash_point(long commits) : left_(commits < 0 ? std::numeric_limits<long>::max() : commits) {}
  auto commit_lands() -> bool {
    if (crashed_) return false;
    if (left_.fetch_sub(1) <= 0) crashed_ = true;
    return !crashed_;
  }
  [[nodiscard]] auto crashed() const -> bool { return crashed_; }
  static auto gone() -> pipeline::error { return pipeline::internal_error("the process is gone"); }

 private:
  std::atomic<long> left_;
  std::atomic<bool> crashed_{false};
};

/// A transactional sink as a crashing process sees it; it may also refuse records as bad data.
template <pipeline::transactional_sink Sink>
class crashing_sink {
 public:
  using value_type = typename Sink::value_type;
  crashing_sink(Sink& inner, crash_point& crash) : inner_(inner), crash_(crash) {}

  /// Batches holding a record `bad` picks fail with a `permanent` error (the runner splits them).
  void refuse(std::function<bool(const value_type&)> bad) { bad_ = std::move(bad); }

  auto write(std::span<const value_type> records, std::stop_token stop) -> pipeline::result<void> {
    if (!crash_.commit_lands()) return crash_point::gone();
    return inner_.write(records, stop);
  }
  auto write_committed(std::span<const value_type> records, const pipeline::committed_batch& entry,
                       std::stop_token stop) -> pipeline::result<void> {
    if (bad_ && std::any_of(records.begin(), records.end(), bad_)) return pipeline::permanent_error("refused");
    if (!crash_.commit_lands()) return crash_point::gone();
    return inner_.write_committed(records, entry, stop);
  }
  auto committed_batches(std::string_view job, std::stop_token stop)
      -> pipeline::result<std::vector<pipeline::committed_batch>> {
    return inner_.committed_batches(job, stop);
  }
  auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> pipeline::result<void> {
    if (crash_.crashed()) return crash_point::gone();
    return inner_.forget_batches(job, run, sequence, stop);
  }

 private:
  Sink& inner_;
  crash_point& crash_;
  std::function<bool(const value_type&)> bad_;
};

template <class Store>
class crashing_store {
 public:
  crashing_store(Store& inner, crash_point& crash) : inner_(inner), crash_(crash) {}
  auto load(std::string_view key) -> pipeline::result<pipeline::checkpoint> { return inner_.load(key); }
  auto save(std::string_view key, const pipeline::position& pos, std::uint64_t version)
      -> pipeline::result<std::uint64_t> {
    if (crash_.crashed()) return crash_point::gone();
    return inner_.save(key, pos, version);
  }

 private:
  Store& inner_;
  crash_point& crash_;
};

template <class Dlq>
class crashing_dlq {
 public:
  crashing_dlq(Dlq& inner, crash_point& crash) : inner_(inner), crash_(crash) {}
  auto write(std::span<const pipeline::dead_letter> letters, std::stop_token stop) -> pipeline::result<void> {
    if (crash_.crashed()) return crash_point::gone();
    return inner_.write(letters, stop);
  }

 private:
  Dlq& inner_;
  crash_point& crash_;
};

/// One run of an exactly-once crash test: its shape, and the commits that land before the crash.
struct crash_attempt {
  std::size_t batch_size;
  std::size_t workers;
  long commits;  // before the crash; negative: no crash
};

/// `records` (a `vector_source` of `a.batch_size`) through `transform` into `sink`, in
/// exactly-once mode with a checkpoint after every batch, the sink, `store` and `dlq` behind one
/// crash point that lets `a.commits` commits land.
template <pipeline::transactional_sink Sink, class Store, class Dlq, class Transform>
auto run_until_crash(const crash_attempt& a, std::vector<typename Sink::value_type> records, Transform&& transform,
                     Sink& sink, Store& store, Dlq& dlq, std::string name, std::stop_token stop = {})
    -> pipeline::run_report {
  crash_point crash{a.commits};
  crashing_sink crashing{sink, crash};
  crashing_store checkpoints{store, crash};
  crashing_dlq letters{dlq, crash};
  pipeline::vector_source<typename Sink::value_type> source{std::move(records), a.batch_size};
  pipeline::runner_options options;
  options.name = std::move(name);
  options.workers = a.workers;
  options.exactly_once = true;
  options.checkpoint_interval = std::chrono::milliseconds{0};
  options.retry.initial = std::chrono::milliseconds{1};
  return pipeline::run(source, std::forward<Transform>(transform), crashing, letters, checkpoints, options, stop);
}

/// `run(stop)` with a stop requested `after` it started: a stop mid-run.
template <class Run>
auto run_stopped_after(std::chrono::milliseconds after, Run&& run) -> pipeline::run_report {
  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(after);
    stop.request_stop();
  }};
  return std::forward<Run>(run)(stop.get_token());
}

}  // namespace test_support
