#include <pipeline/size_or_time_batches.hpp>

#include <pipeline/mpmc_queue.hpp>

#include <gtest/gtest.h>

#include "support/collect.hpp"

#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using batches = std::vector<std::vector<int>>;

using int_queue = pipeline::mpmc_queue<int>;

static_assert(pipeline::timed_queue<int_queue>);
static_assert(!pipeline::timed_queue<std::vector<int>>);

constexpr auto an_hour = std::chrono::milliseconds{1h};

void push(int_queue& q, int value) { ASSERT_EQ(q.push(value), pipeline::push_status::pushed); }

void push_range(int_queue& q, int from, int to) {
  for (int i = from; i < to; ++i) push(q, i);
}

template <class Batches>
auto collect(Batches&& b) {
  return pipeline::test_support::collect_batches(std::forward<Batches>(b));
}

TEST(size_or_time_batches, a_batch_is_emitted_when_it_reaches_max_items) {
  int_queue q{64};
  push_range(q, 0, 7);
  auto g = pipeline::size_or_time_batches(q, {.max_items = 3, .max_wait = an_hour});
  auto it = g.begin();
  EXPECT_EQ(*it, (std::vector<int>{0, 1, 2}));
  ++it;
  EXPECT_EQ(*it, (std::vector<int>{3, 4, 5}));
}

TEST(size_or_time_batches, a_partial_batch_is_emitted_max_wait_after_its_first_item) {
  int_queue q{64};
  push_range(q, 0, 2);
  const auto start = std::chrono::steady_clock::now();
  auto g = pipeline::size_or_time_batches(q, {.max_items = 1000, .max_wait = 50ms});
  std::jthread trickle{[&q] {
    std::this_thread::sleep_for(5ms);
    push(q, 2);
  }};
  const auto& batch = *g.begin();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  // The trickled item usually makes it in time; on a stalled machine it opens the next batch.
  ASSERT_GE(batch.size(), 2U);
  EXPECT_EQ(batch[0], 0);
  EXPECT_EQ(batch[1], 1);
}

TEST(size_or_time_batches, the_first_item_is_waited_for_without_a_deadline) {
  int_queue q{64};
  auto g = pipeline::size_or_time_batches(q, {.max_items = 1000, .max_wait = 1ms});
  std::jthread late{[&q] {
    std::this_thread::sleep_for(100ms);
    push(q, 42);
  }};
  auto it = g.begin();
  EXPECT_EQ(*it, (std::vector<int>{42}));
}

TEST(size_or_time_batches, close_flushes_the_partial_batch_and_ends) {
  int_queue q{64};
  push_range(q, 0, 2);
  q.close();
  EXPECT_EQ(collect(pipeline::size_or_time_batches(q, {.max_items = 1000, .max_wait = an_hour})),
            (batches{{0, 1}}));
}

TEST(size_or_time_batches, close_drains_the_items_still_queued) {
  int_queue q{64};
  push_range(q, 0, 5);
  q.close();
  EXPECT_EQ(collect(pipeline::size_or_time_batches(q, {.max_items = 2, .max_wait = an_hour})),
            (batches{{0, 1}, {2, 3}, {4}}));
}

TEST(size_or_time_batches, a_closed_empty_queue_gives_no_batch) {
  int_queue q{64};
  q.close();
  EXPECT_EQ(collect(pipeline::size_or_time_batches(q, {})), batches{});
}

TEST(size_or_time_batches, stop_flushes_the_partial_batch_and_ends_promptly) {
  int_queue q{64};
  std::stop_source stop;
  batches seen;
  auto g = pipeline::size_or_time_batches(q, {.max_items = 1000, .max_wait = an_hour}, stop.get_token());
  std::jthread consumer{[&] { seen = collect(g); }};
  push_range(q, 0, 3);
  while (q.size() != 0) std::this_thread::sleep_for(1ms);  // the batcher holds all three

  const auto stopped_at = std::chrono::steady_clock::now();
  stop.request_stop();
  consumer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 10s);  // not max_wait (an hour)
  EXPECT_EQ(seen, (batches{{0, 1, 2}}));
}

TEST(size_or_time_batches, stop_while_waiting_for_a_first_item_ends_without_a_batch) {
  int_queue q{64};
  std::stop_source stop;
  batches seen{{-1}};
  auto g = pipeline::size_or_time_batches(q, {}, stop.get_token());
  std::jthread consumer{[&] { seen = collect(g); }};
  std::this_thread::sleep_for(20ms);  // most likely blocked in pop by now; either way it must end
  stop.request_stop();
  consumer.join();
  EXPECT_EQ(seen, batches{});
}

TEST(size_or_time_batches, a_max_wait_beyond_the_clock_range_means_no_deadline) {
  int_queue q{64};
  push_range(q, 0, 2);
  q.close();
  const pipeline::size_or_time_options forever{.max_items = 10, .max_wait = std::chrono::milliseconds::max()};
  EXPECT_EQ(collect(pipeline::size_or_time_batches(q, forever)), (batches{{0, 1}}));
}

TEST(size_or_time_batches, zero_max_items_throws_invalid_argument_naming_it) {
  int_queue q{64};
  try {
    (void)pipeline::size_or_time_batches(q, {.max_items = 0});
    FAIL() << "max_items 0 did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_items"), std::string::npos) << e.what();
  }
}

TEST(size_or_time_batches, negative_max_wait_throws_invalid_argument_naming_it) {
  int_queue q{64};
  try {
    (void)pipeline::size_or_time_batches(q, {.max_wait = -1ms});
    FAIL() << "a negative max_wait did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_wait"), std::string::npos) << e.what();
  }
}

}  // namespace
