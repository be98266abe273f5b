#include <pipeline/clock.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/run_partitions.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <stdexcept>
#include <thread>

namespace {

using ::testing::HasSubstr;

auto ids_of(const pipeline::partition& p) -> std::vector<int> {
  const auto range = std::get<pipeline::id_range>(p.bounds);
  std::vector<int> ids(static_cast<std::size_t>(range.last - range.first + 1));
  std::iota(ids.begin(), ids.end(), static_cast<int>(range.first));
  return ids;
}

class run_partitions : public ::testing::Test {
 protected:
  auto options() -> pipeline::runner_options {
    pipeline::runner_options o;
    o.name = "test";
    o.workers = 2;
    o.checkpoint_interval = std::chrono::milliseconds{0};
    o.time = &clock_;
    return o;
  }
  auto make_source() {
    return [](const pipeline::partition& p) { return pipeline::vector_source<int>{ids_of(p), 20}; };
  }

  pipeline::manual_clock clock_;
  pipeline::memory_sink<int> sink_;
  pipeline::memory_dlq dlq_;
  pipeline::memory_checkpoint_store checkpoints_;
};

TEST_F(run_partitions, each_partition_is_read_whole_with_its_own_checkpoint) {
  const auto plan = pipeline::plan_id_ranges(0, 999, 4);
  auto reports = pipeline::run_partitions(plan, make_source(), pipeline::identity{}, sink_, dlq_, checkpoints_, options(), 2);
  ASSERT_EQ(reports.size(), 4u);
  for (const auto& r : reports) EXPECT_EQ(r.report.status, pipeline::run_status::completed) << r.part.name;
  auto written = sink_.records();
  std::sort(written.begin(), written.end());
  std::vector<int> all(1000);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(written, all);
  EXPECT_EQ(checkpoints_.load("test/0..249")->pos, pipeline::position::from_integer(250));
  EXPECT_EQ(checkpoints_.load("test/750..999")->pos, pipeline::position::from_integer(250));
}

TEST_F(run_partitions, a_failing_partition_does_not_stop_the_others) {
  const auto plan = pipeline::plan_id_ranges(0, 399, 4);
  auto reports = pipeline::run_partitions(
      plan,
      [](const pipeline::partition& p) {
        if (p.index == 2) throw std::runtime_error("cannot connect to shard 2");
        return pipeline::vector_source<int>{ids_of(p), 20};
      },
      pipeline::identity{}, sink_, dlq_, checkpoints_, options(), 4);
  EXPECT_EQ(reports[2].report.status, pipeline::run_status::failed);
  EXPECT_THAT(reports[2].report.failure->message, HasSubstr("cannot connect to shard 2"));
  for (std::size_t i : {0u, 1u, 3u}) EXPECT_EQ(reports[i].report.status, pipeline::run_status::completed);
  EXPECT_EQ(sink_.records().size(), 300u);
}

TEST_F(run_partitions, dead_letters_carry_their_partition_index) {
  sink_.fail_records([](const int& v) -> std::optional<pipeline::error> {
    if (v == 600) return pipeline::permanent_error("bad");
    return std::nullopt;
  });
  const auto plan = pipeline::plan_id_ranges(0, 999, 4);
  (void)pipeline::run_partitions(plan, make_source(), pipeline::identity{}, sink_, dlq_, checkpoints_, options(), 4);
  ASSERT_EQ(dlq_.entries().size(), 1u);
  EXPECT_EQ(dlq_.entries()[0].partition, 2u);
}

// Counts the sources alive at once: each partition's source lives as long as its run.
struct counted_source {
  using value_type = int;
  pipeline::vector_source<int> inner;
  std::atomic<int>* alive;
  std::atomic<int>* most;
  counted_source(pipeline::vector_source<int> s, std::atomic<int>& a, std::atomic<int>& m)
      : inner(std::move(s)), alive(&a), most(&m) {
    const int now = ++*alive;
    int seen = most->load();
    while (now > seen && !most->compare_exchange_weak(seen, now)) {
    }
  }
  counted_source(counted_source&& other) noexcept : inner(std::move(other.inner)), alive(other.alive), most(other.most) {
    other.alive = nullptr;
  }
  counted_source(const counted_source&) = delete;
  ~counted_source() {
    if (alive != nullptr) --*alive;
  }
  auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<int>>> {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
    return inner.next_batch(stop);
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> { return inner.seek(p); }
};

TEST_F(run_partitions, never_runs_more_partitions_at_once_than_max_concurrent) {
  std::atomic<int> alive{0};
  std::atomic<int> most{0};
  const auto plan = pipeline::plan_id_ranges(0, 799, 8);
  auto reports = pipeline::run_partitions(
      plan, [&](const pipeline::partition& p) { return counted_source{{ids_of(p), 20}, alive, most}; },
      pipeline::identity{}, sink_, dlq_, checkpoints_, options(), 3);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2);
  EXPECT_EQ(sink_.records().size(), 800u);
}

TEST_F(run_partitions, a_stop_reports_the_partitions_not_started_as_stopped_with_nothing_read) {
  std::stop_source stop;
  stop.request_stop();
  const auto plan = pipeline::plan_id_ranges(0, 99, 4);
  auto reports =
      pipeline::run_partitions(plan, make_source(), pipeline::identity{}, sink_, dlq_, checkpoints_, options(), 2, stop.get_token());
  for (const auto& r : reports) {
    EXPECT_EQ(r.report.status, pipeline::run_status::stopped);
    EXPECT_EQ(r.report.read, 0u);
  }
}

TEST_F(run_partitions, zero_concurrency_throws) {
  EXPECT_THROW((void)pipeline::run_partitions(pipeline::plan_id_ranges(0, 9, 2), make_source(), pipeline::identity{}, sink_,
                                              dlq_, checkpoints_, options(), 0),
               std::invalid_argument);
}

}  // namespace
