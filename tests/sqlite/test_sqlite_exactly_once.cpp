// Exactly-once mode on sqlite: a plain INSERT into a table with no unique key, through the
// table sink's batch ledger. Runs crash (as a kill -9 does: tests/support/crash_point.hpp) or
// stop at chosen moments and are rerun, with the same or other batch sizes and worker
// counts; at the end every good row is in the table once and every bad one in the DLQ once.
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sqlite/sqlite_test_support.hpp"
#include "support/crash_point.hpp"

namespace {

using pipeline::record;

constexpr std::int64_t order_count = 5000;

auto is_bad(std::int64_t id) -> bool { return id % 97 == 96; }  // a negative amount: the CHECK refuses it

auto orders() -> std::vector<record> {
  std::vector<record> out;
  for (std::int64_t id = 0; id < order_count; ++id) out.push_back({{"id", id}, {"amount", is_bad(id) ? -1 : id}});
  return out;
}

// Holds some batches a little, so that other workers commit the ones after them first.
auto uneven(const record& r) -> pipeline::result<record> {
  if (r.find("id")->get<std::int64_t>() % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds{2});
  return r;
}

class sqlite_exactly_once : public ::testing::Test {
 protected:
  using attempt = test_support::crash_attempt;

  void SetUp() override {
    raw_.exec("CREATE TABLE orders (id INTEGER, amount INTEGER CHECK (amount >= 0))");  // no unique key
    sink_.emplace(pipeline::sqlite::table_sink::open(db_, {.table = "orders", .columns = {"id", "amount"}}).value());
  }

  auto run(const attempt& a, std::stop_token stop = {}) -> pipeline::run_report {
    return test_support::run_until_crash(a, orders(), uneven, *sink_, checkpoints_, dlq_, "orders", stop);
  }

  // Count and set equality: each good id once in the table, each bad one once in the DLQ.
  void expect_exactly_once() {
    std::vector<std::int64_t> ids;
    for (const auto& r : raw_.rows("SELECT id FROM orders ORDER BY id")) ids.push_back(r.find("id")->get<std::int64_t>());
    std::vector<std::int64_t> good;
    std::int64_t bad = 0;
    for (std::int64_t id = 0; id < order_count; ++id) {
      if (is_bad(id)) ++bad;
      else good.push_back(id);
    }
    EXPECT_EQ(ids.size(), good.size()) << "rows in the table";
    EXPECT_EQ(ids, good);
    EXPECT_EQ(raw_.scalar("SELECT COUNT(*) FROM pipeline_dead_letters").get<std::int64_t>(), bad);
    EXPECT_EQ(raw_.scalar("SELECT COUNT(DISTINCT position) FROM pipeline_dead_letters").get<std::int64_t>(), bad);
    EXPECT_EQ(raw_.scalar("SELECT COUNT(*) FROM pipeline_batches").get<std::int64_t>(), 0) << "the ledger is forgotten";
  }

  sqlite_test::temp_database_file file_;
  sqlite_test::raw_connection raw_{file_.path()};
  std::shared_ptr<pipeline::sqlite::database> db_ = file_.open();
  std::optional<pipeline::sqlite::table_sink> sink_;
  pipeline::sqlite::checkpoint_store checkpoints_ = pipeline::sqlite::checkpoint_store::open(db_).value();
  pipeline::sqlite::dead_letter_table dlq_ = pipeline::sqlite::dead_letter_table::open(db_).value();
};

TEST_F(sqlite_exactly_once, ten_crashes_and_reruns_of_one_shape_write_each_row_once) {
  std::uint64_t skipped = 0;
  for (long commits : {30L, 7L, 55L, 12L, 80L, 41L, 3L, 66L, 20L, 90L}) {
    const auto report = run({16, 4, commits});
    ASSERT_EQ(report.status, pipeline::run_status::failed);
    skipped += report.skipped;
  }
  const auto last = run({16, 4, -1});
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  skipped += last.skipped;
  expect_exactly_once();
  EXPECT_GT(skipped, 0U) << "the crashes left committed batches above the checkpoint";
}

TEST_F(sqlite_exactly_once, reruns_with_other_batch_sizes_and_workers_write_each_row_once) {
  for (const auto& a : std::vector<attempt>{{16, 4, 30}, {7, 2, 50}, {40, 3, 10}, {5, 1, 60}, {23, 4, 25}}) {
    const auto report = run(a);
    ASSERT_EQ(report.status, pipeline::run_status::failed) << (report.failure ? report.failure->message : "");
  }
  const auto last = run({11, 3, -1});
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  expect_exactly_once();
}

TEST_F(sqlite_exactly_once, a_stop_leaves_nothing_to_redo) {
  for (int round = 0; round < 5; ++round) {
    const auto report = test_support::run_stopped_after(std::chrono::milliseconds{20},
                                                        [&](std::stop_token stop) { return run({16, 4, -1}, stop); });
    ASSERT_NE(report.status, pipeline::run_status::failed) << (report.failure ? report.failure->message : "");
  }
  const auto last = run({16, 4, -1});
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  expect_exactly_once();
}

}  // namespace

namespace {

TEST_F(sqlite_exactly_once, only_the_modes_that_would_add_again_use_the_ledger) {
  using pipeline::sqlite::write_mode;
  raw_.exec("CREATE TABLE counts (id INTEGER PRIMARY KEY, n INTEGER)");
  const auto sink = [&](pipeline::sqlite::table_sink_options options) {
    options.table = "counts";
    options.columns = {"id", "n"};
    return pipeline::sqlite::table_sink::open(db_, options).value();
  };
  EXPECT_TRUE(pipeline::is_transactional(sink({.mode = write_mode::insert})));
  EXPECT_FALSE(pipeline::is_transactional(sink({.mode = write_mode::insert_ignore})));
  EXPECT_FALSE(pipeline::is_transactional(
      sink({.mode = write_mode::upsert, .key_columns = {"id"}, .update_columns = {"n"}})));
  EXPECT_TRUE(pipeline::is_transactional(sink({.mode = write_mode::upsert, .key_columns = {"id"}, .add_columns = {"n"}})));
  EXPECT_EQ(raw_.scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'pipeline_batches'").get<std::int64_t>(), 0)
      << "the ledger table is made at the first ledger call, not at open";
}

}  // namespace
