#include <pipeline/clock.hpp>
#include <pipeline/limited_sink.hpp>
#include <pipeline/memory/memory_sink.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

static_assert(pipeline::per_record_sink<pipeline::limited_sink<pipeline::memory_sink<int>>>);

// Refuses odd numbers, per record.
auto refusing_odd_numbers(pipeline::memory_sink<int>& sink) -> pipeline::memory_sink<int>& {
  sink.fail_records([](int v) -> std::optional<pipeline::error> {
    if (v % 2 != 0) return pipeline::permanent_error("odd");
    return std::nullopt;
  });
  return sink;
}

// A per-record sink whose second call fails as a whole (a connection lost between pieces).
struct second_call_fails {
  using value_type = int;
  std::vector<int> stored;
  int calls = 0;
  auto write(std::span<const int> r, std::stop_token) -> pipeline::result<void> {
    stored.insert(stored.end(), r.begin(), r.end());
    return pipeline::ok();
  }
  auto write_each(std::span<const int> r, std::stop_token) -> pipeline::result<std::vector<pipeline::rejected_record>> {
    if (++calls == 2) return pipeline::transient_error("timeout");
    stored.insert(stored.end(), r.begin(), r.end());
    return std::vector<pipeline::rejected_record>{};
  }
};

// Records how many writes run at once.
struct gauge_sink {
  using value_type = int;
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  std::atomic<int> records{0};
  auto write(std::span<const int> r, std::stop_token) -> pipeline::result<void> {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
    std::this_thread::sleep_for(2ms);
    records += static_cast<int>(r.size());
    --now;
    return pipeline::ok();
  }
};

static_assert(!pipeline::per_record_sink<pipeline::limited_sink<gauge_sink>>);  // no write_each to forward

TEST(limited_sink, never_runs_more_writes_at_once_than_max_in_flight) {
  gauge_sink inner;
  pipeline::limited_sink<gauge_sink> sink{inner, {.rate = nullptr, .rate_per_record = true, .max_in_flight = 3}};
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < 8; ++w) {
      workers.emplace_back([&] {
        std::vector<int> one{1};
        for (int i = 0; i < 10; ++i) EXPECT_TRUE(sink.write(std::span{std::as_const(one)}, {}));
      });
    }
  }
  EXPECT_LE(inner.most.load(), 3);
  EXPECT_GE(inner.most.load(), 2);  // the cap was reached, not avoided by luck of scheduling
  EXPECT_EQ(inner.records.load(), 80);
}

TEST(limited_sink, a_shared_rate_paces_records_in_virtual_time) {
  pipeline::manual_clock clock;
  pipeline::rate_limiter per_minute{100, 1min, 10, clock};
  pipeline::memory_sink<int> inner;
  pipeline::limited_sink<pipeline::memory_sink<int>> sink{inner, {.rate = &per_minute, .rate_per_record = true, .max_in_flight = 0}};
  std::vector<int> rows(250);
  std::iota(rows.begin(), rows.end(), 0);
  const auto start = clock.now();
  ASSERT_TRUE(sink.write(std::span{std::as_const(rows)}, {}));
  // 10 at once (the burst), then 240 more at 100 a minute: 2.4 minutes.
  EXPECT_EQ(clock.now() - start, std::chrono::duration_cast<pipeline::clock::duration>(144s));
  EXPECT_EQ(inner.records(), rows);
  EXPECT_EQ(inner.write_calls(), 25u);  // pieces no larger than the burst
}

TEST(limited_sink, a_rate_per_call_takes_one_token_per_write) {
  pipeline::manual_clock clock;
  pipeline::rate_limiter per_second{2, 1s, 1, clock};
  pipeline::memory_sink<int> inner;
  pipeline::limited_sink<pipeline::memory_sink<int>> sink{inner, {.rate = &per_second, .rate_per_record = false, .max_in_flight = 0}};
  std::vector<int> rows(100, 7);
  const auto start = clock.now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink.write(std::span{std::as_const(rows)}, {}));
  EXPECT_EQ(clock.now() - start, std::chrono::duration_cast<pipeline::clock::duration>(1s));  // 1 now, 2 more at 2/s
  EXPECT_EQ(inner.records().size(), 300u);
}

TEST(limited_sink, a_stop_while_waiting_reports_stopped_and_keeps_the_pieces_already_written) {
  pipeline::rate_limiter slow{1, 1h, 1};
  pipeline::memory_sink<int> inner;
  pipeline::limited_sink<pipeline::memory_sink<int>> sink{inner, {.rate = &slow, .rate_per_record = true, .max_in_flight = 0}};
  std::vector<int> rows{1, 2};
  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  }};
  auto r = sink.write(std::span{std::as_const(rows)}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_EQ(inner.records(), std::vector<int>{1});  // the first piece had its token
}

TEST(limited_sink, write_each_refuses_by_index_in_the_whole_batch_across_pieces) {
  pipeline::manual_clock clock;
  pipeline::rate_limiter per_second{4, 1s, 4, clock};
  pipeline::memory_sink<int> inner;
  pipeline::limited_sink<pipeline::memory_sink<int>> sink{refusing_odd_numbers(inner),
                                                          {.rate = &per_second, .rate_per_record = true, .max_in_flight = 2}};
  EXPECT_TRUE(pipeline::answers_per_record(sink));
  std::vector<int> rows(10);
  std::iota(rows.begin(), rows.end(), 0);
  auto refused = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(refused);
  std::vector<std::size_t> indices;
  for (const auto& r : *refused) indices.push_back(r.index);
  EXPECT_THAT(indices, ::testing::ElementsAre(1u, 3u, 5u, 7u, 9u));
  EXPECT_THAT(inner.records(), ::testing::ElementsAre(0, 2, 4, 6, 8));
  EXPECT_EQ(inner.write_calls(), 3u);  // pieces of 4, 4 and 2
}

// The first piece is committed, so the failure of the second refuses only what is left.
TEST(limited_sink, write_each_refuses_the_rest_when_a_later_piece_fails_as_a_whole) {
  pipeline::manual_clock clock;
  pipeline::rate_limiter per_second{2, 1s, 2, clock};
  second_call_fails inner;
  pipeline::limited_sink<second_call_fails> sink{inner, {.rate = &per_second, .rate_per_record = true, .max_in_flight = 0}};
  std::vector<int> rows{10, 11, 12, 13, 14};
  auto refused = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(refused);
  const auto timeout = pipeline::transient_error("timeout");
  EXPECT_THAT(*refused, ::testing::ElementsAre(pipeline::rejected_record{2, timeout}, pipeline::rejected_record{3, timeout},
                                               pipeline::rejected_record{4, timeout}));
  EXPECT_THAT(inner.stored, ::testing::ElementsAre(10, 11));
}

TEST(limited_sink, write_each_fails_as_a_whole_when_its_first_piece_does) {
  pipeline::memory_sink<int> inner;
  pipeline::limited_sink<pipeline::memory_sink<int>> sink{inner, {.rate = nullptr, .rate_per_record = true, .max_in_flight = 1}};
  inner.fail_next_writes(1, pipeline::transient_error("timeout"));
  std::vector<int> rows{1, 2};
  auto refused = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), pipeline::transient_error("timeout"));
  EXPECT_TRUE(inner.records().empty());
}

}  // namespace
