// The Redis stores that have no contract suite: coalescing counters and the shared rate limiter.
#include <pipeline/redis/checkpoint_store.hpp>
#include <pipeline/redis/counter_store.hpp>
#include <pipeline/redis/dead_letter_stream.hpp>
#include <pipeline/redis/job_log.hpp>
#include <pipeline/redis/rate_limiter.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "redis/redis_test_support.hpp"
#include "support/shared_checkpoint_store.hpp"

namespace {

using namespace std::chrono_literals;
using namespace pipeline::redis;

auto as_map(const counter_flush& f) -> std::map<std::string, std::int64_t> { return {f.counts.begin(), f.counts.end()}; }

TEST(redis_counter_store, adds_coalesce_per_key) {
  counter_store counts{redis_test::connect(), {.name = pipeline::test::unique_name("counts")}};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(counts.add("fp-a"));
  ASSERT_TRUE(counts.add("fp-b", 7));
  EXPECT_EQ(counts.get("fp-a").value(), 5);
  EXPECT_EQ(counts.get("fp-b").value(), 7);
  EXPECT_EQ(counts.get("fp-none").value(), 0);
}

TEST(redis_counter_store, a_flush_takes_every_count_and_adds_go_to_the_next_flush) {
  counter_store counts{redis_test::connect(), {.name = pipeline::test::unique_name("counts")}};
  ASSERT_TRUE(counts.add("a", 3));
  auto first = counts.begin_flush().value();
  EXPECT_NE(first.id, 0u);
  EXPECT_EQ(as_map(first), (std::map<std::string, std::int64_t>{{"a", 3}}));
  ASSERT_TRUE(counts.add("a", 2));
  EXPECT_EQ(counts.get("a").value(), 2) << "counts added during a flush are live again";
  ASSERT_TRUE(counts.confirm_flush(first.id));
  auto second = counts.begin_flush().value();
  EXPECT_GT(second.id, first.id);
  EXPECT_EQ(as_map(second), (std::map<std::string, std::int64_t>{{"a", 2}}));
  ASSERT_TRUE(counts.confirm_flush(second.id));
  EXPECT_TRUE(counts.begin_flush().value().empty());
}

TEST(redis_counter_store, an_unconfirmed_flush_is_handed_out_again_with_the_same_id) {
  const auto name = pipeline::test::unique_name("counts");
  counter_store counts{redis_test::connect(), {.name = name}};
  ASSERT_TRUE(counts.add("a", 4));
  auto taken = counts.begin_flush().value();  // the flusher dies here
  ASSERT_TRUE(counts.add("a", 1));
  counter_store other{redis_test::connect(), {.name = name}};
  auto again = other.begin_flush().value();
  EXPECT_EQ(again.id, taken.id);
  EXPECT_EQ(as_map(again), as_map(taken));
  auto stale = other.confirm_flush(taken.id + 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, pipeline::error_kind::conflict);
  ASSERT_TRUE(other.confirm_flush(again.id));
  EXPECT_EQ(as_map(other.begin_flush().value()), (std::map<std::string, std::int64_t>{{"a", 1}}));
}

TEST(redis_counter_store, concurrent_adders_and_a_flusher_lose_and_double_nothing) {
  const auto name = pipeline::test::unique_name("counts");
  std::int64_t flushed = 0;
  {
    std::vector<std::jthread> adders;
    for (int t = 0; t < 3; ++t) {
      adders.emplace_back([&] {
        counter_store mine{redis_test::connect(), {.name = name}};
        for (int i = 0; i < 300; ++i) EXPECT_TRUE(mine.add("k"));
      });
    }
    counter_store flusher{redis_test::connect(), {.name = name}};
    for (int i = 0; i < 20; ++i) {
      auto f = flusher.begin_flush().value();
      for (auto& [k, v] : f.counts) flushed += v;
      if (!f.empty()) {
        ASSERT_TRUE(flusher.confirm_flush(f.id));
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  counter_store flusher{redis_test::connect(), {.name = name}};
  auto last = flusher.begin_flush().value();
  for (auto& [k, v] : last.counts) flushed += v;
  EXPECT_EQ(flushed, 900);
}

TEST(redis_counter_store, threads_sharing_one_store_each_get_their_own_running_count) {
  // One store, one connection, 8 threads: their adds go together in pipelines, and each still
  // answers with the count its own HINCRBY left (all of 1..1600, each once).
  counter_store counts{redis_test::connect(), {.name = pipeline::test::unique_name("counts")}};
  std::vector<std::vector<std::int64_t>> seen(8);
  {
    std::vector<std::jthread> adders;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      adders.emplace_back([&counts, &mine = seen[t]] {
        for (int i = 0; i < 200; ++i) {
          auto n = counts.add("k");
          ASSERT_TRUE(n) << fmt::format("{}", n.error());
          mine.push_back(*n);
        }
      });
    }
  }
  std::vector<std::int64_t> all;
  for (const auto& mine : seen) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(1600);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(all, expected);
  EXPECT_EQ(counts.get("k").value(), 1600);
}

TEST(redis_counter_store, an_error_reply_fails_every_add_of_the_pipeline_and_the_store_goes_on) {
  const auto name = pipeline::test::unique_name("counts");
  auto c = redis_test::connect();
  ASSERT_TRUE(c->command({"SET", name + ":live", "not a hash"}));  // WRONGTYPE for HINCRBY
  counter_store counts{c, {.name = name}};
  std::atomic<int> refused{0};
  {
    std::vector<std::jthread> adders;
    for (int t = 0; t < 4; ++t) {
      adders.emplace_back([&] {
        for (int i = 0; i < 20; ++i) {
          auto n = counts.add("k");
          if (!n && n.error().kind == pipeline::error_kind::permanent) ++refused;
        }
      });
    }
  }
  EXPECT_EQ(refused.load(), 80);
  ASSERT_TRUE(c->command({"DEL", name + ":live"}));
  EXPECT_EQ(counts.add("k", 2).value(), 2);
}

TEST(redis_rate_limiter, grants_the_burst_then_refuses) {
  rate_limiter limit{redis_test::connect(),
                     {.key = pipeline::test::unique_name("rate"), .tokens_per_period = 1, .period = 10s, .burst = 3}};
  EXPECT_TRUE(limit.try_acquire(2).value());
  EXPECT_TRUE(limit.try_acquire(1).value());
  EXPECT_FALSE(limit.try_acquire(1).value());
  auto too_many = limit.try_acquire(4);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().kind, pipeline::error_kind::invalid_input);
}

TEST(redis_rate_limiter, the_limit_holds_for_all_processes_together) {
  // Two limiters on one key stand for two processes: together they get 20/s after the burst.
  const auto key = pipeline::test::unique_name("rate");
  rate_limiter a{redis_test::connect(), {.key = key, .tokens_per_period = 20, .period = 1s, .burst = 5}};
  rate_limiter b{redis_test::connect(), {.key = key, .tokens_per_period = 20, .period = 1s, .burst = 5}};
  const auto start = std::chrono::steady_clock::now();
  {
    std::jthread ta{[&] { for (int i = 0; i < 10; ++i) EXPECT_TRUE(a.acquire(1, {})); }};
    std::jthread tb{[&] { for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.acquire(1, {})); }};
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 650ms) << "20 tokens with a burst of 5 need 15 refills at 20/s";
  EXPECT_LT(took, 5s);
}

TEST(redis_rate_limiter, acquire_returns_stopped_at_once_on_stop) {
  rate_limiter limit{redis_test::connect(),
                     {.key = pipeline::test::unique_name("rate"), .tokens_per_period = 1, .period = 60s, .burst = 1}};
  ASSERT_TRUE(limit.try_acquire(1).value());
  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  }};
  const auto start = std::chrono::steady_clock::now();
  auto r = limit.acquire(1, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(redis_dead_letter_stream, reads_back_in_pages_for_replay) {
  dead_letter_stream dlq{redis_test::connect(), {.stream = pipeline::test::unique_name("dlq")}};
  std::vector<pipeline::dead_letter> letters;
  for (int i = 0; i < 5; ++i) {
    letters.push_back({std::to_string(i), pipeline::permanent_error("bad"), 1, pipeline::position::from_integer(i), 0,
                       std::chrono::system_clock::now()});
  }
  ASSERT_TRUE(dlq.write(letters, {}));
  std::vector<std::string> seen;
  for (std::string after = "0-0";;) {
    auto page = dlq.read(after, 2).value();
    if (page.empty()) break;
    EXPECT_LE(page.size(), 2u);
    for (auto& [id, l] : page) seen.push_back(l.payload);
    after = page.back().first;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(dlq.size().value(), 5u);
}

// Workers in several processes (here: clients of their own) dead-letter the same batch again
// at once, cut into other pieces: each letter is stored once.
TEST(redis_dead_letter_stream, writers_racing_with_the_same_letters_store_each_once) {
  const auto stream = "{" + pipeline::test::unique_name("dlq") + "}:dead";
  std::vector<pipeline::dead_letter> letters;
  for (int i = 0; i < 40; ++i) {
    letters.push_back({"payload " + std::to_string(i % 10), pipeline::permanent_error("bad"), 1,
                       pipeline::position::from_integer(i), 0, std::chrono::system_clock::now()});
  }
  {
    std::vector<std::jthread> writers;
    for (std::size_t w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        dead_letter_stream dlq{redis_test::connect(), {.stream = stream}};
        const std::size_t piece = w + 3;
        for (std::size_t first = 0; first < letters.size(); first += piece) {
          const auto part = std::span{std::as_const(letters)}.subspan(first, std::min(piece, letters.size() - first));
          EXPECT_TRUE(dlq.write(part, {}));
        }
      });
    }
  }
  dead_letter_stream dlq{redis_test::connect(), {.stream = stream}};
  EXPECT_EQ(dlq.size().value(), 40u);
}

