#include <pipeline/clock.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_job_log.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

auto numbers(int n) -> std::vector<int> {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

auto rule_failing(std::set<int> bad, pipeline::error e) {
  return [bad = std::move(bad), e = std::move(e)](const int& v) -> std::optional<pipeline::error> {
    if (bad.count(v) != 0) return e;
    return std::nullopt;
  };
}

// Sorted, for comparing large multisets quickly (gmock's unordered matcher is quadratic).
auto sorted(std::vector<int> v) -> std::vector<int> {
  std::sort(v.begin(), v.end());
  return v;
}

auto payloads(const pipeline::memory_dlq& dlq) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& d : dlq.entries()) out.push_back(d.payload);
  std::sort(out.begin(), out.end());
  return out;
}

class runner : public ::testing::Test {
 protected:
  // Virtual time: retry waits and checkpoint intervals cost no real time.
  auto options() -> pipeline::runner_options {
    pipeline::runner_options o;
    o.name = "test";
    o.workers = 4;
    o.queue_capacity = 4;
    o.checkpoint_interval = std::chrono::milliseconds{0};
    o.time = &clock_;
    o.retry.max_attempts = 4;
    return o;
  }

  pipeline::manual_clock clock_;
  pipeline::memory_sink<int> sink_;
  pipeline::memory_dlq dlq_;
  pipeline::memory_checkpoint_store checkpoints_;
};

