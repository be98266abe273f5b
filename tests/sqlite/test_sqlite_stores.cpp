// pipeline::sqlite's checkpoint store, dead-letter table and job log beyond their contracts:
// the tables they create, replay by id, rows edited by hand, and names that are refused.
#include <pipeline/job_log.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <chrono>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sqlite/sqlite_test_support.hpp"
#include "support/shared_checkpoint_store.hpp"

namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using pipeline::sqlite::checkpoint_store;
using pipeline::sqlite::dead_letter_table;
using pipeline::sqlite::job_log;

class sqlite_stores : public ::testing::Test {
 protected:
  // The column names of `table`, in order.
  auto columns_of(const std::string& table) -> std::vector<std::string> {
    std::vector<std::string> names;
    for (const auto& r : raw_.rows("SELECT name FROM pragma_table_info('" + table + "')")) {
      names.push_back(r.find("name")->get<std::string>());
    }
    return names;
  }

  static auto letter(std::string payload) -> pipeline::dead_letter {
    pipeline::dead_letter l;
    l.payload = std::move(payload);
    l.reason = pipeline::permanent_error("refused");
    return l;
  }

  sqlite_test::temp_database_file file_;
  sqlite_test::raw_connection raw_{file_.path()};
  std::shared_ptr<pipeline::sqlite::database> db_ = file_.open();
};

TEST_F(sqlite_stores, each_store_creates_its_table_with_the_documented_columns) {
  (void)checkpoint_store::open(db_).value();
  (void)dead_letter_table::open(db_).value();
  (void)job_log::open(db_).value();
  EXPECT_THAT(columns_of("pipeline_checkpoints"), ::testing::ElementsAre("key", "position", "version", "updated_at"));
  EXPECT_THAT(columns_of("pipeline_dead_letters"),
              ::testing::ElementsAre("id", "payload", "kind", "message", "native_code", "backend", "attempts",
                                     "position", "partition", "time", "fingerprint", "job"));
  EXPECT_THAT(columns_of("pipeline_job_runs"),
              ::testing::ElementsAre("id", "job", "state", "owner", "read", "written", "dead_lettered", "retried",
                                     "created", "updated", "lease_until", "message"));
}

TEST_F(sqlite_stores, tables_can_be_named) {
  (void)checkpoint_store::open(db_, {.table = "cps"}).value();
  (void)dead_letter_table::open(db_, {.table = "dlq"}).value();
  (void)job_log::open(db_, {.table = "runs"}).value();
  EXPECT_THAT(raw_.tables(), ::testing::IsSupersetOf({"cps", "dlq", "runs"}));
}

TEST_F(sqlite_stores, hostile_table_names_are_rejected_before_any_sql_is_sent) {
  for (const auto& name : {"x; DROP TABLE y"s, "x\"y"s, "a\0b"s, ""s}) {
    EXPECT_THROW((void)checkpoint_store::open(db_, {.table = name}), std::invalid_argument);
    EXPECT_THROW((void)dead_letter_table::open(db_, {.table = name}), std::invalid_argument);
    EXPECT_THROW((void)job_log::open(db_, {.table = name}), std::invalid_argument);
  }
  EXPECT_THROW((void)checkpoint_store::open(nullptr), std::invalid_argument);
  EXPECT_TRUE(raw_.tables().empty());
}

TEST_F(sqlite_stores, dead_letters_are_read_back_after_an_id_in_id_order) {
  auto dlq = dead_letter_table::open(db_).value();
  std::vector<pipeline::dead_letter> letters;
  for (int i = 0; i < 5; ++i) letters.push_back(letter("p" + std::to_string(i)));
  ASSERT_TRUE(dlq.write(std::span{std::as_const(letters)}, {}));

  auto first = dlq.read(0, 2).value();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].second.payload, "p0");
  EXPECT_EQ(first[1].second.payload, "p1");
  auto rest = dlq.read(first.back().first, 100).value();
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].second.payload, "p2");
  EXPECT_LT(first.back().first, rest.front().first);
  EXPECT_TRUE(dlq.read(rest.back().first, 100)->empty());
}

