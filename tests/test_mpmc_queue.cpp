#include <pipeline/mpmc_queue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <future>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/tracked.hpp"

namespace {

using namespace std::chrono_literals;
using pipeline::bulk_result;
using pipeline::mpmc_queue;
using pipeline::overflow_policy;
using pipeline::pop_status;
using pipeline::push_status;
using test_support::tracked;

#if defined(__SANITIZE_THREAD__)
constexpr bool slow_build = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool slow_build = true;
#else
constexpr bool slow_build = false;
#endif
#else
constexpr bool slow_build = false;
#endif

// How long a blocked call may take to notice a close, a stop, or room: generous, never a benchmark.
constexpr auto prompt = 2s;
// How long a test lets a thread run before checking that it is still blocked.
constexpr auto settle = 50ms;

static_assert(std::same_as<mpmc_queue<int>::value_type, int>);
static_assert(!std::is_copy_constructible_v<mpmc_queue<int>>);
static_assert(!std::is_move_constructible_v<mpmc_queue<int>>);
static_assert(!std::is_copy_assignable_v<mpmc_queue<int>>);
static_assert(!std::is_move_assignable_v<mpmc_queue<int>>);

template <class F>
auto in_thread(F f) {
  return std::async(std::launch::async, std::move(f));
}

template <class R>
auto ready_within(std::future<R>& f, std::chrono::milliseconds bound = prompt) -> bool {
  return f.wait_for(bound) == std::future_status::ready;
}

template <class R>
auto still_blocked(std::future<R>& f) -> bool {
  return f.wait_for(settle) == std::future_status::timeout;
}

auto thread_cpu_time() -> std::chrono::nanoseconds {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::chrono::seconds{t.tv_sec} + std::chrono::nanoseconds{t.tv_nsec};
}

// --- construction ----------------------------------------------------------------------------

TEST(mpmc_queue, capacity_zero_throws_invalid_argument_naming_capacity) {
  try {
    mpmc_queue<int> q{0};
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("capacity"), std::string::npos) << e.what();
  }
}

TEST(mpmc_queue, capacity_is_exactly_what_was_asked) {
  for (std::size_t capacity : {1U, 3U, 4U, 1000U}) {
    mpmc_queue<int> q{capacity};
    EXPECT_EQ(q.capacity(), capacity);
    std::size_t pushed = 0;
    while (q.try_push(1) == push_status::pushed) ++pushed;
    EXPECT_EQ(pushed, capacity);
    EXPECT_EQ(q.size(), capacity);
  }
}

// --- single-threaded behaviour ---------------------------------------------------------------

TEST(mpmc_queue, pops_in_push_order_across_many_laps) {
  for (std::size_t capacity : {1U, 2U, 3U, 8U}) {
    mpmc_queue<int> q{capacity};
    int next_in = 0;
    int next_out = 0;
    while (next_out < 100) {
      while (q.try_push(next_in) == push_status::pushed) ++next_in;
      while (auto item = q.try_pop()) EXPECT_EQ(*item, next_out++) << "capacity " << capacity;
    }
  }
}

TEST(mpmc_queue, try_push_reports_full_when_there_is_no_room) {
  mpmc_queue<int> q{2};
  EXPECT_EQ(q.try_push(1), push_status::pushed);
  EXPECT_EQ(q.try_push(2), push_status::pushed);
  EXPECT_EQ(q.try_push(3), push_status::full);
  EXPECT_EQ(q.size(), 2U);
  EXPECT_EQ(q.dropped(), 0U);
}

TEST(mpmc_queue, try_pop_reports_empty_when_nothing_is_queued) {
  mpmc_queue<int> q{2};
  EXPECT_EQ(q.try_pop().status(), pop_status::empty);
  EXPECT_EQ(q.size(), 0U);
}

TEST(mpmc_queue, push_after_close_reports_closed_and_takes_nothing) {
  mpmc_queue<int> q{2};
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_EQ(q.try_push(1), push_status::closed);
  EXPECT_EQ(q.push(1), push_status::closed);
  EXPECT_EQ(q.push_for(1, 10ms), push_status::closed);
  EXPECT_EQ(q.size(), 0U);
}