TEST_F(runner, every_record_is_written_once_when_nothing_fails) {
  pipeline::vector_source<int> source{numbers(10'000), 100};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink_.records()), numbers(10'000));
  EXPECT_EQ(report.read, 10'000u);
  EXPECT_EQ(report.written, 10'000u);
  EXPECT_EQ(report.dead_lettered, 0u);
  EXPECT_EQ(report.checkpoint, pipeline::position::from_integer(10'000));
  EXPECT_EQ(checkpoints_.load("test")->pos, pipeline::position::from_integer(10'000));
}

TEST_F(runner, a_per_record_transform_feeds_the_sink) {
  pipeline::vector_source<int> source{numbers(50), 7};
  pipeline::memory_sink<std::string> out;
  auto report = pipeline::run(source, [](const int& v) { return std::to_string(v * 2); }, out, dlq_, checkpoints_, options());
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  std::vector<std::string> expected;
  for (int v = 0; v < 50; ++v) expected.push_back(std::to_string(v * 2));
  EXPECT_THAT(out.records(), UnorderedElementsAreArray(expected));
}

TEST_F(runner, a_per_batch_transform_feeds_the_sink) {
  pipeline::vector_source<int> source{numbers(50), 7};
  auto report = pipeline::run(
      source,
      [](std::span<const int> batch) {
        std::vector<int> out;
        for (int v : batch) out.push_back(v + 1000);
        return out;
      },
      sink_, dlq_, checkpoints_, options());
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  auto expected = numbers(50);
  for (auto& v : expected) v += 1000;
  EXPECT_THAT(sink_.records(), UnorderedElementsAreArray(expected));
}

TEST_F(runner, transient_sink_errors_are_retried_and_nothing_is_lost) {
  sink_.fail_next_writes(3, pipeline::transient_error("connection reset"));
  pipeline::vector_source<int> source{numbers(1000), 100};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.retried, 3u);
  EXPECT_EQ(sorted(sink_.records()), numbers(1000));
  EXPECT_TRUE(dlq_.entries().empty());
}

// memory_sink's all-or-nothing `write` alone: a sink that answers only for the whole batch.
struct batch_only_sink {
  using value_type = int;
  pipeline::memory_sink<int>& inner;
  auto write(std::span<const int> records, std::stop_token stop) -> pipeline::result<void> {
    return inner.write(records, stop);
  }
};
static_assert(!pipeline::per_record_sink<batch_only_sink>);

TEST_F(runner, a_permanent_error_of_a_batch_only_sink_is_bisected_so_only_the_bad_records_are_dead_lettered) {
  sink_.fail_records(rule_failing({13, 500, 999}, pipeline::permanent_error("Incorrect integer value")));
  batch_only_sink sink{sink_};
  pipeline::vector_source<int> source{numbers(1000), 1000};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  auto good = numbers(1000);
  std::erase_if(good, [](int v) { return v == 13 || v == 500 || v == 999; });
  EXPECT_EQ(sorted(sink_.records()), good);  // each written exactly once
  EXPECT_THAT(payloads(dlq_), ElementsAre("13", "500", "999"));
  for (const auto& d : dlq_.entries()) {
    EXPECT_EQ(d.reason.kind, pipeline::error_kind::permanent);
    EXPECT_EQ(d.reason.message, "Incorrect integer value");
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.pos, pipeline::position::from_integer(std::stoi(d.payload)));  // its own record's (vector_source: the count before it)
  }
  EXPECT_EQ(report.written, 997u);
  EXPECT_EQ(report.dead_lettered, 3u);
  EXPECT_GT(sink_.write_calls(), 20u);  // found by halving, about 2 log2(1000) failed writes per bad record
}

TEST_F(runner, an_exception_from_the_transform_is_dead_lettered_with_its_message_when_defects_are_dead_lettered) {
  pipeline::vector_source<int> source{numbers(20), 5};
  auto o = options();
  o.on_defect = pipeline::defect_policy::dead_letter;
  auto report = pipeline::run(
      source,
      [](const int& v) {
        if (v == 7) throw std::runtime_error("price is not a number");
        return v;
      },
      sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  ASSERT_EQ(dlq_.entries().size(), 1u);
  EXPECT_EQ(dlq_.entries()[0].payload, "7");
  EXPECT_EQ(dlq_.entries()[0].reason.kind, pipeline::error_kind::internal);
  EXPECT_THAT(dlq_.entries()[0].reason.message, HasSubstr("price is not a number"));
  EXPECT_EQ(sink_.records().size(), 19u);
}

TEST_F(runner, a_transform_that_always_throws_fails_the_run_below_the_first_batch_and_a_fixed_rerun_writes_all) {
  pipeline::vector_source<int> source{numbers(1000), 10};
  auto o = options();
  o.workers = 1;
  auto report = pipeline::run(
      source, [](const int&) -> int { throw std::runtime_error("column 'price' not found"); }, sink_, dlq_,
      checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::internal);
  EXPECT_THAT(report.failure->message, HasSubstr("column 'price' not found"));
  EXPECT_THAT(report.failure->message, HasSubstr("on_defect"));
  EXPECT_TRUE(dlq_.entries().empty());
  EXPECT_TRUE(sink_.records().empty());
  EXPECT_EQ(checkpoints_.load("test")->version, 0u);  // nothing saved: the first batch failed

  pipeline::vector_source<int> again{numbers(1000), 10};
  auto fixed = pipeline::run(again, [](const int& v) { return v; }, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(fixed.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink_.records()), numbers(1000));
}

TEST_F(runner, an_exception_from_the_sink_is_a_defect_that_fails_the_run) {
  struct throwing_sink {
    using value_type = int;
    auto write(std::span<const int>, std::stop_token) -> pipeline::result<void> {
      throw std::logic_error("vector::at out of range");
    }
  } sink;
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_THAT(report.failure->message, HasSubstr("the sink threw: vector::at out of range"));
  EXPECT_TRUE(dlq_.entries().empty());
}

TEST_F(runner, invalid_input_from_the_transform_is_dead_lettered_without_retry) {
  std::atomic<int> calls{0};
  pipeline::vector_source<int> source{numbers(10), 10};
  auto report = pipeline::run(
      source,
      [&](const int& v) -> pipeline::result<int> {
        ++calls;
        if (v == 3) return pipeline::invalid_input_error("bad email");
        return v;
      },
      sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(calls.load(), 10);
  EXPECT_EQ(report.retried, 0u);
  ASSERT_EQ(dlq_.entries().size(), 1u);
  EXPECT_EQ(dlq_.entries()[0].attempts, 1u);
}

TEST_F(runner, a_failing_per_batch_transform_is_bisected_to_the_bad_record) {
  pipeline::vector_source<int> source{numbers(64), 64};
  auto report = pipeline::run(
      source,
      [](std::span<const int> batch) -> pipeline::result<std::vector<int>> {
        if (std::find(batch.begin(), batch.end(), 42) != batch.end()) return pipeline::permanent_error("42 is cursed");
        return std::vector<int>(batch.begin(), batch.end());
      },
      sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_THAT(payloads(dlq_), ElementsAre("42"));
  EXPECT_EQ(sink_.records().size(), 63u);
}

TEST_F(runner, exhausted_transient_errors_are_dead_lettered_with_their_attempts_when_the_policy_says_so) {
  sink_.fail_records(rule_failing({5}, pipeline::transient_error("lock wait timeout")));
  auto o = options();
  o.when_retries_exhausted = pipeline::exhausted_policy::dead_letter;
  pipeline::vector_source<int> source{numbers(10), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  // memory_sink answers per record: only 5 is refused, tried alone until attempts run out,
  // and dead-lettered; the other 9 are written at once.
  ASSERT_EQ(dlq_.entries().size(), 1u);
  for (const auto& d : dlq_.entries()) {
    EXPECT_EQ(d.payload, "5");
    EXPECT_EQ(d.attempts, 4u);
    EXPECT_EQ(d.reason.kind, pipeline::error_kind::transient);
  }
  EXPECT_EQ(sink_.records().size(), 9u);
  EXPECT_EQ(report.retried, 3u);
}

TEST_F(runner, exhausted_transient_errors_fail_the_run_by_default) {
  // An outage is not bad data: nothing is dead-lettered, and a rerun tries the records again.
  EXPECT_EQ(pipeline::runner_options{}.when_retries_exhausted, pipeline::exhausted_policy::fail_run);
  sink_.fail_next_writes(1000, pipeline::transient_error("server gone"));
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_THAT(report.failure->message, HasSubstr("server gone"));
  EXPECT_TRUE(dlq_.entries().empty());
  EXPECT_TRUE(checkpoints_.load("test")->pos.empty());  // nothing was done
}

TEST_F(runner, more_dead_letters_than_allowed_fails_the_run) {
  sink_.fail_records([](const int& v) -> std::optional<pipeline::error> {
    if (v % 10 == 0) return pipeline::permanent_error("bad");
    return std::nullopt;
  });
  auto o = options();
  o.max_dead_letters = 5;
  o.workers = 1;
  pipeline::vector_source<int> source{numbers(1000), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_THAT(report.failure->message, HasSubstr("max_dead_letters"));
  EXPECT_LT(report.read, 1000u);
}

TEST_F(runner, a_dlq_that_cannot_store_fails_the_run_and_keeps_the_checkpoint_below_that_batch) {
  sink_.fail_records(rule_failing({55}, pipeline::permanent_error("bad")));
  dlq_.fail_next_writes(1000, pipeline::permanent_error("dlq table missing"));
  auto o = options();
  o.workers = 1;
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_THAT(report.failure->message, HasSubstr("dlq table missing"));
  EXPECT_EQ(checkpoints_.load("test")->pos, pipeline::position::from_integer(50));
}

// A checkpoint store that checks, at every save, that every record below the position is
// already in the sink or the DLQ: the checkpoint never gets ahead of the data.
struct auditing_store {
  pipeline::memory_checkpoint_store& inner;
  pipeline::memory_sink<int>& sink;
  pipeline::memory_dlq& dlq;
  std::atomic<int> saves{0};
  std::atomic<int> violations{0};

  auto load(std::string_view key) -> pipeline::result<pipeline::checkpoint> { return inner.load(key); }
  auto save(std::string_view key, const pipeline::position& pos, std::uint64_t version) -> pipeline::result<std::uint64_t> {
    if (key != "test") return inner.save(key, pos, version);  // the lease and the count beside it
    ++saves;
    std::set<int> done;
    for (int v : sink.records()) done.insert(v);
    for (const auto& d : dlq.entries()) done.insert(std::stoi(d.payload));
    for (int v = 0; v < *pos.to_integer(); ++v) {
      if (done.count(v) == 0) ++violations;
    }
    return inner.save(key, pos, version);
  }
};

// Batches finish out of order (random delays) while the checkpoint is audited at each save.
struct jittery_sink {
  using value_type = int;
  pipeline::memory_sink<int>& inner;
  auto write(std::span<const int> records, std::stop_token stop) -> pipeline::result<void> {
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::this_thread::sleep_for(std::chrono::microseconds{rng() % 2000});
    return inner.write(records, stop);
  }
};

TEST_F(runner, the_checkpoint_never_gets_ahead_of_the_data_when_batches_finish_out_of_order) {
  sink_.fail_records(rule_failing({77, 1234}, pipeline::permanent_error("bad")));
  auditing_store store{checkpoints_, sink_, dlq_};
  jittery_sink sink{sink_};
  auto o = options();
  o.time = nullptr;  // real time: the delays must really reorder the batches
  o.workers = 6;
  pipeline::vector_source<int> source{numbers(3000), 25};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, store, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  // Saves that come while one runs fold into the next (the audit is slow), so how many there
  // are depends on the machine's load; a few mean the audit saw the run part-way.
  EXPECT_GE(store.saves.load(), 3);
  EXPECT_EQ(store.violations.load(), 0);
  EXPECT_EQ(checkpoints_.load("test")->pos, pipeline::position::from_integer(3000));
}

// A sink that stops the run from inside after a number of batches, as a signal would.
struct stopping_sink {
  using value_type = int;
  pipeline::memory_sink<int>& inner;
  std::stop_source& stop;
  std::atomic<int> batches{0};
  auto write(std::span<const int> records, std::stop_token token) -> pipeline::result<void> {
    if (++batches == 5) stop.request_stop();
    return inner.write(records, token);
  }
};

TEST_F(runner, a_stop_ends_the_run_as_stopped_with_the_checkpoint_saved_and_a_rerun_finishes) {
  std::stop_source stop;
  stopping_sink first{sink_, stop};
  auto o = options();
  o.workers = 2;
  pipeline::vector_source<int> source{numbers(2000), 10};
  auto report = pipeline::run(source, pipeline::identity{}, first, dlq_, checkpoints_, o, stop.get_token());
  EXPECT_EQ(report.status, pipeline::run_status::stopped);
  EXPECT_FALSE(report.failure);
  const auto after_first = checkpoints_.load("test")->pos.to_integer().value_or(0);
  EXPECT_LT(after_first, 2000);
  EXPECT_EQ(report.checkpoint, checkpoints_.load("test")->pos);
  // Everything below the checkpoint is in the sink.
  const auto first_records = first.inner.records();
  const std::set<int> written(first_records.begin(), first_records.end());
  for (int v = 0; v < after_first; ++v) EXPECT_EQ(written.count(v), 1u) << v;

  pipeline::vector_source<int> again{numbers(2000), 10};
  auto second = pipeline::run(again, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(second.status, pipeline::run_status::completed);
  EXPECT_EQ(second.read, static_cast<std::uint64_t>(2000 - after_first));
  const auto second_records = sink_.records();
  const std::set<int> all(second_records.begin(), second_records.end());
  EXPECT_EQ(all.size(), 2000u);  // at least once: nothing lost across the stop
}

TEST_F(runner, resumes_after_a_saved_checkpoint) {
  ASSERT_TRUE(checkpoints_.save("test", pipeline::position::from_integer(500), 0));
  pipeline::vector_source<int> source{numbers(1000), 100};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.read, 500u);
  auto expected = numbers(1000);
  expected.erase(expected.begin(), expected.begin() + 500);
  EXPECT_EQ(sorted(sink_.records()), expected);
}

// A stale process: it loaded version 0, but another process has saved since.
struct stale_store {
  pipeline::memory_checkpoint_store& inner;
  auto load(std::string_view) -> pipeline::result<pipeline::checkpoint> { return pipeline::checkpoint{}; }
  auto save(std::string_view key, const pipeline::position& pos, std::uint64_t version) -> pipeline::result<std::uint64_t> {
    return inner.save(key, pos, version);
  }
};

TEST_F(runner, a_checkpoint_conflict_fails_the_run) {
  ASSERT_TRUE(checkpoints_.save("test", pipeline::position::from_integer(900), 0));
  stale_store store{checkpoints_};
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, store, options());
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::conflict);
  EXPECT_EQ(checkpoints_.load("test")->pos, pipeline::position::from_integer(900));  // not moved back
}

// A source that fails every other call transiently, or always permanently.
struct flaky_source {
  using value_type = int;
  pipeline::vector_source<int> inner;
  pipeline::error_kind failure;
  int calls = 0;
  auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<int>>> {
    if (++calls % 2 == 1 || failure == pipeline::error_kind::permanent) return pipeline::error{failure, "read timeout", 0, {}};
    return inner.next_batch(stop);
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> { return inner.seek(p); }
};

TEST_F(runner, transient_source_errors_are_retried) {
  flaky_source source{{numbers(100), 10}, pipeline::error_kind::transient};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_THAT(sink_.records(), UnorderedElementsAreArray(numbers(100)));
  EXPECT_GE(report.retried, 10u);
}

TEST_F(runner, a_permanent_source_error_fails_the_run) {
  flaky_source source{{numbers(100), 10}, pipeline::error_kind::permanent};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_EQ(report.failure->message, "read timeout");
}

// A source that rejects some rows itself, as a CSV reader does with a malformed line.
struct rejecting_source {
  using value_type = int;
  pipeline::vector_source<int> inner{numbers(30), 10};
  auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<int>>> {
    auto next = inner.next_batch(stop);
    if (next && *next) {
      (*next)->rejected.push_back({"garbage line", pipeline::invalid_input_error("unterminated quote at line 4"), 0,
                                   (*next)->end, 0, std::chrono::system_clock::now()});
    }
    return next;
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> { return inner.seek(p); }
};

TEST_F(runner, records_the_source_rejects_are_dead_lettered) {
  rejecting_source source;
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.read, 33u);
  EXPECT_EQ(report.written, 30u);
  EXPECT_EQ(report.dead_lettered, 3u);
  EXPECT_THAT(payloads(dlq_), ElementsAre("garbage line", "garbage line", "garbage line"));
}

TEST_F(runner, an_empty_source_completes_with_nothing_written) {
  pipeline::vector_source<int> source{{}, 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.read, 0u);
  EXPECT_EQ(checkpoints_.load("test")->version, 0u);
}

// A sink that buffers: the checkpoint must not pass what it has not flushed.
struct buffering_sink {
  using value_type = int;
  std::mutex m;
  std::vector<int> buffered;
  std::vector<int> durable;
  auto write(std::span<const int> records, std::stop_token) -> pipeline::result<void> {
    std::scoped_lock l{m};
    buffered.insert(buffered.end(), records.begin(), records.end());
    return pipeline::ok();
  }
  auto flush(std::stop_token) -> pipeline::result<void> {
    std::scoped_lock l{m};
    durable.insert(durable.end(), buffered.begin(), buffered.end());
    buffered.clear();
    return pipeline::ok();
  }
};

struct durability_auditing_store {
  pipeline::memory_checkpoint_store& inner;
  buffering_sink& sink;
  std::atomic<int> violations{0};
  auto load(std::string_view key) -> pipeline::result<pipeline::checkpoint> { return inner.load(key); }
  auto save(std::string_view key, const pipeline::position& pos, std::uint64_t version) -> pipeline::result<std::uint64_t> {
    if (key != "test") return inner.save(key, pos, version);  // the lease and the count beside it
    std::scoped_lock l{sink.m};
    std::set<int> durable(sink.durable.begin(), sink.durable.end());
    for (int v = 0; v < *pos.to_integer(); ++v) violations += durable.count(v) == 0 ? 1 : 0;
    return inner.save(key, pos, version);
  }
};

TEST_F(runner, a_buffering_sink_is_flushed_before_each_checkpoint) {
  buffering_sink sink;
  durability_auditing_store store{checkpoints_, sink};
  pipeline::vector_source<int> source{numbers(500), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, store, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(store.violations.load(), 0);
  EXPECT_EQ(sink.durable.size(), 500u);
}

TEST_F(runner, counters_are_registered_in_the_given_metrics_registry) {
  pipeline::metrics_registry metrics;
  auto o = options();
  o.metrics = &metrics;
  sink_.fail_records(rule_failing({1}, pipeline::permanent_error("bad")));
  pipeline::vector_source<int> source{numbers(10), 5};
  (void)pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  const auto text = metrics.to_prometheus();
  EXPECT_THAT(text, HasSubstr("pipeline_records_read_total{pipeline=\"test\"} 10"));
  EXPECT_THAT(text, HasSubstr("pipeline_records_written_total{pipeline=\"test\"} 9"));
  EXPECT_THAT(text, HasSubstr("pipeline_records_dead_lettered_total{pipeline=\"test\"} 1"));
}

// Slow writes make the queue deep: the autoscaler must add workers, and nothing is lost.
struct slow_sink {
  using value_type = int;
  pipeline::memory_sink<int>& inner;
  auto write(std::span<const int> records, std::stop_token stop) -> pipeline::result<void> {
    std::this_thread::sleep_for(std::chrono::milliseconds{3});
    return inner.write(records, stop);
  }
};

TEST_F(runner, a_deep_queue_makes_the_autoscaler_add_workers) {
  std::mutex m;
  std::vector<std::size_t> desired;
  pipeline::metrics_registry metrics;
  auto o = options();
  o.time = nullptr;
  o.workers = 1;
  o.queue_capacity = 32;
  o.metrics = &metrics;
  o.autoscale = pipeline::autoscale_options{};
  o.autoscale->min_workers = 1;
  o.autoscale->max_workers = 6;
  o.autoscale->scale_up_above = 2;
  o.autoscale->scale_down_below = 0.5;
  o.autoscale->up_after = 1;
  o.autoscale->interval = std::chrono::milliseconds{20};
  o.autoscale->on_desired = [&](std::size_t n) {
    std::scoped_lock l{m};
    desired.push_back(n);
  };
  slow_sink sink{sink_};
  pipeline::vector_source<int> source{numbers(3000), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink_.records()), numbers(3000));
  std::scoped_lock l{m};
  ASSERT_FALSE(desired.empty());
  EXPECT_GT(*std::max_element(desired.begin(), desired.end()), 1u);
  EXPECT_LE(*std::max_element(desired.begin(), desired.end()), 6u);
  EXPECT_THAT(metrics.to_prometheus(), HasSubstr("pipeline_workers{pipeline=\"test\"} 0"));  // all ended
}

TEST_F(runner, a_run_is_recorded_in_the_job_log_with_its_counts) {
  pipeline::memory_job_log log;
  pipeline::any_job_log_store store{std::ref(log)};
  auto o = options();
  o.job_log = &store;
  sink_.fail_records(rule_failing({3}, pipeline::permanent_error("bad")));
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  auto runs = *log.runs("test", 10);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, report.job_run_id);
  EXPECT_EQ(runs[0].state, pipeline::run_state::completed);
  EXPECT_EQ(runs[0].read, 100u);
  EXPECT_EQ(runs[0].written, 99u);
  EXPECT_EQ(runs[0].dead_lettered, 1u);
}

TEST_F(runner, a_crashed_run_is_marked_and_the_next_resumes_from_the_checkpoint) {
  pipeline::memory_job_log log;
  pipeline::job_run dead;  // what a killed process left: running, lease long gone
  dead.job = "test";
  dead.state = pipeline::run_state::running;
  dead.owner = "gone:1";
  dead.lease_until = std::chrono::system_clock::now() - std::chrono::minutes{5};
  ASSERT_TRUE(log.create(dead));
  ASSERT_TRUE(checkpoints_.save("test", pipeline::position::from_integer(60), 0));
  pipeline::any_job_log_store store{std::ref(log)};
  auto o = options();
  o.job_log = &store;
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.read, 40u);
  auto runs = *log.runs("test", 10);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, pipeline::run_state::completed);
  EXPECT_EQ(runs[1].state, pipeline::run_state::crashed);
  EXPECT_THAT(runs[1].message, HasSubstr("gone:1"));
}

TEST_F(runner, a_run_whose_job_is_running_elsewhere_fails_as_a_conflict_and_reads_nothing) {
  pipeline::memory_job_log log;
  pipeline::job_run alive;
  alive.job = "test";
  alive.state = pipeline::run_state::running;
  alive.owner = "other:2";
  alive.lease_until = std::chrono::system_clock::now() + std::chrono::minutes{5};
  ASSERT_TRUE(log.create(alive));
  pipeline::any_job_log_store store{std::ref(log)};
  auto o = options();
  o.job_log = &store;
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::conflict);
  EXPECT_EQ(report.read, 0u);
}

TEST_F(runner, progress_is_reported_with_the_final_count_at_the_end) {
  std::vector<pipeline::progress> seen;
  auto o = options();
  o.on_progress = [&](const pipeline::progress& p) { seen.push_back(p); };
  o.expected_records = 500;
  pipeline::vector_source<int> source{numbers(500), 50};
  (void)pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, 500u);
  EXPECT_EQ(seen.back().total, 500u);
}

TEST_F(runner, invalid_options_throw_naming_the_field) {
  pipeline::vector_source<int> source{numbers(10), 5};
  auto check = [&](pipeline::runner_options o, const char* field) {
    try {
      (void)pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
      ADD_FAILURE() << "no exception for " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(field));
    }
  };
  auto o = options();
  o.workers = 0;
  check(o, "workers");
  o = options();
  o.queue_capacity = 0;
  check(o, "queue_capacity");
  o = options();
  o.name = "";
  check(o, "name");
  o = options();
  o.retry.multiplier = 0.5;
  check(o, "multiplier");
}

}  // namespace

namespace {

// A sink that answers per record: refuses the records its rule marks, commits the others, and
// counts its calls (so the tests can tell that nothing was bisected).
struct refusing_sink {
  using value_type = int;
  std::mutex m;
  std::vector<int> stored;
  std::function<std::optional<pipeline::error>(int)> rule;
  std::size_t calls = 0;
  std::size_t single_writes = 0;

  auto write(std::span<const int> records, std::stop_token stop) -> pipeline::result<void> {
    auto refused = write_each(records, stop);
    if (!refused) return std::move(refused).error();
    if (!refused->empty()) return refused->front().reason;
    return pipeline::ok();
  }
  auto write_each(std::span<const int> records, std::stop_token) -> pipeline::result<std::vector<pipeline::rejected_record>> {
    std::scoped_lock l{m};
    ++calls;
    if (records.size() == 1) ++single_writes;
    std::vector<pipeline::rejected_record> refused;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (auto e = rule(records[i])) {
        refused.push_back({i, *e});
      } else {
        stored.push_back(records[i]);
      }
    }
    return refused;
  }
};
static_assert(pipeline::per_record_sink<refusing_sink>);

// vector_source with each record's own position: the index it is at.
class positioned_source {
 public:
  using value_type = int;
  positioned_source(std::vector<int> values, std::size_t batch) : inner_(std::move(values), batch) {}
  auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<int>>> {
    auto next = inner_.next_batch(stop);
    if (!next || !*next) return next;
    auto& b = **next;
    b.positions.clear();
    const auto first = *b.end.to_integer() - static_cast<std::int64_t>(b.records.size());
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      b.positions.push_back(pipeline::position::from_integer(first + static_cast<std::int64_t>(i)));
    }
    return next;
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> { return inner_.seek(p); }

 private:
  pipeline::vector_source<int> inner_;
};

}  // namespace

