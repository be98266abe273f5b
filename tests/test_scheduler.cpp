#include <pipeline/scheduler.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_job_log.hpp>

namespace {

using namespace std::chrono;
using pipeline::schedule;
using pipeline::scheduled_run;

auto at(int h, int m, int s = 0) -> schedule::time_point {
  return sys_days{2024y / May / 1} + hours{h} + minutes{m} + seconds{s};
}
auto ms(schedule::time_point t) -> std::int64_t { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }

// Virtual time: each test's wall clock starts where it says and moves only by the scheduler's
// waits (and the jobs' own advances).
struct virtual_schedule {
  pipeline::manual_clock clock;
  pipeline::memory_checkpoint_store memory;
  pipeline::any_checkpoint_store store{std::ref(memory)};
  pipeline::memory_job_log log_memory;
  pipeline::any_job_log_store log{std::ref(log_memory)};

  auto options(schedule::time_point start) -> pipeline::scheduler_options {
    pipeline::scheduler_options o;
    o.job = "report";
    o.time = &clock;
    o.time_origin = start - (clock.now() - pipeline::clock::time_point{});
    o.poll_interval = seconds{1};
    return o;
  }
  auto wall(const pipeline::scheduler_options& o) const -> schedule::time_point {
    return o.time_origin + duration_cast<system_clock::duration>(clock.now() - pipeline::clock::time_point{});
  }
};

struct ran {
  schedule::time_point due;
  schedule::time_point started;
  std::uint64_t skipped_before;
  friend auto operator==(const ran&, const ran&) -> bool = default;
};

// Runs `text` from `start` until `runs` runs are done; `during` is called inside each run.
auto run_until(virtual_schedule& v, std::string_view text, const pipeline::scheduler_options& o, std::size_t runs,
               std::function<void(const scheduled_run&)> during = {})
    -> std::pair<std::vector<ran>, pipeline::scheduler_report> {
  std::vector<ran> seen;
  std::stop_source stop;
  pipeline::scheduler s{schedule::parse(text), v.store, o};
  auto report = s.run(
      [&](const scheduled_run& r, std::stop_token) {
        seen.push_back({r.due, v.wall(o), r.skipped_before});
        if (during) during(r);
        if (seen.size() == runs) stop.request_stop();
      },
      stop.get_token());
  return {seen, report};
}

// A record held by `owner` until `until`, having run `last`.
void held_by(virtual_schedule& v, std::string_view owner, schedule::time_point until, schedule::time_point last) {
  const pipeline::position record{fmt::format("schedule\n{}\n7\n{}\n{}", owner, ms(until), ms(last))};
  ASSERT_TRUE(v.store.save("report#schedule", record, 0).has_value());
}

TEST(scheduler, runs_each_due_time_once_at_its_time) {
  virtual_schedule v;
  auto [seen, report] = run_until(v, "every 1m", v.options(at(12, 0, 30)), 3);
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 1), at(12, 1), 0}, {at(12, 2), at(12, 2), 0}, {at(12, 3), at(12, 3), 0}}));
  EXPECT_EQ(report.runs, 3U);
  EXPECT_EQ(report.skipped, 0U);
}

TEST(scheduler, monthly_runs_on_each_months_last_day_in_virtual_time) {
  virtual_schedule v;
  auto o = v.options(sys_days{2024y / January / 15});
  auto [seen, report] = run_until(v, "monthly 31 06:00", o, 4);
  ASSERT_EQ(seen.size(), 4U);
  EXPECT_EQ(seen[0].due, sys_days{2024y / January / 31} + hours{6});
  EXPECT_EQ(seen[1].due, sys_days{2024y / February / 29} + hours{6});
  EXPECT_EQ(seen[2].due, sys_days{2024y / March / 31} + hours{6});
  EXPECT_EQ(seen[3].due, sys_days{2024y / April / 30} + hours{6});
}

// Runs 11:55 once, then "nothing was up" until 12:00:30: 11:56 to 12:00 are missed.
auto after_downtime(virtual_schedule& v, pipeline::missed_policy policy, std::size_t runs)
    -> std::pair<std::vector<ran>, pipeline::scheduler_report> {
  (void)run_until(v, "every 1m", v.options(at(11, 54, 30)), 1);
  auto o = v.options(at(12, 0, 30));
  o.when_missed = policy;
  o.missed_after = seconds{10};
  return run_until(v, "every 1m", o, runs);
}

TEST(scheduler, missed_skip_runs_none_of_the_missed_due_times) {
  virtual_schedule v;
  auto [seen, report] = after_downtime(v, pipeline::missed_policy::skip, 2);
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 1), at(12, 1), 0}, {at(12, 2), at(12, 2), 0}}));
  EXPECT_EQ(report.skipped, 5U);
}

