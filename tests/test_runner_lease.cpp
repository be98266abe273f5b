// One job, one runner: the lease a run holds on its checkpoint key (docs/runner.md).

#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_job_log.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <future>
#include <numeric>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

auto numbers(int n) -> std::vector<int> {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

auto ms_from_now(std::chrono::milliseconds d) -> long long {
  return std::chrono::duration_cast<std::chrono::milliseconds>((std::chrono::system_clock::now() + d).time_since_epoch())
      .count();
}

// What another runner's lease looks like in the store.
auto lease_of(const std::string& owner, long long until_ms) -> pipeline::position {
  return pipeline::position{fmt::format("lease\n{}\n1\n{}", owner, until_ms)};
}

// A sink whose `hold_at`-th write waits until the test lets it go, so a run can be held mid-way.
struct held_sink {
  using value_type = int;
  pipeline::memory_sink<int>& inner;
  int hold_at = 1;
  std::binary_semaphore entered{0};
  std::binary_semaphore release{0};
  std::atomic<int> writes{0};
  auto write(std::span<const int> records, std::stop_token stop) -> pipeline::result<void> {
    if (++writes == hold_at) {
      entered.release();
      release.acquire();
    }
    return inner.write(records, stop);
  }
};

// A run turned away because its job is running elsewhere: failed, a conflict, nothing read.
void expect_turned_away(const pipeline::run_report& report, const std::string& why) {
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::conflict);
  EXPECT_THAT(report.failure->message, HasSubstr(why));
  EXPECT_EQ(report.read, 0u);
}

class runner_lease : public ::testing::Test {
 protected:
  auto options() -> pipeline::runner_options {
    pipeline::runner_options o;
    o.name = "orders";
    o.workers = 2;
    o.checkpoint_interval = 0ms;
    return o;
  }

  pipeline::memory_sink<int> sink_;
  pipeline::memory_sink<int> second_sink_;
  pipeline::memory_dlq dlq_;
  pipeline::memory_checkpoint_store checkpoints_;
};

TEST_F(runner_lease, a_second_run_of_a_running_job_fails_as_a_conflict_before_it_reads_or_writes) {
  held_sink held{sink_};
  pipeline::vector_source<int> source{numbers(1000), 10};
  auto first = std::async(std::launch::async, [&] {
    return pipeline::run(source, pipeline::identity{}, held, dlq_, checkpoints_, options());
  });
  held.entered.acquire();  // the first run is writing

  pipeline::vector_source<int> again{numbers(1000), 10};
  auto second = pipeline::run(again, pipeline::identity{}, second_sink_, dlq_, checkpoints_, options());
  expect_turned_away(second, "running elsewhere");
  EXPECT_TRUE(second_sink_.records().empty());

  held.release.release();
  auto report = first.get();
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sink_.records().size(), 1000u);
}

TEST_F(runner_lease, the_lease_is_given_back_at_the_end_so_the_next_run_goes_ahead) {
  std::stop_source stop;
  stop.request_stop();
  pipeline::vector_source<int> source{numbers(100), 10};
  auto stopped = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options(), stop.get_token());
  EXPECT_EQ(stopped.status, pipeline::run_status::stopped);
  EXPECT_EQ(checkpoints_.load("orders#lease")->pos, pipeline::position{});

  pipeline::vector_source<int> again{numbers(100), 10};
  auto next = pipeline::run(again, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(next.status, pipeline::run_status::completed);
  EXPECT_EQ(sink_.records().size(), 100u);
}

TEST_F(runner_lease, a_live_lease_of_another_host_blocks_the_run_and_an_expired_one_is_taken_over) {
  ASSERT_TRUE(checkpoints_.save("orders#lease", lease_of("elsewhere:7", ms_from_now(5min)), 0));
  pipeline::vector_source<int> source{numbers(100), 10};
  auto blocked = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  expect_turned_away(blocked, "elsewhere:7");

  const auto version = checkpoints_.load("orders#lease")->version;
  ASSERT_TRUE(checkpoints_.save("orders#lease", lease_of("elsewhere:7", ms_from_now(-1s)), version));
  auto taken = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(taken.status, pipeline::run_status::completed);
  EXPECT_EQ(sink_.records().size(), 100u);
}