TEST(redis_dead_letter_stream, a_stream_name_no_identity_set_can_share_a_slot_with_is_refused) {
  EXPECT_THROW((dead_letter_stream{redis_test::connect(), {.stream = "dead{}letters"}}), std::invalid_argument);
  EXPECT_NO_THROW((dead_letter_stream{redis_test::connect(), {.stream = "dead:letters"}}));
}

// jobs() lists the job names under its own prefix only, though SCAN takes a glob pattern: a
// '*' in the prefix must not reach the runs of a longer prefix.
TEST(redis_job_log, jobs_are_the_names_with_runs_under_the_prefix_in_name_order) {
  const auto name = pipeline::test::unique_name("jobs");
  auto c = redis_test::connect();
  job_log log{c, {.prefix = name + "*"}};
  job_log other{c, {.prefix = name + "zz"}};
  EXPECT_TRUE(log.jobs().value().empty());
  for (const auto* job : {"reports/2026-05", "listings", "reports/2026-05"}) {
    pipeline::job_run run;
    run.job = job;
    (void)log.create(run).value();
    (void)other.create(run).value();
  }
  pipeline::job_run elsewhere;
  elsewhere.job = "elsewhere";
  (void)other.create(elsewhere).value();
  EXPECT_EQ(log.jobs().value(), (std::vector<std::string>{"listings", "reports/2026-05"}));
}

// keys() lists the keys with a checkpoint under its own prefix only, as jobs() does.
TEST(redis_checkpoint_store, keys_are_the_keys_saved_under_the_prefix_in_order) {
  const auto name = pipeline::test::unique_name("keys");
  auto c = redis_test::connect();
  checkpoint_store store{c, {.prefix = name + "*"}};
  checkpoint_store other{c, {.prefix = name + "zz"}};
  EXPECT_TRUE(store.keys().value().empty());
  for (const auto* key : {"reports/2026-05", "listings/p0"}) {
    (void)store.save(key, pipeline::position::from_integer(1), 0).value();
    (void)other.save(key, pipeline::position::from_integer(1), 0).value();
  }
  (void)other.save("elsewhere", pipeline::position::from_integer(1), 0).value();
  EXPECT_EQ(store.keys().value(), (std::vector<std::string>{"listings/p0", "reports/2026-05"}));
}

TEST(redis_checkpoint_store, copies_held_as_basic_checkpoint_store_share_the_client_and_prefix) {
  checkpoint_store store{redis_test::connect(), {.prefix = pipeline::test::unique_name("shared")}};
  pipeline::test::expect_copies_share_one_store(store, "orders/p3");
}

}  // namespace