TEST(mpmc_queue, close_is_idempotent) {
  mpmc_queue<int> q{2};
  EXPECT_FALSE(q.is_closed());
  q.close();
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_EQ(q.try_pop().status(), pop_status::closed);
}

TEST(mpmc_queue, pop_drains_then_reports_closed) {
  mpmc_queue<int> q{4};
  ASSERT_EQ(q.push(1), push_status::pushed);
  ASSERT_EQ(q.push(2), push_status::pushed);
  q.close();
  EXPECT_EQ(*q.pop(), 1);
  EXPECT_EQ(*q.try_pop(), 2);
  EXPECT_EQ(q.pop().status(), pop_status::closed);
  EXPECT_EQ(q.try_pop().status(), pop_status::closed);
  EXPECT_EQ(q.pop_for(10ms).status(), pop_status::closed);
}

TEST(mpmc_queue, stop_requested_before_a_blocking_call_reports_stopped) {
  mpmc_queue<int> q{4};
  ASSERT_EQ(q.push(1), push_status::pushed);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(q.push(2, stop.get_token()), push_status::stopped);
  EXPECT_EQ(q.pop(stop.get_token()).status(), pop_status::stopped);
  EXPECT_EQ(q.size(), 1U);
}

TEST(mpmc_queue, size_counts_queued_items) {
  mpmc_queue<int> q{8};
  for (int i = 0; i < 5; ++i) ASSERT_EQ(q.try_push(i), push_status::pushed);
  EXPECT_EQ(q.size(), 5U);
  (void)q.try_pop();
  EXPECT_EQ(q.size(), 4U);
}

TEST(mpmc_queue, move_only_items_pass_through) {
  mpmc_queue<std::unique_ptr<int>> q{2};
  ASSERT_EQ(q.push(std::make_unique<int>(7)), push_status::pushed);
  std::array<std::unique_ptr<int>, 2> in{std::make_unique<int>(8), std::make_unique<int>(9)};
  EXPECT_EQ(q.push_bulk(std::span{in}.first(1)), (bulk_result<push_status>{1, push_status::pushed}));
  EXPECT_EQ(in[0], nullptr);  // moved in
  auto item = q.pop();
  ASSERT_TRUE(item);
  EXPECT_EQ(**item, 7);
  std::array<std::unique_ptr<int>, 2> out;
  EXPECT_EQ(q.try_pop_bulk(out), (bulk_result<pop_status>{1, pop_status::popped}));
  EXPECT_EQ(*out[0], 8);
}

TEST(mpmc_queue, items_left_at_destruction_are_destroyed_once) {
  const auto before = tracked::live();
  const auto errors = tracked::errors();
  {
    mpmc_queue<tracked> q{5};
    for (int i = 0; i < 12; ++i) {  // several laps, ending with a wrapped, partly full ring
      ASSERT_EQ(q.push(tracked{i}), push_status::pushed);
      if (i % 3 != 2) {
        auto item = q.pop();
        ASSERT_TRUE(item);
      }
    }
    EXPECT_EQ(q.size(), 4U);
  }
  EXPECT_EQ(tracked::live(), before);
  EXPECT_EQ(tracked::errors(), errors);
}

TEST(mpmc_queue, every_item_is_destroyed_once_through_all_paths) {
  const auto before = tracked::live();
  const auto errors = tracked::errors();
  {
    mpmc_queue<tracked> q{4, overflow_policy::drop_oldest};
    std::vector<tracked> in(6);
    EXPECT_EQ(q.push_bulk(in).status, push_status::dropped);   // 2 evicted
    EXPECT_EQ(q.try_push(tracked{1}), push_status::dropped);   // 1 more evicted
    std::vector<tracked> out(3);
    EXPECT_EQ(q.pop_bulk(out).count, 3U);
    EXPECT_TRUE(q.try_pop());
    q.close();
    EXPECT_EQ(q.try_push(tracked{2}), push_status::closed);
    EXPECT_EQ(q.dropped(), 3U);
  }
  EXPECT_EQ(tracked::live(), before);
  EXPECT_EQ(tracked::errors(), errors);
}

// --- overflow policies -----------------------------------------------------------------------