TEST(scheduler, missed_run_once_runs_the_newest_once) {
  virtual_schedule v;
  auto [seen, report] = after_downtime(v, pipeline::missed_policy::run_once, 2);
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 0), at(12, 0, 30), 4}, {at(12, 1), at(12, 1), 0}}));
  EXPECT_EQ(report.skipped, 4U);
}

TEST(scheduler, missed_run_each_runs_every_missed_due_time_in_order) {
  virtual_schedule v;
  auto [seen, report] = after_downtime(v, pipeline::missed_policy::run_each, 6);
  ASSERT_EQ(seen.size(), 6U);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)].due, at(11, 56 + i));
  EXPECT_EQ(seen[5].due, at(12, 1));
  EXPECT_EQ(report.skipped, 0U);
}

TEST(scheduler, overlap_skip_drops_due_times_that_pass_during_a_run) {
  virtual_schedule v;
  auto o = v.options(at(12, 0, 30));
  o.on_overlap = pipeline::overlap_policy::skip;
  bool first = true;
  auto [seen, report] = run_until(v, "every 1m", o, 2, [&](const scheduled_run&) {
    if (std::exchange(first, false)) v.clock.advance(seconds{150});  // 12:01 runs until 12:03:30
  });
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 1), at(12, 1), 0}, {at(12, 4), at(12, 4), 0}}));
  EXPECT_EQ(report.skipped, 2U);
}

TEST(scheduler, overlap_queue_runs_the_newest_overlapped_due_time_when_the_run_ends) {
  virtual_schedule v;
  auto o = v.options(at(12, 0, 30));
  o.on_overlap = pipeline::overlap_policy::queue;
  bool first = true;
  auto [seen, report] = run_until(v, "every 1m", o, 3, [&](const scheduled_run&) {
    if (std::exchange(first, false)) v.clock.advance(seconds{150});
  });
  EXPECT_EQ(seen, (std::vector<ran>{
                      {at(12, 1), at(12, 1), 0}, {at(12, 3), at(12, 3, 30), 1}, {at(12, 4), at(12, 4), 0}}));
  EXPECT_EQ(report.skipped, 1U);
}

TEST(scheduler, jitter_delays_each_run_by_at_most_its_bound) {
  virtual_schedule v;
  auto o = v.options(at(12, 0, 30));
  o.jitter = seconds{20};
  auto [seen, report] = run_until(v, "every 1m", o, 20);
  ASSERT_EQ(seen.size(), 20U);
  bool some_delay = false;
  for (const auto& r : seen) {
    EXPECT_GE(r.started, r.due);
    EXPECT_LE(r.started, r.due + seconds{20});
    some_delay = some_delay || r.started > r.due;
  }
  EXPECT_TRUE(some_delay);
  EXPECT_EQ(report.skipped, 0U);
}

TEST(scheduler, a_stop_before_the_first_due_time_runs_nothing) {
  virtual_schedule v;
  std::stop_source stop;
  stop.request_stop();
  pipeline::scheduler s{schedule::parse("every 1m"), v.store, v.options(at(12, 0, 30))};
  int runs = 0;
  const auto report = s.run([&](const scheduled_run&, std::stop_token) { ++runs; }, stop.get_token());
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(report.runs, 0U);
}

TEST(scheduler, a_stop_during_a_run_reaches_the_job_and_ends_the_schedule) {
  virtual_schedule v;
  auto o = v.options(at(12, 0, 30));
  o.job_log = &v.log;
  std::stop_source stop;
  pipeline::scheduler s{schedule::parse("every 1m"), v.store, o};
  std::atomic<bool> started{false};
  std::jthread stopper{[&] {
    while (!started.load()) std::this_thread::sleep_for(milliseconds{1});
    stop.request_stop();
  }};
  const auto report = s.run(
      [&](const scheduled_run&, std::stop_token token) {
        started = true;
        while (!token.stop_requested()) std::this_thread::sleep_for(milliseconds{1});
        return pipeline::run_state::stopped;
      },
      stop.get_token());
  EXPECT_EQ(report.runs, 1U);
  auto runs = v.log_memory.runs("report", 10);
  ASSERT_TRUE(runs.has_value());
  ASSERT_FALSE(runs->empty());
  EXPECT_EQ(runs->at(0).state, pipeline::run_state::pending);
  EXPECT_EQ(runs->at(1).state, pipeline::run_state::stopped);
}

