#include <pipeline/clock.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using time_point = pipeline::clock::time_point;

TEST(manual_clock, starts_at_the_given_time) {
  const pipeline::manual_clock clk{time_point{} + 1h};
  EXPECT_EQ(clk.now(), time_point{} + 1h);
}

TEST(manual_clock, starts_at_the_epoch_by_default) {
  const pipeline::manual_clock clk;
  EXPECT_EQ(clk.now(), time_point{});
}

TEST(manual_clock, advance_moves_now_forward) {
  pipeline::manual_clock clk;
  clk.advance(5s);
  clk.advance(250ms);
  EXPECT_EQ(clk.now(), time_point{} + 5250ms);
}

TEST(manual_clock, advance_rejects_a_negative_duration_naming_it) {
  pipeline::manual_clock clk;
  try {
    clk.advance(-1ns);
    FAIL() << "advance(-1ns) did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("advance: d must not be negative"), std::string::npos) << e.what();
  }
  EXPECT_EQ(clk.now(), time_point{});
}

TEST(manual_clock, sleep_until_moves_time_to_the_deadline_at_once) {
  pipeline::manual_clock clk;
  EXPECT_TRUE(clk.sleep_until(time_point{} + 1h, {}));
  EXPECT_EQ(clk.now(), time_point{} + 1h);
}

TEST(manual_clock, sleep_until_a_past_deadline_does_not_move_time_back) {
  pipeline::manual_clock clk{time_point{} + 10s};
  EXPECT_TRUE(clk.sleep_until(time_point{} + 3s, {}));
  EXPECT_EQ(clk.now(), time_point{} + 10s);
  EXPECT_EQ(clk.sleeps(), std::vector<pipeline::clock::duration>{0s});
}

TEST(manual_clock, sleep_for_moves_time_by_the_duration) {
  pipeline::manual_clock clk{time_point{} + 1s};
  EXPECT_TRUE(clk.sleep_for(2s, {}));
  EXPECT_EQ(clk.now(), time_point{} + 3s);
}

TEST(manual_clock, records_each_sleep_in_order) {
  pipeline::manual_clock clk;
  (void)clk.sleep_for(100ms, {});
  (void)clk.sleep_for(200ms, {});
  (void)clk.sleep_until(clk.now() + 400ms, {});
  EXPECT_EQ(clk.sleeps(), (std::vector<pipeline::clock::duration>{100ms, 200ms, 400ms}));
}

TEST(manual_clock, sleep_with_stop_requested_returns_false_and_moves_nothing) {
  pipeline::manual_clock clk;
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(clk.sleep_for(1s, stop.get_token()));
  EXPECT_FALSE(clk.sleep_until(time_point{}, stop.get_token()));  // stop wins over a past deadline
  EXPECT_EQ(clk.now(), time_point{});
  EXPECT_TRUE(clk.sleeps().empty());
}

TEST(manual_clock, sleep_for_the_longest_duration_saturates_instead_of_overflowing) {
  pipeline::manual_clock clk{time_point{} + 1h};
  EXPECT_TRUE(clk.sleep_for(pipeline::clock::duration::max(), {}));
  EXPECT_EQ(clk.now(), time_point::max());
}

TEST(manual_clock, is_safe_to_advance_and_sleep_from_many_threads) {
  pipeline::manual_clock clk;
  constexpr int threads = 4;
  constexpr int steps = 1000;
  std::vector<std::jthread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&clk] {
      for (int i = 0; i < steps; ++i) {
        clk.advance(1ms);
        (void)clk.sleep_until(time_point{}, {});  // never moves time: only recorded
      }
    });
  }
  workers.clear();
  EXPECT_EQ(clk.now(), time_point{} + std::chrono::milliseconds{threads * steps});
  EXPECT_EQ(clk.sleeps().size(), std::size_t{threads * steps});
}

TEST(steady_clock, is_one_instance) { EXPECT_EQ(&pipeline::steady_clock(), &pipeline::steady_clock()); }

TEST(steady_clock, now_is_std_steady_clock) {
  const auto before = std::chrono::steady_clock::now();
  const auto now = pipeline::steady_clock().now();
  const auto after = std::chrono::steady_clock::now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(steady_clock, sleep_until_a_past_deadline_returns_true_at_once) {
  EXPECT_TRUE(pipeline::steady_clock().sleep_until(time_point{}, {}));
}

TEST(steady_clock, sleep_with_stop_already_requested_returns_false) {
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(pipeline::steady_clock().sleep_for(1h, stop.get_token()));
}

TEST(steady_clock, sleep_wakes_promptly_on_stop) {
  std::stop_source stop;
  bool slept_to_the_end = true;
  std::chrono::steady_clock::duration took{};
  std::jthread sleeper([&] {
    const auto start = std::chrono::steady_clock::now();
    slept_to_the_end = pipeline::steady_clock().sleep_for(60s, stop.get_token());
    took = std::chrono::steady_clock::now() - start;
  });
  std::this_thread::sleep_for(50ms);
  stop.request_stop();
  sleeper.join();
  EXPECT_FALSE(slept_to_the_end);
  EXPECT_LT(took, 2s);
}

}  // namespace