TEST(mpmc_queue, block_policy_never_drops) {
  mpmc_queue<int> q{1};
  ASSERT_EQ(q.try_push(1), push_status::pushed);
  EXPECT_EQ(q.try_push(2), push_status::full);
  EXPECT_EQ(q.push_for(3, 1ms), push_status::full);
  EXPECT_EQ(q.dropped(), 0U);
  EXPECT_EQ(*q.try_pop(), 1);
}

TEST(mpmc_queue, drop_newest_discards_the_new_item_and_counts_it) {
  mpmc_queue<int> q{2, overflow_policy::drop_newest};
  ASSERT_EQ(q.push(1), push_status::pushed);
  ASSERT_EQ(q.push(2), push_status::pushed);
  EXPECT_EQ(q.push(3), push_status::dropped);  // a blocking push does not wait either
  EXPECT_EQ(q.try_push(4), push_status::dropped);
  EXPECT_EQ(q.dropped(), 2U);
  EXPECT_EQ(*q.pop(), 1);
  EXPECT_EQ(*q.pop(), 2);
}

TEST(mpmc_queue, drop_newest_bulk_takes_what_fits_and_counts_the_rest) {
  mpmc_queue<int> q{3, overflow_policy::drop_newest};
  std::vector<int> in{1, 2, 3, 4, 5};
  EXPECT_EQ(q.push_bulk(in), (bulk_result<push_status>{3, push_status::dropped}));
  EXPECT_EQ(q.dropped(), 2U);
  EXPECT_EQ(*q.pop(), 1);
}

TEST(mpmc_queue, drop_oldest_discards_the_oldest_queued_item_and_counts_it) {
  mpmc_queue<int> q{2, overflow_policy::drop_oldest};
  ASSERT_EQ(q.push(1), push_status::pushed);
  ASSERT_EQ(q.push(2), push_status::pushed);
  EXPECT_EQ(q.push(3), push_status::dropped);
  EXPECT_EQ(q.try_push(4), push_status::dropped);
  EXPECT_EQ(q.dropped(), 2U);
  EXPECT_EQ(*q.pop(), 3);
  EXPECT_EQ(*q.pop(), 4);
}

TEST(mpmc_queue, drop_oldest_bulk_keeps_the_newest_items) {
  mpmc_queue<int> q{3, overflow_policy::drop_oldest};
  ASSERT_EQ(q.push(0), push_status::pushed);
  std::vector<int> in{1, 2, 3, 4, 5};
  EXPECT_EQ(q.push_bulk(in), (bulk_result<push_status>{5, push_status::dropped}));
  EXPECT_EQ(q.dropped(), 3U);
  std::vector<int> out(5);
  EXPECT_EQ(q.try_pop_bulk(out), (bulk_result<pop_status>{3, pop_status::popped}));
  EXPECT_EQ(out, (std::vector<int>{3, 4, 5, 0, 0}));
}

TEST(mpmc_queue, drop_oldest_accounts_for_every_item_under_contention) {
  constexpr int producers = 4;
  const int per_producer = slow_build ? 2'000 : 50'000;
  mpmc_queue<int> q{16, overflow_policy::drop_oldest};
  std::atomic<std::uint64_t> popped{0};
  std::vector<std::jthread> consumers;
  for (int c = 0; c < 2; ++c) {
    consumers.emplace_back([&] {
      while (q.pop()) popped.fetch_add(1, std::memory_order_relaxed);
    });
  }
  {
    std::vector<std::jthread> pushers;
    for (int p = 0; p < producers; ++p) {
      pushers.emplace_back([&] {
        for (int i = 0; i < per_producer; ++i) {
          const auto s = q.push(i);
          ASSERT_TRUE(s == push_status::pushed || s == push_status::dropped);
        }
      });
    }
  }
  q.close();
  consumers.clear();
  EXPECT_EQ(popped.load() + q.dropped(), static_cast<std::uint64_t>(producers) * static_cast<std::uint64_t>(per_producer));
}

// --- blocking, closing, stopping -------------------------------------------------------------

TEST(mpmc_queue, blocking_push_waits_for_room) {
  mpmc_queue<int> q{1};
  ASSERT_EQ(q.push(1), push_status::pushed);
  auto pusher = in_thread([&] { return q.push(2); });
  EXPECT_TRUE(still_blocked(pusher));
  EXPECT_EQ(*q.pop(), 1);
  ASSERT_TRUE(ready_within(pusher));
  EXPECT_EQ(pusher.get(), push_status::pushed);
  EXPECT_EQ(*q.pop(), 2);
}

