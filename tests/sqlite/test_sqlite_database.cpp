// pipeline::sqlite::database: opening, how failures are classified, locks held by other
// connections, and sharing one connection between threads and stores.
#include <pipeline/sqlite/sqlite.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sqlite/sqlite_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using pipeline::record;
using pipeline::sqlite::database;

TEST(sqlite_database, a_path_under_a_regular_file_is_a_permanent_error) {
  sqlite_test::temp_database_file file;
  std::ofstream{file.path()} << "a regular file\n";
  auto db = database::open(file.path() + "/inside.db");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(db.error().native_code & 0xff, SQLITE_CANTOPEN);
  EXPECT_EQ(db.error().backend, "sqlite");
  EXPECT_THAT(db.error().message, ::testing::HasSubstr("inside.db"));
}

TEST(sqlite_database, a_file_that_is_not_a_database_is_a_permanent_error) {
  sqlite_test::temp_database_file file;
  std::ofstream{file.path()} << std::string(4096, 'x');
  auto db = database::open(file.path());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(db.error().native_code, SQLITE_NOTADB);
}

TEST(sqlite_database, a_missing_file_is_not_created_unless_asked) {
  sqlite_test::temp_database_file file;
  auto db = database::open(file.path(), {.create_if_missing = false});
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, pipeline::error_kind::permanent);
  EXPECT_FALSE(std::filesystem::exists(file.path()));
}

TEST(sqlite_database, misuse_at_open_throws_invalid_argument) {
  EXPECT_THROW((void)database::open(""), std::invalid_argument);
  EXPECT_THROW((void)database::open(std::string("a\0b", 3)), std::invalid_argument);
  EXPECT_THROW((void)database::open(":memory:", {.busy_timeout = -1ms}), std::invalid_argument);
}

TEST(sqlite_database, files_are_opened_in_wal_mode) {
  sqlite_test::temp_database_file file;
  auto db = file.open();
  sqlite_test::raw_connection raw{file.path()};
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), pipeline::value{"wal"});
}

// A new file that another connection (another process) holds with an exclusive lock: the
// moment three schedulers start at once and one of them creates the file.
struct exclusively_locked_file {
  sqlite_test::temp_database_file file;
  sqlite_test::raw_connection holder{file.path()};
  exclusively_locked_file() {
    holder.exec("CREATE TABLE t (id INTEGER)");
    holder.exec("BEGIN EXCLUSIVE");
  }
};

TEST(sqlite_database, switching_to_wal_waits_for_a_lock_within_busy_timeout) {
  exclusively_locked_file locked;
  std::jthread release{[&locked] {
    std::this_thread::sleep_for(200ms);
    locked.holder.exec("COMMIT");
  }};
  auto db = locked.file.open({.busy_timeout = 5000ms});  // throws when opening failed
  release.join();
  sqlite_test::raw_connection check{locked.file.path()};
  EXPECT_EQ(check.scalar("PRAGMA journal_mode"), pipeline::value{"wal"});
}

TEST(sqlite_database, a_lock_held_past_busy_timeout_at_open_is_a_transient_error) {
  exclusively_locked_file locked;
  const auto started = std::chrono::steady_clock::now();
  auto db = database::open(locked.file.path(), {.busy_timeout = 100ms});
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, pipeline::error_kind::transient);
  EXPECT_EQ(db.error().native_code & 0xff, SQLITE_BUSY);
  EXPECT_GE(waited, 100ms);
}

TEST(sqlite_database, a_write_lock_held_past_busy_timeout_is_a_transient_error) {
  sqlite_test::temp_database_file file;
  sqlite_test::raw_connection other{file.path()};
  other.exec("CREATE TABLE t (id INTEGER)");
  auto sink = pipeline::sqlite::table_sink::open(file.open({.busy_timeout = 50ms}), {.table = "t", .columns = {"id"}})
                  .value();
  const std::vector<record> rows{{{"id", 1}}};

  other.exec("BEGIN IMMEDIATE");  // another process writing
  const auto started = std::chrono::steady_clock::now();
  auto busy = sink.write(std::span{rows}, {});
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().kind, pipeline::error_kind::transient);
  EXPECT_EQ(busy.error().native_code, SQLITE_BUSY);
  EXPECT_GE(waited, 50ms);

  other.exec("ROLLBACK");  // the other writer is done: the retry passes
  EXPECT_TRUE(sink.write(std::span{rows}, {}));
}