TEST_F(runner, a_per_record_sink_dead_letters_only_what_it_refuses_without_bisecting) {
  refusing_sink sink;
  sink.rule = [](int v) -> std::optional<pipeline::error> {
    if (v % 100 == 7) return pipeline::invalid_input_error("Data too long for column 'city'");
    return std::nullopt;
  };
  positioned_source source{numbers(1000), 100};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sink.calls, 10u);  // one call per batch: no bisection
  auto good = numbers(1000);
  std::erase_if(good, [](int v) { return v % 100 == 7; });
  EXPECT_EQ(sorted(sink.stored), good);
  ASSERT_EQ(dlq_.entries().size(), 10u);
  for (const auto& d : dlq_.entries()) {
    EXPECT_EQ(d.reason.kind, pipeline::error_kind::invalid_input);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.pos, pipeline::position::from_integer(std::stoi(d.payload)));  // its own position
  }
  EXPECT_EQ(report.written, 990u);
  EXPECT_EQ(report.dead_lettered, 10u);
}

TEST_F(runner, a_record_refused_for_a_retryable_reason_is_tried_again_alone) {
  refusing_sink sink;
  std::atomic<int> refusals{0};
  sink.rule = [&](int v) -> std::optional<pipeline::error> {
    if (v == 42 && refusals++ < 2) return pipeline::transient_error("lock wait timeout");
    return std::nullopt;
  };
  pipeline::vector_source<int> source{numbers(100), 50};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink.stored), numbers(100));
  EXPECT_TRUE(dlq_.entries().empty());
  EXPECT_EQ(sink.single_writes, 2u);  // 42 alone, twice: refused once more, then written
}