TEST(mpmc_queue, blocking_pop_waits_for_an_item) {
  mpmc_queue<int> q{1};
  auto popper = in_thread([&] { return q.pop(); });
  EXPECT_TRUE(still_blocked(popper));
  ASSERT_EQ(q.push(5), push_status::pushed);
  ASSERT_TRUE(ready_within(popper));
  EXPECT_EQ(*popper.get(), 5);
}

TEST(mpmc_queue, close_wakes_every_blocked_popper) {
  mpmc_queue<int> q{4};
  std::vector<std::future<pop_status>> poppers;
  for (int i = 0; i < 3; ++i) poppers.push_back(in_thread([&] { return q.pop().status(); }));
  for (auto& p : poppers) EXPECT_TRUE(still_blocked(p));
  q.close();
  for (auto& p : poppers) {
    ASSERT_TRUE(ready_within(p));
    EXPECT_EQ(p.get(), pop_status::closed);
  }
}

TEST(mpmc_queue, close_wakes_every_blocked_pusher) {
  mpmc_queue<int> q{1};
  ASSERT_EQ(q.push(0), push_status::pushed);
  std::vector<std::future<push_status>> pushers;
  for (int i = 0; i < 3; ++i) pushers.push_back(in_thread([&] { return q.push(1); }));
  for (auto& p : pushers) EXPECT_TRUE(still_blocked(p));
  q.close();
  for (auto& p : pushers) {
    ASSERT_TRUE(ready_within(p));
    EXPECT_EQ(p.get(), push_status::closed);
  }
  EXPECT_EQ(*q.pop(), 0);  // what was queued before the close still drains
}

TEST(mpmc_queue, stop_wakes_a_blocked_pop_and_reports_stopped) {
  mpmc_queue<int> q{1};
  std::stop_source stop;
  auto popper = in_thread([&] { return q.pop(stop.get_token()).status(); });
  EXPECT_TRUE(still_blocked(popper));
  stop.request_stop();
  ASSERT_TRUE(ready_within(popper));
  EXPECT_EQ(popper.get(), pop_status::stopped);
}

TEST(mpmc_queue, stop_wakes_a_blocked_push_and_reports_stopped) {
  mpmc_queue<int> q{1};
  ASSERT_EQ(q.push(0), push_status::pushed);
  std::stop_source stop;
  auto pusher = in_thread([&] { return q.push(1, stop.get_token()); });
  EXPECT_TRUE(still_blocked(pusher));
  stop.request_stop();
  ASSERT_TRUE(ready_within(pusher));
  EXPECT_EQ(pusher.get(), push_status::stopped);
  EXPECT_EQ(q.size(), 1U);
}

TEST(mpmc_queue, stop_wakes_only_the_waiter_it_belongs_to) {
  mpmc_queue<int> q{1};
  std::stop_source first;
  std::stop_source second;
  auto a = in_thread([&] { return q.pop(first.get_token()).status(); });
  auto b = in_thread([&] { return q.pop(second.get_token()).status(); });
  EXPECT_TRUE(still_blocked(a));
  first.request_stop();
  ASSERT_TRUE(ready_within(a));
  EXPECT_EQ(a.get(), pop_status::stopped);
  EXPECT_TRUE(still_blocked(b));
  ASSERT_EQ(q.push(3), push_status::pushed);
  ASSERT_TRUE(ready_within(b));
  EXPECT_EQ(b.get(), pop_status::popped);
}

