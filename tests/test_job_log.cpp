#include <pipeline/job_log.hpp>
#include <pipeline/memory/memory_job_log.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const auto t0 = std::chrono::system_clock::time_point{std::chrono::seconds{1'790'000'000}};

auto lease(std::string owner) -> pipeline::lease_options {
  pipeline::lease_options l;
  l.lease = 30s;
  l.owner = std::move(owner);
  return l;
}

TEST(job_log, a_first_run_starts_running_with_a_lease) {
  pipeline::memory_job_log log;
  auto run = pipeline::begin_run(log, "listings", lease("a:1"), t0);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->state, pipeline::run_state::running);
  EXPECT_EQ(run->owner, "a:1");
  EXPECT_EQ(run->lease_until, t0 + 30s);
  EXPECT_EQ(log.runs("listings", 10)->front(), *run);
}

TEST(job_log, a_run_with_a_live_lease_blocks_a_second_start_as_a_conflict) {
  pipeline::memory_job_log log;
  ASSERT_TRUE(pipeline::begin_run(log, "listings", lease("a:1"), t0));
  auto second = pipeline::begin_run(log, "listings", lease("b:2"), t0 + 10s);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, pipeline::error_kind::conflict);
  EXPECT_THAT(second.error().message, HasSubstr("a:1"));
}

TEST(job_log, a_running_run_whose_lease_expired_is_marked_crashed_and_a_new_run_starts) {
  pipeline::memory_job_log log;
  auto dead = pipeline::begin_run(log, "listings", lease("a:1"), t0);
  ASSERT_TRUE(dead);
  auto next = pipeline::begin_run(log, "listings", lease("b:2"), t0 + 31s);
  ASSERT_TRUE(next) << fmt::format("{}", next.error());
  auto runs = *log.runs("listings", 10);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, next->id);
  EXPECT_EQ(runs[0].state, pipeline::run_state::running);
  EXPECT_EQ(runs[1].state, pipeline::run_state::crashed);
  EXPECT_THAT(runs[1].message, HasSubstr("lease expired"));
  EXPECT_THAT(runs[1].message, HasSubstr("a:1"));
}

TEST(job_log, heartbeats_keep_a_run_alive) {
  pipeline::memory_job_log log;
  auto run = *pipeline::begin_run(log, "j", lease("a:1"), t0);
  for (int i = 1; i <= 5; ++i) {
    run.read = static_cast<std::uint64_t>(i) * 100;
    ASSERT_TRUE(pipeline::heartbeat(log, run, lease("a:1"), t0 + i * 20s));
  }
  EXPECT_EQ(log.runs("j", 1)->front().read, 500u);
  EXPECT_FALSE(pipeline::begin_run(log, "j", lease("b:2"), t0 + 110s));  // lease until t0 + 130 s
}

TEST(job_log, a_finished_run_does_not_block_the_next) {
  pipeline::memory_job_log log;
  auto run = *pipeline::begin_run(log, "j", lease("a:1"), t0);
  ASSERT_TRUE(pipeline::finish_run(log, run, pipeline::run_state::completed, "", t0 + 5s));
  EXPECT_EQ(log.runs("j", 1)->front().state, pipeline::run_state::completed);
  EXPECT_TRUE(pipeline::begin_run(log, "j", lease("a:1"), t0 + 6s));
}

TEST(job_log, a_pending_run_is_taken_over_by_begin_run_keeping_its_id) {
  pipeline::memory_job_log log;
  auto queued = pipeline::enqueue_run(log, "reports/2024-05", t0);
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->state, pipeline::run_state::pending);
  EXPECT_EQ(log.runs("reports/2024-05", 10)->front().state, pipeline::run_state::pending);
  auto run = pipeline::begin_run(log, "reports/2024-05", lease("a:1"), t0 + 5s);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->id, queued->id);
  EXPECT_EQ(run->created, t0);
  EXPECT_EQ(run->state, pipeline::run_state::running);
  EXPECT_EQ(run->lease_until, t0 + 35s);
  auto runs = *log.runs("reports/2024-05", 10);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs.front(), *run);
}

TEST(job_log, enqueuing_a_job_twice_queues_it_once) {
  pipeline::memory_job_log log;
  auto first = *pipeline::enqueue_run(log, "j", t0);
  auto second = *pipeline::enqueue_run(log, "j", t0 + 1s);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(log.runs("j", 10)->size(), 1u);
  ASSERT_TRUE(pipeline::begin_run(log, "j", lease("a:1"), t0 + 2s));
  EXPECT_NE(pipeline::enqueue_run(log, "j", t0 + 3s)->id, first.id);  // running now: the next one is new
}

TEST(job_log, run_states_round_trip_through_their_names) {
  for (auto s : {pipeline::run_state::pending, pipeline::run_state::running, pipeline::run_state::completed,
                 pipeline::run_state::failed, pipeline::run_state::stopped, pipeline::run_state::crashed}) {
    EXPECT_EQ(pipeline::parse_run_state(pipeline::to_string(s)).value(), s);
  }
  EXPECT_EQ(pipeline::parse_run_state("exploded").error().kind, pipeline::error_kind::invalid_input);
}

TEST(job_log, the_default_owner_names_this_process) {
  EXPECT_THAT(pipeline::lease_options::default_owner(), HasSubstr(":" + std::to_string(::getpid())));
}

}  // namespace

namespace {

TEST(job_log, a_run_owned_by_a_vanished_local_process_is_crashed_without_waiting_for_its_lease) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // reaped: the pid names no process now
  const auto host_and_pid = pipeline::lease_options::default_owner();
  const auto dead_owner = host_and_pid.substr(0, host_and_pid.rfind(':') + 1) + std::to_string(child);
  EXPECT_FALSE(pipeline::owner_may_be_alive(dead_owner));
  EXPECT_TRUE(pipeline::owner_may_be_alive(host_and_pid));
  EXPECT_TRUE(pipeline::owner_may_be_alive("another-host:1"));
  EXPECT_TRUE(pipeline::owner_may_be_alive("not an owner"));

  pipeline::memory_job_log log;
  ASSERT_TRUE(pipeline::begin_run(log, "j", lease(dead_owner), t0));
  auto next = pipeline::begin_run(log, "j", lease("b:2"), t0 + 1s);  // lease has 29 s left
  ASSERT_TRUE(next) << fmt::format("{}", next.error());
  EXPECT_EQ(log.runs("j", 10)->at(1).state, pipeline::run_state::crashed);
  EXPECT_THAT(log.runs("j", 10)->at(1).message, HasSubstr("is gone"));
}

}  // namespace
