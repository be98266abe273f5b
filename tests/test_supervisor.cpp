// pipeline::supervisor with real child processes (/bin/sh workers that record what happens to
// them in a scratch directory): scaling by depth, graceful stops, kills after the grace,
// restarts after crashes, and every child reaped.
#include <pipeline/supervisor.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using pipeline::supervisor;
using pipeline::supervisor_options;
using pipeline::supervisor_report;

// A worker that records "<slot> <pid> <start ns>" in $dir/started (once its SIGTERM handler is
// set) and, on SIGTERM, its pid in $dir/stopped before exiting 0. `before` runs first (a
// crash on the first start, say); `on_term` replaces the handler.
auto shell_worker(const std::filesystem::path& dir, const std::string& before = ":", const std::string& on_term = "")
    -> std::vector<std::string> {
  const std::string term = on_term.empty() ? R"(echo $$ >> "$1/stopped"; exit 0)" : on_term;
  return {"/bin/sh", "-c",
          before + "; trap '" + term +
              R"sh(' TERM; echo "$PIPELINE_WORKER_SLOT $$ $(date +%s%N)" >> "$1/started"; while :; do sleep 0.02; done)sh",
          "worker", dir.string()};
}

struct started_worker {
  std::size_t slot;
  pid_t pid;
  std::int64_t at_ns;
};

auto lines_of(const std::filesystem::path& file) -> std::vector<std::string> {
  std::ifstream in{file};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

auto started_workers(const std::filesystem::path& dir) -> std::vector<started_worker> {
  std::vector<started_worker> out;
  for (const auto& line : lines_of(dir / "started")) {
    std::istringstream fields{line};
    started_worker w{};
    fields >> w.slot >> w.pid >> w.at_ns;
    out.push_back(w);
  }
  return out;
}

auto stopped_pids(const std::filesystem::path& dir) -> std::set<pid_t> {
  std::set<pid_t> out;
  for (const auto& line : lines_of(dir / "stopped")) out.insert(static_cast<pid_t>(std::stol(line)));
  return out;
}

auto is_gone(pid_t pid) -> bool { return ::kill(pid, 0) == -1 && errno == ESRCH; }

auto eventually(const std::function<bool()>& condition) -> bool {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class scratch_directory {
 public:
  scratch_directory()
      : path_(std::filesystem::temp_directory_path() /
              ("pipeline-supervisor-" + std::to_string(::getpid()) + "-" + std::to_string(next_++))) {
    std::filesystem::create_directories(path_);
  }
  scratch_directory(const scratch_directory&) = delete;
  auto operator=(const scratch_directory&) -> scratch_directory& = delete;
  ~scratch_directory() { std::filesystem::remove_all(path_); }
  [[nodiscard]] auto path() const -> const std::filesystem::path& { return path_; }

 private:
  static inline std::atomic<int> next_{0};
  std::filesystem::path path_;
};

// Runs a supervisor on its own thread until `stop()`.
class running_supervisor {
 public:
  explicit running_supervisor(supervisor_options options) : workers_(std::move(options)) {
    thread_ = std::jthread{[this](std::stop_token stop) { report_ = workers_.run(stop); }};
  }
  auto stop() -> supervisor_report {
    thread_.request_stop();
    thread_.join();
    return report_;
  }

 private:
  supervisor workers_;
  supervisor_report report_;
  std::jthread thread_;
};

auto no_depth() -> pipeline::result<std::uint64_t> { return std::uint64_t{0}; }

TEST(supervisor, keeps_the_minimum_running_and_reaps_every_worker_when_stopped) {
  scratch_directory dir;
  running_supervisor workers{{.command = shell_worker(dir.path()), .depth = no_depth,
                              .scale = {.min_workers = 2, .max_workers = 4}}};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 2; }));
  const auto report = workers.stop();

  EXPECT_EQ(report.started, 2u);
  EXPECT_EQ(report.stopped, 2u);
  EXPECT_EQ(report.killed, 0u);
  EXPECT_EQ(report.crashed, 0u);
  std::set<std::size_t> slots;
  for (const auto& w : started_workers(dir.path())) {
    slots.insert(w.slot);
    EXPECT_TRUE(is_gone(w.pid)) << w.pid;  // ended and reaped: no zombie left either
  }
  EXPECT_EQ(slots, (std::set<std::size_t>{0, 1}));
  EXPECT_EQ(stopped_pids(dir.path()).size(), 2u);  // each ran its SIGTERM handler
}

