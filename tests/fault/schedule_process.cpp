// One replica of a scheduled job, for tests/fault/schedule_three_processes.sh: three of these
// share a checkpoint store (a SQLite file, or Redis at PIPELINE_REDIS_TEST_URI) and run
// "every 1s" until a wall-clock deadline; each run appends "start <due ms> <pid> <now ms>" and,
// after holding for a while, "end <due ms> <pid> <now ms>" to a shared file under flock, so the
// script can check that every due time ran once and no two runs overlapped.
//   schedule_process sqlite|redis <sqlite file or job suffix> <events file> <stop at, ms since epoch> <hold ms>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <fmt/format.h>

#include <pipeline/any_checkpoint_store.hpp>
#include <pipeline/redis/redis.hpp>
#include <pipeline/scheduler.hpp>
#include <pipeline/sqlite/sqlite.hpp>

namespace {

auto now_ms() -> std::int64_t {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Appends one line to `path` under an exclusive flock (O_APPEND alone is atomic per write, but
// the lock also orders the lines by the time they were taken).
void append(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) std::abort();
  const auto text = line + "\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::abort();
  ::close(fd);  // drops the lock
}

auto open_store(const std::string& kind, const std::string& where) -> pipeline::any_checkpoint_store {
  if (kind == "sqlite") {
    auto db = pipeline::sqlite::database::open(where);
    if (!db) {
      fmt::print(stderr, "schedule_process: {}\n", db.error());
      std::exit(2);
    }
    auto store = pipeline::sqlite::checkpoint_store::open(*db);
    if (!store) {
      fmt::print(stderr, "schedule_process: {}\n", store.error());
      std::exit(2);
    }
    return std::move(*store);
  }
  const char* uri = std::getenv("PIPELINE_REDIS_TEST_URI");
  if (uri == nullptr) {
    fmt::print(stderr, "schedule_process: PIPELINE_REDIS_TEST_URI is not set\n");
    std::exit(2);
  }
  auto client = pipeline::redis::client::connect({.uri = uri}).value();
  return pipeline::redis::checkpoint_store{client, {.prefix = "schedule_test_" + where}};
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc != 6) {
    fmt::print(stderr, "usage: schedule_process sqlite|redis <file|suffix> <events> <stop at ms> <hold ms>\n");
    return 2;
  }
  const std::string events = argv[3];
  const auto stop_at = std::stoll(argv[4]);
  const auto hold = std::chrono::milliseconds{std::stoll(argv[5])};
  auto store = open_store(argv[1], argv[2]);
  pipeline::scheduler_options options;
  options.job = "every_second";
  options.lease.lease = std::chrono::seconds{5};
  options.heartbeat_interval = std::chrono::milliseconds{500};
  options.poll_interval = std::chrono::milliseconds{50};
  options.log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn};
  pipeline::scheduler every_second{pipeline::schedule::parse("every 1s"), store, options};
  std::stop_source stop;
  std::jthread deadline{[&](std::stop_token cancelled) {
    pipeline::steady_clock().sleep_for(std::chrono::milliseconds{stop_at - now_ms()}, cancelled);
    stop.request_stop();
  }};
  const auto pid = ::getpid();
  every_second.run(
      [&](const pipeline::scheduled_run& run, std::stop_token) {
        const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(run.due.time_since_epoch()).count();
        append(events, fmt::format("start {} {} {}", due, pid, now_ms()));
        std::this_thread::sleep_for(hold);  // not stopped: a run that began ends
        append(events, fmt::format("end {} {} {}", due, pid, now_ms()));
      },
      stop.get_token());
  deadline.request_stop();
  return 0;
}
