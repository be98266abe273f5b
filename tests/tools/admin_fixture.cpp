// Fills a store with what tools/pipeline_admin shows, through the library's own stores, for
// pipeline_admin.sh:
//
//     admin_fixture URI NAME
//     admin_fixture mongodb://…/DB dump COLLECTION
//
// NAME is the Redis key prefix, or the stem of the SQL tables or MongoDB collections
// (NAME_job_runs, NAME_checkpoints, NAME_dead_letters; dropped first: for MongoDB the whole
// database). A file: directory gets the file store's default names (jobs/, checkpoints/,
// dead_letters.jsonl), made afresh. It writes: job "listings" with a run that crashed (owner
// elsewhere:4242, marked by the next begin_run) and a completed one; job "reports/2026-05"
// running; checkpoints "listings/p0" at 4200 and "reports/2026-05" at 7; four dead letters;
// and for Redis a stream NAME:queue with group "workers", 5 entries, consumer "w1" holding 2.
//
// `dump` prints a collection's documents, one relaxed Extended JSON line each, read with
// libmongoc itself: how the script sees what the tool changed, as sqlite3 or redis-cli do.

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <mongoc/mongoc.h>

#include <pipeline/file/file.hpp>
#include <pipeline/job_log.hpp>
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/postgres/postgres.hpp>
#include <pipeline/redis/redis.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include "support/admin_stores.hpp"
#include "support/mongodb_tsan.hpp"

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

auto fill_mongodb(std::string_view uri, const std::string& name) -> int {
  auto client = pipeline::mongodb::client::open(uri);
  const auto& database = client->uri_database();
  client->drop_database(database).value();
  auto log = pipeline::mongodb::job_log::open(client, {.database = database, .collection = name + "_job_runs"}).value();
  auto checkpoints =
      pipeline::mongodb::checkpoint_store::open(client, {.database = database, .collection = name + "_checkpoints"})
          .value();
  pipeline::mongodb::dead_letter_collection letters{client, {.database = database, .collection = name + "_dead_letters"}};
  pipeline::test::fill_admin_stores(log, checkpoints, letters);
  return 0;
}

auto dump_mongodb(std::string_view uri, const std::string& collection) -> int {
  mongoc_init();
  bson_error_t e;
  mongoc_uri_t* parsed = mongoc_uri_new_with_error(std::string(uri).c_str(), &e);
  if (parsed == nullptr) {
    std::fprintf(stderr, "admin_fixture: %s\n", e.message);
    return 1;
  }
  mongoc_client_t* client = mongoc_client_new_from_uri(parsed);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, mongoc_uri_get_database(parsed), collection.c_str());
  bson_t filter = BSON_INITIALIZER;
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, nullptr, nullptr);
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor, &doc)) {
    char* text = bson_as_relaxed_extended_json(doc, nullptr);
    std::printf("%s\n", text);
    bson_free(text);
  }
  const bool failed = mongoc_cursor_error(cursor, &e);
  if (failed) std::fprintf(stderr, "admin_fixture: %s\n", e.message);
  mongoc_cursor_destroy(cursor);
  bson_destroy(&filter);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  mongoc_uri_destroy(parsed);
  mongoc_cleanup();
  return failed ? 1 : 0;
}

auto fill_directory(const std::filesystem::path& directory) -> int {
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  pipeline::file::job_log log{directory / "jobs"};
  pipeline::file::checkpoint_store checkpoints{directory / "checkpoints"};
  pipeline::file::dead_letter_file letters{directory / "dead_letters.jsonl"};
  pipeline::test::fill_admin_stores(log, checkpoints, letters);
  return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  const std::string_view uri = argc > 1 ? argv[1] : "";
  if (argc == 4 && uri.starts_with("mongodb://") && std::string_view(argv[2]) == "dump") return dump_mongodb(uri, argv[3]);
  if (argc != 3) {
    std::fputs("usage: admin_fixture URI NAME | admin_fixture mongodb://…/DB dump COLLECTION\n", stderr);
    return 2;
  }
  const std::string name = argv[2];
  if (uri.starts_with("mysql://")) return fill_server<pipeline::mysql::database>(uri, name, '`');
  if (uri.starts_with("postgresql://")) return fill_server<pipeline::postgres::database>(uri, name, '"');
  if (uri.starts_with("redis://")) return fill_redis(uri, name);
  if (uri.starts_with("mongodb://")) return fill_mongodb(uri, name);
  if (uri.starts_with("file:")) return fill_directory(std::string(uri.substr(5)));
  const auto path = std::string(uri.substr(uri.starts_with("sqlite:") ? 7 : 0));
  return fill_relational(pipeline::sqlite::database::open(path).value(), name);
}
