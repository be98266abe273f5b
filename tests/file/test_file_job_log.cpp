#include <pipeline/file/job_log.hpp>
#include <pipeline/job_log.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using pipeline::error_kind;
using pipeline::job_run;
using pipeline::run_state;
namespace file = pipeline::file;

auto new_run(std::string job) -> job_run {
  job_run run;
  run.job = std::move(job);
  run.state = run_state::running;
  run.owner = "host:1";
  run.created = run.updated = std::chrono::system_clock::time_point{} + 1'700'000'000s;
  run.lease_until = run.created + 30s;
  return run;
}

TEST(file_job_log, jobs_are_the_jobs_with_runs_in_name_order_and_none_for_a_missing_directory) {
  file_test::scratch_dir dir;
  file::job_log log{dir / "jobs"};
  EXPECT_EQ(log.jobs().value(), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(dir / "jobs"));  // looking creates nothing
  for (const auto* job : {"reports/2026-05", "listings", "reports/2026-05", "../x"}) {
    ASSERT_TRUE(log.create(new_run(job)));
  }
  std::filesystem::create_directory(dir / "jobs" / "not%zzjob");  // no escaped name: not a job
  EXPECT_EQ(log.jobs().value(), (std::vector<std::string>{"../x", "listings", "reports/2026-05"}));
}

TEST(file_job_log, hostile_job_names_stay_inside_the_directory) {
  file_test::scratch_dir dir;
  file::job_log log{dir / "jobs"};
  const std::vector<std::string> jobs{"../escape", "/etc/passwd", "a/b", "..", std::string("nul\0x", 5)};
  for (const auto& job : jobs) {
    auto id = log.create(new_run(job));
    ASSERT_TRUE(id) << fmt::format("{}", id.error());
    auto runs = log.runs(job, 10);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 1U) << job;
    EXPECT_EQ(runs->front().job, job);
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string().rfind((dir / "jobs").string(), 0), 0U) << entry.path();
  }
  auto empty = log.create(new_run(""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, error_kind::invalid_input);
}

TEST(file_job_log, a_damaged_run_file_is_a_permanent_error_naming_it) {
  file_test::scratch_dir dir;
  file::job_log log{dir / "jobs"};
  auto id = log.create(new_run("listings"));
  ASSERT_TRUE(id);
  const auto path = dir / "jobs" / "listings" / fmt::format("{:020}.run", *id);
  ASSERT_TRUE(std::filesystem::exists(path));
  std::ofstream{path} << R"({"format":1,"id":1,"job":"listings","state":"sleeping"})";
  auto runs = log.runs("listings", 10);
  ASSERT_FALSE(runs);
  EXPECT_EQ(runs.error().kind, error_kind::permanent);
  EXPECT_NE(runs.error().message.find(path.string()), std::string::npos) << runs.error().message;
}

TEST(file_job_log, processes_sharing_the_directory_get_distinct_increasing_ids) {
  file_test::scratch_dir dir;
  constexpr int processes = 4;
  constexpr int runs_each = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const pid_t pid = ::fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
      file::job_log log{dir / "jobs"};
      for (int i = 0; i < runs_each; ++i) {
        if (!log.create(new_run("shared"))) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  file::job_log log{dir / "jobs"};
  auto runs = log.runs("shared", 1000);
  ASSERT_TRUE(runs);
  std::set<std::uint64_t> ids;
  for (const auto& r : *runs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), std::size_t{processes * runs_each});
  EXPECT_EQ(*ids.begin(), 1U);
  EXPECT_EQ(*ids.rbegin(), std::uint64_t{processes * runs_each});
}

TEST(file_job_log, a_run_whose_lease_ran_out_is_marked_crashed_by_the_next_start) {
  file_test::scratch_dir dir;
  file::job_log log{dir / "jobs"};
  const auto t0 = std::chrono::system_clock::time_point{} + 1'700'000'000s;
  pipeline::lease_options lease{.lease = 30s, .owner = "elsewhere:1"};
  auto first = pipeline::begin_run(log, "listings", lease, t0);
  ASSERT_TRUE(first);
  auto second = pipeline::begin_run(log, "listings", {.lease = 30s, .owner = "elsewhere:2"}, t0 + 31s);
  ASSERT_TRUE(second) << fmt::format("{}", second.error());
  auto runs = log.runs("listings", 10);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2U);
  EXPECT_EQ((*runs)[0].state, run_state::running);
  EXPECT_EQ((*runs)[1].state, run_state::crashed);
  EXPECT_NE((*runs)[1].message.find("lease expired"), std::string::npos) << (*runs)[1].message;
}

}  // namespace