TEST(sqlite_database, stores_keep_the_connection_open_after_the_caller_lets_go) {
  auto db = database::open(":memory:").value();
  auto store = pipeline::sqlite::checkpoint_store::open(db).value();
  db.reset();
  ASSERT_TRUE(store.save("k", pipeline::position::from_integer(1), 0));
  EXPECT_EQ(store.load("k")->version, 1u);
}

TEST(sqlite_database, two_connections_to_one_file_fence_each_others_checkpoints) {
  sqlite_test::temp_database_file file;
  auto first = pipeline::sqlite::checkpoint_store::open(file.open()).value();
  auto second = pipeline::sqlite::checkpoint_store::open(file.open()).value();
  ASSERT_TRUE(first.save("k", pipeline::position::from_integer(1), 0));
  auto stale = second.save("k", pipeline::position::from_integer(2), 0);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, pipeline::error_kind::conflict);
  EXPECT_EQ(second.load("k")->pos, pipeline::position::from_integer(1));
}

// Every kind of user of one database at once, as the runner's workers use them (run under TSan).
TEST(sqlite_database, concurrent_writers_through_one_shared_database_are_safe) {
  sqlite_test::temp_database_file file;
  sqlite_test::raw_connection raw{file.path()};
  raw.exec("CREATE TABLE t (worker INTEGER, i INTEGER)");
  auto db = file.open({.synchronous = pipeline::sqlite::synchronous_mode::normal});
  auto sink = pipeline::sqlite::table_sink::open(db, {.table = "t", .columns = {"worker", "i"}}).value();
  auto checkpoints = pipeline::sqlite::checkpoint_store::open(db).value();
  auto dlq = pipeline::sqlite::dead_letter_table::open(db).value();
  auto log = pipeline::sqlite::job_log::open(db).value();

  constexpr int workers = 4;
  constexpr int rounds = 25;
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        std::uint64_t version = 0;
        const auto key = "worker-" + std::to_string(w);
        for (int i = 0; i < rounds; ++i) {
          const std::vector<record> rows{{{"worker", w}, {"i", i}}};
          EXPECT_TRUE(sink.write(std::span{rows}, {}));
          version = checkpoints.save(key, pipeline::position::from_integer(i), version).value_or(0);
          std::vector<pipeline::dead_letter> letters(1);
          letters[0].payload = key;
          letters[0].pos = pipeline::position::from_integer(i);  // a batch of its own: not a replay
          EXPECT_TRUE(dlq.write(std::span{std::as_const(letters)}, {}));
          pipeline::job_run run;
          run.job = key;
          EXPECT_TRUE(log.create(run));
        }
      });
    }
  }
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM t"), pipeline::value{workers * rounds});
  EXPECT_EQ(dlq.read(0, 1000)->size(), std::size_t{workers * rounds});
  for (int w = 0; w < workers; ++w) {
    const auto key = "worker-" + std::to_string(w);
    EXPECT_EQ(checkpoints.load(key).value(), (pipeline::checkpoint{pipeline::position::from_integer(rounds - 1),
                                                                   static_cast<std::uint64_t>(rounds)}));
    EXPECT_EQ(log.runs(key, 1000)->size(), std::size_t{rounds});
  }
}

}  // namespace

namespace {

TEST(sqlite_database, execute_runs_schema_sql_and_query_int64_reads_the_first_row) {
  auto db = pipeline::sqlite::database::open(":memory:").value();
  ASSERT_TRUE(pipeline::sqlite::execute(*db, "CREATE TABLE t (v INTEGER)"));
  ASSERT_TRUE(pipeline::sqlite::execute(*db, "INSERT INTO t VALUES (4), (5), (-2)"));
  auto row = pipeline::sqlite::query_int64(*db, "SELECT COUNT(*), SUM(v), MIN(v) FROM t");
  ASSERT_TRUE(row) << fmt::format("{}", row.error());
  EXPECT_EQ(*row, (std::vector<std::int64_t>{3, 7, -2}));
}

TEST(sqlite_database, a_query_without_rows_is_not_found_and_bad_sql_is_permanent) {
  auto db = pipeline::sqlite::database::open(":memory:").value();
  ASSERT_TRUE(pipeline::sqlite::execute(*db, "CREATE TABLE t (v INTEGER)"));
  EXPECT_EQ(pipeline::sqlite::query_int64(*db, "SELECT v FROM t").error().kind, pipeline::error_kind::not_found);
  EXPECT_EQ(pipeline::sqlite::execute(*db, "CREATE TABLE t (").error().kind, pipeline::error_kind::permanent);
}

}  // namespace