TEST(scheduler, the_job_log_shows_each_run_and_the_next_run_at) {
  virtual_schedule v;
  auto o = v.options(at(12, 0, 30));
  o.job_log = &v.log;
  (void)run_until(v, "every 1m", o, 2);
  auto runs = v.log_memory.runs("report", 10);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 3U);
  EXPECT_EQ(runs->at(0).state, pipeline::run_state::pending);
  EXPECT_THAT(runs->at(0).message, testing::HasSubstr("next run at 2024-05-01T12:03:00"));
  EXPECT_EQ(runs->at(1).state, pipeline::run_state::completed);
  EXPECT_THAT(runs->at(1).message, testing::HasSubstr("due at 2024-05-01T12:02:00"));
  EXPECT_EQ(runs->at(2).state, pipeline::run_state::completed);
  EXPECT_THAT(runs->at(2).message, testing::HasSubstr("due at 2024-05-01T12:01:00"));
}

TEST(scheduler, a_job_that_throws_fails_its_run_and_the_schedule_goes_on) {
  virtual_schedule v;
  auto o = v.options(at(12, 0, 30));
  o.job_log = &v.log;
  int calls = 0;
  std::stop_source stop;
  pipeline::scheduler s{schedule::parse("every 1m"), v.store, o};
  const auto report = s.run(
      [&](const scheduled_run&, std::stop_token) {
        if (++calls == 2) stop.request_stop();
        if (calls == 1) throw std::runtime_error("mail server down");
      },
      stop.get_token());
  EXPECT_EQ(report.runs, 2U);
  EXPECT_EQ(report.failed, 1U);
  auto runs = v.log_memory.runs("report", 10);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 3U);
  EXPECT_EQ(runs->at(2).state, pipeline::run_state::failed);
  EXPECT_EQ(runs->at(2).message, "mail server down");
}

TEST(scheduler, waits_while_a_live_holder_elsewhere_runs_then_takes_over_when_its_lease_runs_out) {
  virtual_schedule v;
  held_by(v, "elsewhere:1", at(12, 3, 10), at(12, 0));  // another host, running 12:00, lease until 12:03:10
  auto [seen, report] = run_until(v, "every 1m", v.options(at(12, 0, 30)), 2);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].due, at(12, 3));  // run_once: 12:01 and 12:02 were missed while it held on
  EXPECT_GE(seen[0].started, at(12, 3, 10));
  EXPECT_EQ(seen[0].skipped_before, 2U);
  EXPECT_EQ(seen[1].due, at(12, 4));
}

TEST(scheduler, a_due_time_reached_within_missed_after_is_not_missed) {
  virtual_schedule v;
  held_by(v, "elsewhere:1", at(12, 1, 5), at(12, 0));  // its lease runs out 5 s after 12:01
  auto o = v.options(at(12, 0, 30));
  o.when_missed = pipeline::missed_policy::skip;
  o.missed_after = seconds{10};
  auto [seen, report] = run_until(v, "every 1m", o, 1);
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 1), at(12, 1, 5), 0}}));
  EXPECT_EQ(report.skipped, 0U);
}

TEST(scheduler, a_due_time_reached_later_than_missed_after_is_missed) {
  virtual_schedule v;
  held_by(v, "elsewhere:1", at(12, 1, 15), at(12, 0));  // 15 s after 12:01
  auto o = v.options(at(12, 0, 30));
  o.when_missed = pipeline::missed_policy::skip;
  o.missed_after = seconds{10};
  auto [seen, report] = run_until(v, "every 1m", o, 1);
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 2), at(12, 2), 0}}));
  EXPECT_EQ(report.skipped, 1U);
}

TEST(scheduler, a_dead_holder_on_this_host_is_taken_over_at_once) {
  virtual_schedule v;
  const auto owner = pipeline::lease_options::default_owner();
  const auto host = owner.substr(0, owner.rfind(':'));
  held_by(v, host + ":999999999", at(13, 0), at(12, 0));  // no such pid; lease far ahead
  auto [seen, report] = run_until(v, "every 1m", v.options(at(12, 0, 30)), 1);
  EXPECT_EQ(seen, (std::vector<ran>{{at(12, 1), at(12, 1), 0}}));
}

TEST(scheduler, options_that_cannot_work_are_refused) {
  virtual_schedule v;
  auto o = v.options(at(12, 0));
  o.heartbeat_interval = seconds{30};
  EXPECT_THROW((pipeline::scheduler{schedule::parse("every 1m"), v.store, o}), std::invalid_argument);
  o = v.options(at(12, 0));
  o.job.clear();
  EXPECT_THROW((pipeline::scheduler{schedule::parse("every 1m"), v.store, o}), std::invalid_argument);
}

}  // namespace