TEST_F(runner, dead_letters_carry_their_own_records_position_when_the_source_gives_one) {
  sink_.fail_records(rule_failing({13, 57}, pipeline::permanent_error("bad")));
  positioned_source source{numbers(100), 50};
  auto report = pipeline::run(source, [](const int& v) { return v; }, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  ASSERT_EQ(dlq_.entries().size(), 2u);
  for (const auto& d : dlq_.entries()) EXPECT_EQ(d.pos, pipeline::position::from_integer(std::stoi(d.payload)));
}

TEST_F(runner, a_share_of_dead_letters_above_the_budget_fails_the_run_and_below_it_completes) {
  auto one_in = [](int n) {
    return [n](const int& v) -> std::optional<pipeline::error> {
      if (v % n == 0) return pipeline::permanent_error("bad");
      return std::nullopt;
    };
  };
  auto o = options();
  o.workers = 1;
  o.max_dead_letter_share = 0.05;
  o.dead_letter_window = 1000;
  {
    sink_.fail_records(one_in(100));  // 1%
    pipeline::vector_source<int> source{numbers(5000), 100};
    auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
    EXPECT_EQ(report.status, pipeline::run_status::completed);
    EXPECT_EQ(report.dead_lettered, 50u);
  }
  pipeline::memory_checkpoint_store fresh;
  pipeline::memory_dlq dlq;
  pipeline::memory_sink<int> sink;
  sink.fail_records(one_in(5));  // 20%
  pipeline::vector_source<int> source{numbers(5000), 100};
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq, fresh, o);
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  EXPECT_THAT(report.failure->message, HasSubstr("of the last 1000 records were dead-lettered (20.0%)"));
  EXPECT_THAT(report.failure->message, HasSubstr("max_dead_letter_share (5.0%)"));
  EXPECT_LT(report.read, 5000u);
}