TEST_F(sqlite_stores, a_batch_dead_lettered_again_after_a_crash_is_stored_once) {
  auto dlq = dead_letter_table::open(db_).value();
  std::vector<pipeline::dead_letter> batch{letter("a"), letter("b"), letter("a")};  // two equal records
  for (auto& l : batch) l.pos = pipeline::position::from_integer(100);
  ASSERT_TRUE(dlq.write(std::span{std::as_const(batch)}, {}));
  ASSERT_TRUE(dlq.write(std::span{std::as_const(batch)}, {}));  // the replay
  EXPECT_EQ(dlq.read(0, 100)->size(), 3u);

  // The same payload from another batch (another end position) or partition is another entry.
  auto other = batch;
  for (auto& l : other) l.pos = pipeline::position::from_integer(200);
  other[1].partition = 7;
  ASSERT_TRUE(dlq.write(std::span{std::as_const(other)}, {}));
  EXPECT_EQ(dlq.read(0, 100)->size(), 6u);
}

TEST_F(sqlite_stores, a_dead_letter_table_from_before_fingerprints_gets_the_column_and_keeps_its_rows) {
  raw_.exec(R"(CREATE TABLE pipeline_dead_letters ("id" INTEGER PRIMARY KEY, "payload" BLOB, "kind" TEXT,
               "message" TEXT, "native_code" INTEGER, "backend" TEXT, "attempts" INTEGER, "position" BLOB,
               "partition" INTEGER, "time" TEXT))");
  raw_.exec(R"(INSERT INTO pipeline_dead_letters VALUES (1, 'old', 'permanent', 'm', 0, '', 1, '', 0,
               '2024-01-01T00:00:00.000000Z'))");
  auto dlq = dead_letter_table::open(db_).value();
  EXPECT_THAT(columns_of("pipeline_dead_letters"), ::testing::Contains("fingerprint"));
  const std::vector<pipeline::dead_letter> one{letter("new")};
  ASSERT_TRUE(dlq.write(std::span{one}, {}));
  auto all = dlq.read(0, 10).value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].second.payload, "old");
  EXPECT_EQ(all[1].second.payload, "new");
}

TEST_F(sqlite_stores, a_dead_letter_table_from_before_jobs_gets_the_column_and_its_rows_read_back_with_no_job) {
  raw_.exec(R"(CREATE TABLE pipeline_dead_letters ("id" INTEGER PRIMARY KEY, "payload" BLOB, "kind" TEXT,
               "message" TEXT, "native_code" INTEGER, "backend" TEXT, "attempts" INTEGER, "position" BLOB,
               "partition" INTEGER, "time" TEXT, "fingerprint" TEXT))");
  raw_.exec(R"(INSERT INTO pipeline_dead_letters VALUES (1, 'old', 'permanent', 'm', 0, '', 1, '', 0,
               '2024-01-01T00:00:00.000000Z', 'f/0'))");
  auto dlq = dead_letter_table::open(db_).value();
  EXPECT_EQ(columns_of("pipeline_dead_letters").back(), "job");
  auto all = dlq.read(pipeline::dead_letter_filter{}, std::nullopt, 10, {}).value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].letter.payload, "old");
  EXPECT_EQ(all[0].letter.job, "");
  EXPECT_EQ(dlq.read(pipeline::dead_letter_filter{.job = ""}, std::nullopt, 10, {}).value().size(), 1u);
}

TEST_F(sqlite_stores, a_dead_letter_edited_into_an_unknown_kind_is_a_permanent_error_naming_it) {
  auto dlq = dead_letter_table::open(db_).value();
  const std::vector<pipeline::dead_letter> one{letter("p")};
  ASSERT_TRUE(dlq.write(std::span{one}, {}));
  raw_.exec("UPDATE pipeline_dead_letters SET kind = 'oops'");
  auto r = dlq.read(0, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("oops"));
}

