// A live job for the console's browser test (browser_test.sh):
//
//     console_live_job SQLITE_PATH REDIS_URI PREFIX
//
// Fills a SQLite file and a Redis prefix with the admin fixture's runs, checkpoint and letters
// and the hostile letters (tests/support/admin_stores.hpp), creates the queue stream
// PREFIX:queue with group "workers", then runs job "ingest" in both job logs: 40 records
// more every 100 ms, with a heartbeat, until SIGTERM or SIGINT. Prints "ready" once filled.

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <pipeline/job_log.hpp>
#include <pipeline/redis/redis.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include "support/admin_stores.hpp"

namespace {

volatile std::sig_atomic_t stopping = 0;

void on_signal(int /*signal*/) { stopping = 1; }

template <class JobLog, class Checkpoints, class DeadLetters>
auto fill(JobLog& log, Checkpoints& checkpoints, DeadLetters& letters) -> pipeline::job_run {
  pipeline::test::fill_admin_stores(log, checkpoints, letters);
  letters.write(pipeline::test::hostile_letters(), {}).value();
  return pipeline::begin_run(log, "ingest", {.lease = std::chrono::seconds{30}, .owner = "live-job:1"},
                             std::chrono::system_clock::now())
      .value();
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc != 4) {
    std::fputs("usage: console_live_job SQLITE_PATH REDIS_URI PREFIX\n", stderr);
    return 2;
  }
  const std::string prefix = argv[3];
  namespace relational = pipeline::detail::relational;
  using sqlite_db = pipeline::sqlite::database;
  auto db = sqlite_db::open(argv[1]).value();
  auto sqlite_log = relational::job_log<sqlite_db>::open(db, {}).value();
  auto sqlite_checkpoints = relational::checkpoint_store<sqlite_db>::open(db, {}).value();
  auto sqlite_letters = relational::dead_letter_table<sqlite_db>::open(db, {}).value();
  auto sqlite_run = fill(sqlite_log, sqlite_checkpoints, sqlite_letters);

  auto client = pipeline::redis::client::connect({.uri = argv[2]}).value();
  pipeline::redis::job_log redis_log{client, {.prefix = prefix}};
  pipeline::redis::checkpoint_store redis_checkpoints{client, {.prefix = prefix}};
  pipeline::redis::dead_letter_stream redis_letters{client, {.stream = prefix + ":dead"}};
  auto redis_run = fill(redis_log, redis_checkpoints, redis_letters);
  (void)client->command({"XGROUP", "CREATE", prefix + ":queue", "workers", "$", "MKSTREAM"}).value();

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::puts("ready");
  std::fflush(stdout);
  const pipeline::lease_options lease{.lease = std::chrono::seconds{30}, .owner = "live-job:1"};
  while (stopping == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    const auto now = std::chrono::system_clock::now();
    sqlite_run.read += 40;
    sqlite_run.written += 40;
    redis_run.read += 40;
    redis_run.written += 40;
    pipeline::heartbeat(sqlite_log, sqlite_run, lease, now).value();
    pipeline::heartbeat(redis_log, redis_run, lease, now).value();
  }
  return 0;
}