TEST_F(runner, the_checkpoint_key_may_differ_from_the_name) {
  auto o = options();
  o.name = "listings-nightly";
  o.checkpoint_key = "listings";
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(checkpoints_.load("listings")->pos, pipeline::position::from_integer(100));
  EXPECT_EQ(checkpoints_.load("listings-nightly")->version, 0u);
}

TEST_F(runner, a_resumed_run_counts_the_records_done_before_its_checkpoint) {
  std::stop_source stop;
  auto o = options();
  o.workers = 1;
  {
    pipeline::vector_source<int> source{numbers(1000), 100};
    auto first = pipeline::run(
        source,
        [&](const int& v) {
          if (v == 450) stop.request_stop();
          return v;
        },
        sink_, dlq_, checkpoints_, o, stop.get_token());
    ASSERT_EQ(first.status, pipeline::run_status::stopped);
    ASSERT_GT(first.checkpoint.to_integer().value_or(0), 0);
  }
  const auto resumed_at = static_cast<std::uint64_t>(*checkpoints_.load("test")->pos.to_integer());
  std::vector<pipeline::progress> seen;
  o.on_progress = [&](const pipeline::progress& p) { seen.push_back(p); };
  o.expected_records = 1000;
  pipeline::vector_source<int> source{numbers(1000), 100};
  auto second = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, o);
  EXPECT_EQ(second.status, pipeline::run_status::completed);
  EXPECT_EQ(second.done_before, resumed_at);
  EXPECT_EQ(second.done_before + second.written, 1000u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, 1000u);
}