TEST_F(runner_lease, the_live_lease_of_a_process_of_this_host_that_is_gone_is_taken_over_at_once) {
  // A pid above the kernel's limit (2^22) names no process, as after a kill -9.
  const auto dead = pipeline::lease_options::default_owner();
  const auto owner = dead.substr(0, dead.rfind(':')) + ":4194305";
  ASSERT_TRUE(checkpoints_.save("orders#lease", lease_of(owner, ms_from_now(5min)), 0));
  pipeline::vector_source<int> source{numbers(100), 10};
  auto report = pipeline::run(source, pipeline::identity{}, sink_, dlq_, checkpoints_, options());
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sink_.records().size(), 100u);
}

TEST_F(runner_lease, a_run_whose_lease_was_taken_over_fails_as_a_conflict_and_writes_no_further_batch) {
  pipeline::memory_job_log log;
  pipeline::any_job_log_store logged{std::ref(log)};
  auto o = options();
  o.workers = 1;
  o.heartbeat_interval = 20ms;
  o.lease.lease = 1s;
  o.job_log = &logged;
  held_sink held{sink_};
  pipeline::vector_source<int> source{numbers(1000), 10};
  auto first = std::async(std::launch::async, [&] {
    return pipeline::run(source, pipeline::identity{}, held, dlq_, checkpoints_, o);
  });
  held.entered.acquire();
  // Another runner takes the job over, as it would after this one was paused past its lease.
  const auto version = checkpoints_.load("orders#lease")->version;
  ASSERT_TRUE(checkpoints_.save("orders#lease", lease_of("elsewhere:7", ms_from_now(5min)), version));
  const auto checkpoint_at_takeover = *checkpoints_.load("orders");
  std::this_thread::sleep_for(100ms);  // a few heartbeats
  held.release.release();
  auto report = first.get();
  EXPECT_EQ(report.status, pipeline::run_status::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->kind, pipeline::error_kind::conflict);
  EXPECT_THAT(report.failure->message, HasSubstr("taken over"));
  EXPECT_LE(sink_.records().size(), 10u);  // at most the batch that was in the sink's hands
  EXPECT_EQ(*checkpoints_.load("orders"), checkpoint_at_takeover);  // the job is the other run's now
  // The lease stays with the run that took it, and the job log says why this one failed.
  EXPECT_THAT(checkpoints_.load("orders#lease")->pos.bytes(), HasSubstr("elsewhere:7"));
  auto runs = *log.runs("orders", 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].state, pipeline::run_state::failed);
  EXPECT_THAT(runs[0].message, HasSubstr("taken over"));
}

TEST_F(runner_lease, the_job_log_has_the_counts_of_the_first_checkpoint_before_the_first_heartbeat) {
  // So a run killed between heartbeats (10 s apart by default) does not leave zero counts.
  pipeline::memory_job_log log;
  pipeline::any_job_log_store logged{std::ref(log)};
  auto o = options();
  o.workers = 1;
  o.heartbeat_interval = std::chrono::minutes{1};
  o.lease.lease = std::chrono::minutes{2};
  o.job_log = &logged;
  held_sink held{sink_, 3};
  pipeline::vector_source<int> source{numbers(100), 10};
  auto run = std::async(std::launch::async, [&] {
    return pipeline::run(source, pipeline::identity{}, held, dlq_, checkpoints_, o);
  });
  held.entered.acquire();  // two batches are done and checkpointed; no heartbeat has come
  auto runs = *log.runs("orders", 1);
  held.release.release();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].state, pipeline::run_state::running);
  EXPECT_GE(runs[0].written, 10u);
  EXPECT_EQ(run.get().status, pipeline::run_status::completed);
}

TEST_F(runner_lease, runs_of_different_checkpoint_keys_of_one_job_name_run_side_by_side) {
  held_sink held{sink_};
  auto a = options();
  a.checkpoint_key = "orders/p0";
  pipeline::vector_source<int> source{numbers(100), 10};
  auto first = std::async(std::launch::async, [&] {
    return pipeline::run(source, pipeline::identity{}, held, dlq_, checkpoints_, a);
  });
  held.entered.acquire();
  auto b = options();
  b.checkpoint_key = "orders/p1";
  pipeline::vector_source<int> other{numbers(100), 10};
  auto second = pipeline::run(other, pipeline::identity{}, second_sink_, dlq_, checkpoints_, b);
  held.release.release();
  EXPECT_EQ(second.status, pipeline::run_status::completed);
  EXPECT_EQ(first.get().status, pipeline::run_status::completed);
}

}  // namespace