TEST(supervisor, scales_up_with_the_depth_and_down_by_stopping_the_newest_gracefully) {
  scratch_directory dir;
  std::atomic<std::uint64_t> depth{35};
  std::mutex m;
  std::vector<pipeline::supervisor_evaluation> evaluations;
  pipeline::metrics_registry registry;
  running_supervisor workers{{.command = shell_worker(dir.path()),
                              .depth = [&]() -> pipeline::result<std::uint64_t> { return depth.load(); },
                              .scale = {.min_workers = 1,
                                        .max_workers = 4,
                                        .scale_up_above = 10,
                                        .scale_down_below = 1,
                                        .up_after = 1,
                                        .down_after = 1,
                                        .interval = 50ms},
                              .on_evaluation =
                                  [&](const pipeline::supervisor_evaluation& e) {
                                    std::scoped_lock lock{m};
                                    evaluations.push_back(e);
                                  },
                              .metrics = &registry,
                              .name = "scaling"}};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 4; }));
  depth = 0;
  ASSERT_TRUE(eventually([&] { return stopped_pids(dir.path()).size() == 3; }));
  const auto started = started_workers(dir.path());
  const auto first = *std::ranges::find(started, std::size_t{0}, &started_worker::slot);  // started first
  EXPECT_FALSE(stopped_pids(dir.path()).contains(first.pid));  // the oldest worker is kept
  EXPECT_FALSE(is_gone(first.pid));
  const auto report = workers.stop();

  EXPECT_EQ(report.started, 4u);
  EXPECT_EQ(report.stopped, 4u);
  EXPECT_EQ(report.peak_workers, 4u);
  std::set<std::size_t> slots;
  for (const auto& w : started_workers(dir.path())) slots.insert(w.slot);
  EXPECT_EQ(slots, (std::set<std::size_t>{0, 1, 2, 3}));  // each worker its own slot
  std::scoped_lock lock{m};
  ASSERT_FALSE(evaluations.empty());
  EXPECT_EQ(evaluations.front().depth, 35u);
  EXPECT_EQ(evaluations.front().desired, 4u);
  EXPECT_EQ(evaluations.back().desired, 1u);
  const auto text = registry.to_prometheus();
  EXPECT_THAT(text, ::testing::HasSubstr(R"(pipeline_supervisor_started_total{supervisor="scaling"} 4)"));
  EXPECT_THAT(text, ::testing::HasSubstr(R"(pipeline_supervisor_workers{supervisor="scaling"} 0)"));
}

TEST(supervisor, restarts_a_crashed_worker_after_the_backoff) {
  scratch_directory dir;
  // The first start of the slot crashes (exit 3) before it records itself; later ones run.
  const std::string crash_once = R"(if [ ! -e "$1/crashed" ]; then date +%s%N > "$1/crashed"; exit 3; fi)";
  running_supervisor workers{{.command = shell_worker(dir.path(), crash_once),
                              .depth = no_depth,
                              .scale = {.min_workers = 1, .max_workers = 1},
                              .restart_backoff = {.initial = 300ms,
                                                  .multiplier = 2.0,
                                                  .max_delay = 1000ms,
                                                  .jitter_mode = pipeline::jitter::none,
                                                  .max_attempts = 0}}};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 1; }));
  const auto report = workers.stop();

  EXPECT_EQ(report.crashed, 1u);
  EXPECT_EQ(report.started, 2u);
  EXPECT_EQ(report.stopped, 1u);
  std::ifstream crashed{dir.path() / "crashed"};
  std::int64_t crashed_at = 0;
  crashed >> crashed_at;
  EXPECT_GE(started_workers(dir.path()).front().at_ns - crashed_at, 300'000'000);  // waited the backoff
}

TEST(supervisor, a_crash_holds_back_only_its_own_replacement_and_no_other_slot_stands_in) {
  scratch_directory dir;
  // Slot 0's first worker crashes; slot 1's runs. With room for 4, the replacement must still
  // wait its backoff in slot 0 rather than start at once in slot 2.
  const std::string slot_0_crashes_once =
      R"(if [ "$PIPELINE_WORKER_SLOT" = 0 ] && [ ! -e "$1/crashed" ]; then date +%s%N > "$1/crashed"; exit 3; fi)";
  running_supervisor workers{{.command = shell_worker(dir.path(), slot_0_crashes_once),
                              .depth = no_depth,
                              .scale = {.min_workers = 2, .max_workers = 4},
                              .restart_backoff = {.initial = 400ms,
                                                  .multiplier = 2.0,
                                                  .max_delay = 1000ms,
                                                  .jitter_mode = pipeline::jitter::none,
                                                  .max_attempts = 0}}};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 2; }));
  const auto report = workers.stop();
  EXPECT_EQ(report.crashed, 1u);
  EXPECT_EQ(report.started, 3u);
  std::set<std::size_t> slots;
  for (const auto& w : started_workers(dir.path())) slots.insert(w.slot);
  EXPECT_EQ(slots, (std::set<std::size_t>{0, 1}));
  std::ifstream crashed{dir.path() / "crashed"};
  std::int64_t crashed_at = 0;
  crashed >> crashed_at;
  const auto started = started_workers(dir.path());
  const auto replacement = *std::ranges::find(started, std::size_t{0}, &started_worker::slot);
  EXPECT_GE(replacement.at_ns - crashed_at, 400'000'000);
}