TEST_F(sqlite_stores, a_checkpoint_edited_to_version_zero_is_a_permanent_error_not_a_fresh_start) {
  auto store = checkpoint_store::open(db_).value();
  ASSERT_TRUE(store.save("k", pipeline::position::from_integer(7), 0));
  raw_.exec("UPDATE pipeline_checkpoints SET version = 0");
  auto cp = store.load("k");
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().kind, pipeline::error_kind::permanent);
}

TEST_F(sqlite_stores, a_conflict_names_the_stored_version) {
  auto store = checkpoint_store::open(db_).value();
  ASSERT_TRUE(store.save("k", pipeline::position::from_integer(1), 0));
  ASSERT_TRUE(store.save("k", pipeline::position::from_integer(2), 1));
  auto stale = store.save("k", pipeline::position::from_integer(3), 1);
  ASSERT_FALSE(stale);
  EXPECT_THAT(stale.error().message, ::testing::HasSubstr("at version 2, not 1"));
}

TEST_F(sqlite_stores, job_run_times_are_kept_to_the_microsecond) {
  auto log = job_log::open(db_).value();
  pipeline::job_run run;
  run.job = "j";
  run.created = std::chrono::system_clock::time_point{1'790'000'000s + 123'456'789ns};
  run.id = log.create(run).value();
  EXPECT_EQ(log.runs("j", 1)->front().created, std::chrono::system_clock::time_point{1'790'000'000s + 123'456us});
  EXPECT_EQ(raw_.scalar("SELECT created FROM pipeline_job_runs").get<std::string>(), "2026-09-21T14:13:20.123456Z");
}

TEST_F(sqlite_stores, jobs_are_the_names_with_runs_each_once_in_name_order) {
  auto log = job_log::open(db_).value();
  EXPECT_THAT(log.jobs().value(), ::testing::IsEmpty());
  for (const auto* job : {"reports/2026-05", "listings", "reports/2026-05"}) {
    pipeline::job_run run;
    run.job = job;
    (void)log.create(run).value();
  }
  EXPECT_THAT(log.jobs().value(), ::testing::ElementsAre("listings", "reports/2026-05"));
}

TEST_F(sqlite_stores, checkpoint_keys_are_the_keys_saved_in_order) {
  auto store = checkpoint_store::open(db_).value();
  EXPECT_THAT(store.keys().value(), ::testing::IsEmpty());
  for (const auto* key : {"reports/2026-05", "listings/p0", "listings/p1"}) {
    (void)store.save(key, pipeline::position::from_integer(1), 0).value();
  }
  (void)store.save("listings/p0", pipeline::position::from_integer(2), 1).value();
  EXPECT_THAT(store.keys().value(), ::testing::ElementsAre("listings/p0", "listings/p1", "reports/2026-05"));
}

TEST_F(sqlite_stores, copies_of_a_checkpoint_store_held_as_basic_checkpoint_store_share_the_table) {
  pipeline::test::expect_copies_share_one_store(checkpoint_store::open(db_).value(), "orders/p3");
}

// The lease logic of the core, on runs kept in sqlite: a run whose process died is found and
// marked on the next start.
TEST_F(sqlite_stores, begin_run_marks_a_run_whose_lease_ran_out_crashed) {
  auto log = job_log::open(db_).value();
  const auto t0 = std::chrono::system_clock::time_point{1'790'000'000s};
  auto dead = pipeline::begin_run(log, "nightly", {.lease = 30s, .owner = "host-a:1"}, t0).value();
  auto next = pipeline::begin_run(log, "nightly", {.lease = 30s, .owner = "host-b:2"}, t0 + 60s).value();
  auto runs = log.runs("nightly", 10).value();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, next.id);
  EXPECT_EQ(runs[0].state, pipeline::run_state::running);
  EXPECT_EQ(runs[1].id, dead.id);
  EXPECT_EQ(runs[1].state, pipeline::run_state::crashed);
  EXPECT_THAT(runs[1].message, ::testing::HasSubstr("host-a:1"));
}

}  // namespace
