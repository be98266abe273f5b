// Exactly-once mode of pipeline::run: a transactional sink (tests/support/ledger_sink.hpp)
// commits each batch with its ledger entry, and a rerun after a crash or a stop skips what
// earlier runs committed above the checkpoint, whatever its batch size and worker count.
// A crash is modelled as a kill -9 is: from a chosen commit on, nothing reaches any store.
#include <pipeline/any_sink.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/crash_point.hpp"
#include "support/ledger_sink.hpp"

namespace {

using pipeline::position;
using test_support::crash_point;

auto numbers(int n) -> std::vector<int> {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

auto sorted(std::vector<int> v) -> std::vector<int> {
  std::sort(v.begin(), v.end());
  return v;
}

// A source that cannot say where each record stands: batch ends only.
class ends_only_source {
 public:
  using value_type = int;
  ends_only_source(std::vector<int> records, std::size_t batch_size) : inner_(std::move(records), batch_size) {}
  auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<int>>> {
    auto next = inner_.next_batch(stop);
    if (next && *next) (*next)->positions.clear();
    return next;
  }
  auto seek(const position& pos) -> pipeline::result<void> { return inner_.seek(pos); }

 private:
  pipeline::vector_source<int> inner_;
};

// A transform that dead-letters every 97th record.
auto checked(const int& v) -> pipeline::result<int> {
  if (v % 97 == 96) return pipeline::invalid_input_error("malformed");
  return v;
}

// A transform that holds every 4th batch of 10 a little, so that other workers commit the
// batches after it first: a crash then leaves committed batches above the checkpoint.
auto uneven(const int& v) -> pipeline::result<int> {
  if (v % 40 == 0) std::this_thread::sleep_for(std::chrono::milliseconds{3});
  return v;
}

class exactly_once : public ::testing::Test {
 protected:
  struct attempt {
    std::size_t batch_size;
    std::size_t workers;
    long commits;  // before the crash; negative: no crash
  };

  auto options(std::size_t workers) -> pipeline::runner_options {
    pipeline::runner_options o;
    o.name = "orders";
    o.workers = workers;
    o.exactly_once = true;
    o.queue_capacity = 8;
    o.checkpoint_interval = std::chrono::milliseconds{0};
    o.retry.initial = std::chrono::milliseconds{1};
    o.retry.max_attempts = 2;
    return o;
  }

  template <class Source, class Transform>
  auto run(const attempt& a, Transform&& transform, std::stop_token stop = {}) -> pipeline::run_report {
    test_support::crash_point crash{a.commits};
    test_support::crashing_sink sink{ledger_, crash};
    if (refuses_) sink.refuse([](const int& v) { return v % 101 == 100; });
    test_support::crashing_store store{checkpoints_, crash};
    test_support::crashing_dlq dlq{dlq_, crash};
    Source source{numbers(count_), a.batch_size};
    return pipeline::run(source, std::forward<Transform>(transform), sink, dlq, store, options(a.workers), stop);
  }

  // Every good record in the sink once, every bad one in the DLQ once.
  void expect_exactly_once(bool with_bad_records) {
    std::vector<int> good;
    std::set<int> bad;
    for (int v = 0; v < count_; ++v) {
      if (with_bad_records && (v % 97 == 96 || v % 101 == 100)) bad.insert(v);
      else good.push_back(v);
    }
    EXPECT_EQ(sorted(ledger_.records()), good);
    std::multiset<std::string> letters;
    for (const auto& letter : dlq_.entries()) letters.insert(letter.payload);
    std::multiset<std::string> expected;
    for (int v : bad) expected.insert(std::to_string(v));
    EXPECT_EQ(letters, expected);
    EXPECT_EQ(ledger_.ledger_size(), 0U) << "a completed run forgets its ledger";
  }

  int count_ = 3000;
  bool refuses_ = true;  // the sink refuses every 101st record
  test_support::ledger_sink<int> ledger_;
  pipeline::memory_checkpoint_store checkpoints_;
  pipeline::memory_dlq dlq_;
};

TEST_F(exactly_once, reruns_after_crashes_with_the_same_shape_write_each_record_once) {
  std::uint64_t skipped = 0;
  for (long commits : {37L, 5L, 90L, 61L}) {
    auto report = run<pipeline::vector_source<int>>({10, 4, commits}, uneven);
    ASSERT_EQ(report.status, pipeline::run_status::failed);
    skipped += report.skipped;
  }
  auto last = run<pipeline::vector_source<int>>({10, 4, -1}, pipeline::identity{});
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  skipped += last.skipped;
  // The identity run's only bad records are those the sink refuses.
  const auto all = numbers(count_);
  std::vector<int> good;
  for (int v : all) {
    if (v % 101 != 100) good.push_back(v);
  }
  EXPECT_EQ(sorted(ledger_.records()), good);
  EXPECT_EQ(dlq_.entries().size(), all.size() - good.size());
  EXPECT_GT(skipped, 0U) << "the crashes left committed batches above the checkpoint";
  EXPECT_EQ(ledger_.ledger_size(), 0U);
}

TEST_F(exactly_once, reruns_with_other_batch_sizes_and_workers_write_each_record_once) {
  const std::vector<attempt> attempts{{10, 4, 40}, {7, 2, 55}, {33, 3, 12}, {16, 1, 30}, {5, 4, 80}, {23, 4, -1}};
  for (const auto& a : attempts) {
    auto report = run<pipeline::vector_source<int>>(a, checked);
    ASSERT_EQ(report.status, a.commits < 0 ? pipeline::run_status::completed : pipeline::run_status::failed)
        << (report.failure ? report.failure->message : "");
  }
  expect_exactly_once(true);
}

TEST_F(exactly_once, a_stop_leaves_nothing_to_redo) {
  for (int round = 0; round < 5; ++round) {
    std::stop_source stop;
    std::atomic<int> seen{0};
    auto report = run<pipeline::vector_source<int>>({8, 4, -1},
                                                    [&](const int& v) -> pipeline::result<int> {
                                                      if (seen.fetch_add(1) == 300) stop.request_stop();
                                                      return checked(v);
                                                    },
                                                    stop.get_token());
    ASSERT_EQ(report.status, pipeline::run_status::stopped);
  }
  auto last = run<pipeline::vector_source<int>>({8, 4, -1}, checked);
  ASSERT_EQ(last.status, pipeline::run_status::completed);
  expect_exactly_once(true);
}

TEST_F(exactly_once, without_record_positions_the_same_batch_size_skips_whole_batches) {
  count_ = 2000;
  refuses_ = false;  // a failing batch cannot be split without record positions
  std::uint64_t skipped = 0;
  for (long commits : {23L, 41L, 17L, 60L}) {
    auto report = run<ends_only_source>({10, 4, commits}, uneven);
    ASSERT_EQ(report.status, pipeline::run_status::failed);
    skipped += report.skipped;
  }
  auto last = run<ends_only_source>({10, 3, -1}, uneven);
  skipped += last.skipped;
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  EXPECT_EQ(sorted(ledger_.records()), numbers(count_));
  EXPECT_GT(skipped, 0U) << "the crashes left committed batches above the checkpoint";
}

TEST_F(exactly_once, without_record_positions_a_batch_that_must_be_split_fails_the_run) {
  count_ = 300;
  auto report = run<ends_only_source>({10, 2, -1}, pipeline::identity{});
  ASSERT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_THAT(report.failure->message, ::testing::HasSubstr("no per-record positions"));
  for (int v : ledger_.records()) EXPECT_NE(v % 101, 100);
}

TEST_F(exactly_once, without_record_positions_other_batch_boundaries_are_a_conflict) {
  // An earlier run committed records [10, 20) and crashed before any checkpoint.
  const std::vector<int> committed{10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  ASSERT_TRUE(ledger_.write_committed(std::span{committed},
                                      {"orders", 0, 1, 1, 0, position::from_integer(10), position::from_integer(20)},
                                      {}));
  auto report = run<ends_only_source>({15, 1, -1}, pipeline::identity{});
  ASSERT_EQ(report.status, pipeline::run_status::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::conflict);
  EXPECT_THAT(report.failure->message, ::testing::HasSubstr("cannot be told apart"));
  EXPECT_EQ(sorted(ledger_.records()), committed) << "the overlapping batch was not written";
}

TEST_F(exactly_once, with_record_positions_other_batch_boundaries_skip_record_by_record) {
  const std::vector<int> committed{10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  ASSERT_TRUE(ledger_.write_committed(std::span{committed},
                                      {"orders", 0, 1, 1, 0, position::from_integer(10), position::from_integer(20)},
                                      {}));
  count_ = 100;
  auto report = run<pipeline::vector_source<int>>({15, 2, -1}, pipeline::identity{});
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.skipped, 10U);
  std::vector<int> good;
  for (int v = 0; v < count_; ++v) good.push_back(v);
  EXPECT_EQ(sorted(ledger_.records()), good);
  EXPECT_EQ(ledger_.ledger_size(), 0U);
}

TEST_F(exactly_once, entries_below_the_checkpoint_are_forgotten_while_the_run_goes) {
  count_ = 1000;
  std::size_t largest = 0;
  refuses_ = false;
  // One worker finishes batches in order: each save covers every batch committed before it.
  auto report = run<pipeline::vector_source<int>>({10, 1, -1}, [&](const int& v) -> pipeline::result<int> {
    largest = std::max(largest, ledger_.ledger_size());
    return v;
  });
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(largest, 0U) << "the ledger holds the batches above the checkpoint, not the whole run";
}

}  // namespace

namespace {

TEST(exactly_once_any_sink, an_any_sink_over_a_transactional_sink_is_written_exactly_once) {
  test_support::ledger_sink<int> ledger;
  pipeline::any_sink<int> sink{std::ref(ledger)};
  EXPECT_TRUE(pipeline::is_transactional(sink));
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::memory_dlq dlq;
  pipeline::vector_source<int> source{numbers(500), 10};
  pipeline::runner_options options;
  options.name = "any";
  options.exactly_once = true;
  const auto report = pipeline::run(source, pipeline::identity{}, sink, dlq, checkpoints, options);
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(ledger.records()), numbers(500));
  EXPECT_EQ(ledger.ledger_size(), 0U) << "written through the ledger, then forgotten";
  EXPECT_GT(ledger.committed_writes(), 0U);
}

// Exactly-once is asked for: a transactional sink without the option is written as any other
// sink (no ledger entries), and the option with a sink that keeps no ledger fails at once.
TEST(exactly_once_option, the_ledger_is_used_only_when_exactly_once_is_set) {
  test_support::ledger_sink<int> ledger;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::memory_dlq dlq;
  pipeline::vector_source<int> source{numbers(300), 10};
  pipeline::runner_options options;
  options.name = "plain";
  const auto report = pipeline::run(source, pipeline::identity{}, ledger, dlq, checkpoints, options);
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(ledger.records()), numbers(300));
  EXPECT_EQ(ledger.committed_writes(), 0U);
}

TEST(exactly_once_option, a_sink_without_a_ledger_fails_the_run_before_it_writes) {
  std::vector<int> written;
  struct plain {
    using value_type = int;
    std::vector<int>* out;
    auto write(std::span<const int> records, std::stop_token) -> pipeline::result<void> {
      out->insert(out->end(), records.begin(), records.end());
      return pipeline::ok();
    }
  };
  plain sink{&written};
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::memory_dlq dlq;
  pipeline::vector_source<int> source{numbers(100), 10};
  pipeline::runner_options options;
  options.name = "plain";
  options.exactly_once = true;
  const auto report = pipeline::run(source, pipeline::identity{}, sink, dlq, checkpoints, options);
  ASSERT_EQ(report.status, pipeline::run_status::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(report.failure->message, ::testing::HasSubstr("keeps no batch ledger"));
  EXPECT_TRUE(written.empty());
}

TEST(exactly_once_any_sink, an_any_sink_over_a_plain_sink_is_not_transactional) {
  struct plain {
    using value_type = int;
    auto write(std::span<const int>, std::stop_token) -> pipeline::result<void> { return pipeline::ok(); }
  };
  pipeline::any_sink<int> sink{plain{}};
  EXPECT_FALSE(pipeline::is_transactional(sink));
  EXPECT_FALSE(sink.committed_batches("job", {}));
}

}  // namespace