TEST(supervisor, a_worker_that_exits_with_zero_is_started_again_at_once) {
  scratch_directory dir;
  const std::string exit_once = R"(if [ ! -e "$1/exited" ]; then touch "$1/exited"; exit 0; fi)";
  running_supervisor workers{{.command = shell_worker(dir.path(), exit_once),
                              .depth = no_depth,
                              .scale = {.min_workers = 1, .max_workers = 1},
                              .restart_backoff = {.initial = 60'000ms, .max_delay = 60'000ms, .max_attempts = 0}}};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 1; }));  // not 60 s later
  const auto report = workers.stop();
  EXPECT_EQ(report.exited, 1u);
  EXPECT_EQ(report.crashed, 0u);
  EXPECT_EQ(report.started, 2u);
}

TEST(supervisor, when_exit_zero_means_finished_run_returns_once_every_worker_has_ended) {
  // Workers of a closed queue: each exits 0 once nothing is left. None is started after the
  // first has finished, and run returns by itself when the others are done too.
  scratch_directory dir;
  const std::string drain = R"(sleep 0.$PIPELINE_WORKER_SLOT; exit 0)";
  supervisor workers{{.command = shell_worker(dir.path(), drain),
                      .depth = no_depth,
                      .scale = {.min_workers = 3, .max_workers = 3},
                      .on_exit_zero = pipeline::worker_exit_zero::finished}};
  std::stop_source never;
  const auto report = workers.run(never.get_token());
  EXPECT_TRUE(report.finished);
  EXPECT_EQ(report.started, 3u);
  EXPECT_EQ(report.exited, 3u);
  EXPECT_EQ(report.stopped, 0u);
}

TEST(supervisor, a_worker_that_ignores_sigterm_is_killed_after_the_grace) {
  scratch_directory dir;
  running_supervisor workers{{.command = shell_worker(dir.path(), ":", "echo ignored"),
                              .depth = no_depth,
                              .scale = {.min_workers = 1, .max_workers = 1},
                              .stop_grace = 300ms}};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 1; }));
  const auto report = workers.stop();
  EXPECT_EQ(report.killed, 1u);
  EXPECT_EQ(report.stopped, 0u);
  EXPECT_TRUE(is_gone(started_workers(dir.path()).front().pid));
}

TEST(supervisor, workers_get_sigterm_even_when_the_supervising_thread_blocks_it) {
  // A program that watches SIGTERM itself blocks it in every thread (examples::stop_on_signals):
  // children must not inherit that mask, or they could only be killed.
  scratch_directory dir;
  supervisor_report report;
  std::jthread blocked{[&](std::stop_token stop) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
    supervisor workers{{.command = shell_worker(dir.path()),
                        .depth = no_depth,
                        .scale = {.min_workers = 1, .max_workers = 1},
                        .stop_grace = 10'000ms}};
    report = workers.run(stop);
  }};
  ASSERT_TRUE(eventually([&] { return started_workers(dir.path()).size() == 1; }));
  blocked.request_stop();
  blocked.join();
  EXPECT_EQ(report.stopped, 1u);
  EXPECT_EQ(report.killed, 0u);
  EXPECT_EQ(stopped_pids(dir.path()).size(), 1u);
}

TEST(supervisor, a_failing_depth_read_keeps_the_count_and_is_reported) {
  scratch_directory dir;
  std::atomic<int> failed{0};
  running_supervisor workers{{.command = shell_worker(dir.path()),
                              .depth = []() -> pipeline::result<std::uint64_t> {
                                return pipeline::error{pipeline::error_kind::transient, "redis: connection refused", 0, {}};
                              },
                              .scale = {.min_workers = 2, .max_workers = 4, .interval = 20ms},
                              .on_evaluation =
                                  [&](const pipeline::supervisor_evaluation& e) {
                                    if (e.depth_failed && e.desired == 2) ++failed;
                                  }}};
  ASSERT_TRUE(eventually([&] { return failed >= 3 && started_workers(dir.path()).size() == 2; }));
  const auto report = workers.stop();
  EXPECT_EQ(report.started, 2u);
  EXPECT_GE(report.evaluations, 3u);
}

TEST(supervisor, options_that_cannot_work_are_refused_when_made) {
  EXPECT_THROW(supervisor({.command = {}, .depth = no_depth}), std::invalid_argument);
  EXPECT_THROW(supervisor({.command = {"/bin/sh"}, .depth = {}}), std::invalid_argument);  // no depth function
  EXPECT_THROW(supervisor({.command = {"/bin/sh"}, .depth = no_depth, .scale = {.min_workers = 3, .max_workers = 2}}),
               std::invalid_argument);
  try {
    supervisor missing{{.command = {"no-such-worker-program"}, .depth = no_depth}};
    FAIL() << "a command not in PATH was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'no-such-worker-program' is not an executable file in PATH"));
  }
  EXPECT_EQ(supervisor({.command = {"sh"}, .depth = no_depth}).executable().back(), 'h');
}

}  // namespace