TEST(mpmc_queue, an_idle_blocked_consumer_uses_little_cpu) {
  mpmc_queue<int> q{4};
  auto consumer = in_thread([&] {
    const auto cpu_start = thread_cpu_time();
    const auto wall_start = std::chrono::steady_clock::now();
    const auto item = q.pop();
    const auto cpu = thread_cpu_time() - cpu_start;
    const auto wall = std::chrono::steady_clock::now() - wall_start;
    EXPECT_TRUE(item);
    return std::chrono::duration<double>(cpu) / std::chrono::duration<double>(wall);
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(q.push(1), push_status::pushed);
  ASSERT_TRUE(ready_within(consumer));
  EXPECT_LT(consumer.get(), 0.2) << "share of the wait spent on the CPU";
}

// --- timed variants --------------------------------------------------------------------------

TEST(mpmc_queue, pop_until_times_out_with_empty) {
  mpmc_queue<int> q{1};
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  EXPECT_EQ(q.pop_until(deadline).status(), pop_status::empty);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_EQ(q.pop_for(5ms).status(), pop_status::empty);
  EXPECT_EQ(q.pop_for(0ms).status(), pop_status::empty);
}

TEST(mpmc_queue, push_until_times_out_with_full) {
  mpmc_queue<int> q{1};
  ASSERT_EQ(q.push(0), push_status::pushed);
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  EXPECT_EQ(q.push_until(1, deadline), push_status::full);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_EQ(q.push_for(2, 5ms), push_status::full);
  EXPECT_EQ(q.push_for(2, std::chrono::duration<double>(-1.0)), push_status::full);
}

TEST(mpmc_queue, pop_until_returns_an_item_that_comes_in_time) {
  mpmc_queue<int> q{1};
  auto popper = in_thread([&] { return q.pop_for(std::chrono::hours::max()); });
  EXPECT_TRUE(still_blocked(popper));
  ASSERT_EQ(q.push(4), push_status::pushed);
  ASSERT_TRUE(ready_within(popper));
  EXPECT_EQ(*popper.get(), 4);
}

TEST(mpmc_queue, a_timed_pop_reports_stopped_when_stop_fires_first) {
  mpmc_queue<int> q{1};
  std::stop_source stop;
  auto popper = in_thread([&] { return q.pop_for(1h, stop.get_token()).status(); });
  EXPECT_TRUE(still_blocked(popper));
  stop.request_stop();
  ASSERT_TRUE(ready_within(popper));
  EXPECT_EQ(popper.get(), pop_status::stopped);
}

// --- bulk ------------------------------------------------------------------------------------

TEST(mpmc_queue, bulk_push_and_pop_keep_order) {
  mpmc_queue<int> q{8};
  std::vector<int> in{1, 2, 3, 4, 5};
  EXPECT_EQ(q.push_bulk(in), (bulk_result<push_status>{5, push_status::pushed}));
  std::vector<int> out(3);
  EXPECT_EQ(q.pop_bulk(out), (bulk_result<pop_status>{3, pop_status::popped}));
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.pop_bulk(out), (bulk_result<pop_status>{2, pop_status::popped}));
  EXPECT_EQ(out, (std::vector<int>{4, 5, 3}));
}

TEST(mpmc_queue, try_push_bulk_takes_what_fits) {
  mpmc_queue<int> q{3};
  std::vector<int> in{1, 2, 3, 4, 5};
  EXPECT_EQ(q.try_push_bulk(in), (bulk_result<push_status>{3, push_status::full}));
  EXPECT_EQ(q.dropped(), 0U);
  EXPECT_EQ(q.size(), 3U);
}

TEST(mpmc_queue, try_pop_bulk_reports_empty_then_closed) {
  mpmc_queue<int> q{3};
  std::vector<int> out(2);
  EXPECT_EQ(q.try_pop_bulk(out), (bulk_result<pop_status>{0, pop_status::empty}));
  ASSERT_EQ(q.push(1), push_status::pushed);
  q.close();
  EXPECT_EQ(q.try_pop_bulk(out), (bulk_result<pop_status>{1, pop_status::popped}));
  EXPECT_EQ(q.try_pop_bulk(out), (bulk_result<pop_status>{0, pop_status::closed}));
  EXPECT_EQ(q.pop_bulk(out), (bulk_result<pop_status>{0, pop_status::closed}));
}

TEST(mpmc_queue, bulk_pop_into_an_empty_span_returns_at_once) {
  mpmc_queue<int> q{3};
  EXPECT_EQ(q.pop_bulk({}), (bulk_result<pop_status>{0, pop_status::empty}));
}

TEST(mpmc_queue, push_bulk_waits_for_room_for_every_item) {
  mpmc_queue<int> q{2};
  std::vector<int> in{1, 2, 3, 4, 5};
  auto pusher = in_thread([&] { return q.push_bulk(in); });
  EXPECT_TRUE(still_blocked(pusher));
  std::vector<int> seen;
  while (seen.size() < in.size()) {
    auto item = q.pop_for(prompt);
    ASSERT_TRUE(item);
    seen.push_back(*item);
  }
  ASSERT_TRUE(ready_within(pusher));
  EXPECT_EQ(pusher.get(), (bulk_result<push_status>{5, push_status::pushed}));
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(mpmc_queue, push_bulk_reports_how_many_went_in_before_close) {
  mpmc_queue<int> q{2};
  std::vector<int> in{1, 2, 3, 4, 5};
  auto pusher = in_thread([&] { return q.push_bulk(in); });
  EXPECT_TRUE(still_blocked(pusher));
  q.close();
  ASSERT_TRUE(ready_within(pusher));
  EXPECT_EQ(pusher.get(), (bulk_result<push_status>{2, push_status::closed}));
}

TEST(mpmc_queue, push_bulk_until_times_out_with_full_and_a_count) {
  mpmc_queue<int> q{2};
  std::vector<int> in{1, 2, 3};
  EXPECT_EQ(q.push_bulk_until(in, std::chrono::steady_clock::now() + 10ms),
            (bulk_result<push_status>{2, push_status::full}));
}

TEST(mpmc_queue, pop_bulk_waits_for_at_least_one_item) {
  mpmc_queue<int> q{4};
  std::vector<int> out(4);
  auto popper = in_thread([&] { return q.pop_bulk(out); });
  EXPECT_TRUE(still_blocked(popper));
  ASSERT_EQ(q.push(9), push_status::pushed);
  ASSERT_TRUE(ready_within(popper));
  const auto r = popper.get();
  EXPECT_EQ(r.status, pop_status::popped);
  ASSERT_GE(r.count, 1U);
  EXPECT_EQ(out[0], 9);
}

TEST(mpmc_queue, pop_bulk_until_times_out_with_empty) {
  mpmc_queue<int> q{4};
  std::vector<int> out(4);
  EXPECT_EQ(q.pop_bulk_until(out, std::chrono::steady_clock::now() + 10ms),
            (bulk_result<pop_status>{0, pop_status::empty}));
}

TEST(mpmc_queue, stop_wakes_a_blocked_pop_bulk) {
  mpmc_queue<int> q{4};
  std::vector<int> out(4);
  std::stop_source stop;
  auto popper = in_thread([&] { return q.pop_bulk(out, stop.get_token()); });
  EXPECT_TRUE(still_blocked(popper));
  stop.request_stop();
  ASSERT_TRUE(ready_within(popper));
  EXPECT_EQ(popper.get(), (bulk_result<pop_status>{0, pop_status::stopped}));
}

// --- stress: no loss, no duplicate, per-producer order ---------------------------------------

constexpr std::uint64_t stress_producers = 8;
constexpr std::uint64_t stress_consumers = 8;

auto encode(std::uint64_t producer, std::uint64_t seq) -> std::uint64_t { return producer << 32U | seq; }

// Collects what consumers popped; checks, per consumer, that each producer's items arrive in
// the order that producer pushed them, and at the end that every item arrived exactly once.
class delivery_check {
 public:
  explicit delivery_check(std::uint64_t per_producer)
      : per_producer_(per_producer), seen_(stress_producers * per_producer) {}

  class consumer_view {
   public:
    explicit consumer_view(delivery_check& check) : check_(&check) { last_.fill(-1); }
    void saw(std::uint64_t item) {
      const auto producer = item >> 32U;
      const auto seq = static_cast<std::int64_t>(item & 0xffff'ffffU);
      ASSERT_LT(producer, stress_producers);
      if (seq <= last_[producer]) ++out_of_order_;
      last_[producer] = seq;
      check_->seen_[producer * check_->per_producer_ + static_cast<std::uint64_t>(seq)].fetch_add(1);
    }
    [[nodiscard]] auto out_of_order() const -> std::size_t { return out_of_order_; }

   private:
    delivery_check* check_;
    std::array<std::int64_t, stress_producers> last_{};
    std::size_t out_of_order_ = 0;
  };

  // Items seen a number of times other than once.
  [[nodiscard]] auto miscounted() const -> std::size_t {
    return static_cast<std::size_t>(std::count_if(seen_.begin(), seen_.end(), [](const auto& n) { return n.load() != 1; }));
  }

 private:
  std::uint64_t per_producer_;
  std::vector<std::atomic<std::uint8_t>> seen_;
};

const std::uint64_t stress_items = slow_build ? 16'000 : 50'000;  // per producer

TEST(mpmc_queue, stress_8p8c_loses_nothing_duplicates_nothing_keeps_producer_order) {
  mpmc_queue<std::uint64_t> q{64};
  delivery_check check{stress_items};
  std::atomic<std::size_t> out_of_order{0};
  std::vector<std::jthread> consumers;
  for (std::uint64_t c = 0; c < stress_consumers; ++c) {
    consumers.emplace_back([&] {
      delivery_check::consumer_view view{check};
      while (auto item = q.pop()) view.saw(*item);
      out_of_order += view.out_of_order();
    });
  }
  {
    std::vector<std::jthread> producers;
    for (std::uint64_t p = 0; p < stress_producers; ++p) {
      producers.emplace_back([&, p] {
        for (std::uint64_t i = 0; i < stress_items; ++i) ASSERT_EQ(q.push(encode(p, i)), push_status::pushed);
      });
    }
  }
  q.close();
  consumers.clear();
  EXPECT_EQ(out_of_order.load(), 0U);
  EXPECT_EQ(check.miscounted(), 0U);
}

TEST(mpmc_queue, stress_bulk_8p8c_loses_nothing_duplicates_nothing_keeps_producer_order) {
  mpmc_queue<std::uint64_t> q{100};  // not a power of two: the modulo path
  delivery_check check{stress_items};
  std::atomic<std::size_t> out_of_order{0};
  std::vector<std::jthread> consumers;
  for (std::uint64_t c = 0; c < stress_consumers; ++c) {
    consumers.emplace_back([&, c] {
      delivery_check::consumer_view view{check};
      std::vector<std::uint64_t> out(7 + c * 5);
      for (;;) {
        const auto r = q.pop_bulk(out);
        if (r.status != pop_status::popped) break;
        for (std::size_t i = 0; i < r.count; ++i) view.saw(out[i]);
      }
      out_of_order += view.out_of_order();
    });
  }
  {
    std::vector<std::jthread> producers;
    for (std::uint64_t p = 0; p < stress_producers; ++p) {
      producers.emplace_back([&, p] {
        std::vector<std::uint64_t> chunk;
        const std::uint64_t chunk_size = 3 + p * 7;
        for (std::uint64_t i = 0; i < stress_items; i += chunk_size) {
          chunk.clear();
          for (auto s = i; s < std::min(i + chunk_size, stress_items); ++s) chunk.push_back(encode(p, s));
          ASSERT_EQ(q.push_bulk(chunk), (bulk_result<push_status>{chunk.size(), push_status::pushed}));
        }
      });
    }
  }
  q.close();
  consumers.clear();
  EXPECT_EQ(out_of_order.load(), 0U);
  EXPECT_EQ(check.miscounted(), 0U);
}

TEST(mpmc_queue, every_item_pushed_before_a_concurrent_close_is_popped) {
  mpmc_queue<std::uint64_t> q{32};
  std::atomic<std::uint64_t> pushed{0};
  std::atomic<std::uint64_t> popped{0};
  std::vector<std::jthread> consumers;
  for (std::uint64_t c = 0; c < 4; ++c) {
    consumers.emplace_back([&] {
      while (q.pop()) popped.fetch_add(1, std::memory_order_relaxed);
    });
  }
  std::vector<std::jthread> producers;
  for (std::uint64_t p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      while (q.push(1) == push_status::pushed) pushed.fetch_add(1, std::memory_order_relaxed);
    });
  }
  std::this_thread::sleep_for(slow_build ? 200ms : 50ms);
  q.close();
  producers.clear();
  consumers.clear();
  EXPECT_GT(pushed.load(), 0U);
  EXPECT_EQ(popped.load(), pushed.load());
}

}  // namespace
