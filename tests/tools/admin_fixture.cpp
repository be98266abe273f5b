// Fills a store with what tools/pipeline_admin shows, through the library's own stores, for
// pipeline_admin.sh:
//
//     admin_fixture URI NAME
//
// NAME is the Redis key prefix, or the stem of the SQL tables (NAME_job_runs,
// NAME_checkpoints, NAME_dead_letters, dropped first). It writes: job "listings" with a run
// that crashed (owner elsewhere:4242, marked by the next begin_run) and a completed one; job
// "reports/2026-05" running; checkpoint "listings/p0" at 4200; four dead letters; and for Redis
// a stream NAME:queue with group "workers", 5 entries, consumer "w1" holding 2.

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <pipeline/job_log.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/postgres/postgres.hpp>
#include <pipeline/redis/redis.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include "support/admin_stores.hpp"

namespace {

// The stores of a SQL adapter, in the tables NAME_job_runs, NAME_checkpoints and NAME_dead_letters.
template <class Database>
auto fill_relational(const std::shared_ptr<Database>& db, const std::string& name) -> int {
  namespace relational = pipeline::detail::relational;
  auto log = relational::job_log<Database>::open(db, {.table = name + "_job_runs"}).value();
  auto checkpoints = relational::checkpoint_store<Database>::open(db, {.table = name + "_checkpoints"}).value();
  auto letters = relational::dead_letter_table<Database>::open(db, {.table = name + "_dead_letters"}).value();
  pipeline::test::fill_admin_stores(log, checkpoints, letters);
  return 0;
}

// A MySQL or PostgreSQL database, its tables of an earlier run dropped first.
template <class Database>
auto fill_server(std::string_view uri, const std::string& name, char quote) -> int {
  auto db = Database::open(uri).value();
  for (const auto* suffix : {"_job_runs", "_checkpoints", "_dead_letters"}) {
    execute(*db, fmt::format("DROP TABLE IF EXISTS {}{}{}{}", quote, name, suffix, quote)).value();
  }
  return fill_relational(db, name);
}

auto fill_redis(std::string_view uri, const std::string& name) -> int {
  auto client = pipeline::redis::client::connect({.uri = std::string(uri)}).value();
  pipeline::redis::job_log log{client, {.prefix = name}};
  pipeline::redis::checkpoint_store checkpoints{client, {.prefix = name}};
  pipeline::redis::dead_letter_stream letters{client, {.stream = name + ":dead"}};
  pipeline::test::fill_admin_stores(log, checkpoints, letters);
  const auto queue = name + ":queue";
  (void)client->command({"XGROUP", "CREATE", queue, "workers", "$", "MKSTREAM"}).value();
  for (int i = 0; i < 5; ++i) (void)client->command({"XADD", queue, "*", "n", std::to_string(i)}).value();
  (void)client->command({"XREADGROUP", "GROUP", "workers", "w1", "COUNT", "2", "STREAMS", queue, ">"}).value();
  return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc != 3) {
    std::fputs("usage: admin_fixture URI NAME\n", stderr);
    return 2;
  }
  const std::string_view uri = argv[1];
  const std::string name = argv[2];
  if (uri.starts_with("mysql://")) return fill_server<pipeline::mysql::database>(uri, name, '`');
  if (uri.starts_with("postgresql://")) return fill_server<pipeline::postgres::database>(uri, name, '"');
  if (uri.starts_with("redis://")) return fill_redis(uri, name);
  const auto path = std::string(uri.substr(uri.starts_with("sqlite:") ? 7 : 0));
  return fill_relational(pipeline::sqlite::database::open(path).value(), name);
}
