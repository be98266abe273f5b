// pipeline::run end to end on sqlite: a source of records through a transform into an upsert
// table sink, with the checkpoint, the dead letters and the job log in the same database.
#include <pipeline/any_job_log_store.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sqlite/sqlite_test_support.hpp"

namespace {

using pipeline::record;

constexpr std::int64_t item_count = 300;
const std::set<std::int64_t> bad_ids{13, 77, 150, 299};  // a negative price: the table's CHECK refuses them

auto items() -> std::vector<record> {
  std::vector<record> out;
  for (std::int64_t id = 0; id < item_count; ++id) {
    out.push_back({{"id", id}, {"price", bad_ids.contains(id) ? -1 : id * 10}});
  }
  return out;
}

// The transform: a label made from the id.
auto labelled(const record& r) -> pipeline::result<record> {
  record out = r;
  out.set("label", fmt::format("item-{}", r.find("id")->get<std::int64_t>()));
  return out;
}

class sqlite_runner : public ::testing::Test {
 protected:
  void SetUp() override {
    raw_.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, price INTEGER CHECK (price >= 0), label TEXT)");
    sink_.emplace(pipeline::sqlite::table_sink::open(db_, {.table = "items",
                                                           .columns = {"id", "price", "label"},
                                                           .mode = pipeline::sqlite::write_mode::upsert,
                                                           .key_columns = {"id"},
                                                           .update_columns = {"price", "label"}})
                      .value());
  }

  auto run_once() -> pipeline::run_report {
    pipeline::vector_source<record> source{items(), 16};
    pipeline::any_job_log_store log{std::ref(log_)};
    pipeline::runner_options options;
    options.name = "items";
    options.workers = 4;
    options.checkpoint_interval = std::chrono::milliseconds{0};
    options.retry.initial = std::chrono::milliseconds{1};
    options.job_log = &log;
    return pipeline::run(source, labelled, *sink_, dlq_, checkpoints_, options);
  }

  sqlite_test::temp_database_file file_;
  sqlite_test::raw_connection raw_{file_.path()};
  std::shared_ptr<pipeline::sqlite::database> db_ = file_.open();
  std::optional<pipeline::sqlite::table_sink> sink_;  // made in SetUp, once its table exists
  pipeline::sqlite::checkpoint_store checkpoints_ = pipeline::sqlite::checkpoint_store::open(db_).value();
  pipeline::sqlite::dead_letter_table dlq_ = pipeline::sqlite::dead_letter_table::open(db_).value();
  pipeline::sqlite::job_log log_ = pipeline::sqlite::job_log::open(db_).value();
};

TEST_F(sqlite_runner, every_good_row_lands_once_the_bad_ones_in_the_dlq_and_a_rerun_reads_nothing) {
  const auto first = run_once();
  ASSERT_EQ(first.status, pipeline::run_status::completed) << (first.failure ? first.failure->message : "");
  EXPECT_EQ(first.read, std::uint64_t{item_count});
  EXPECT_EQ(first.written, item_count - bad_ids.size());
  EXPECT_EQ(first.dead_lettered, bad_ids.size());

  // Every good row exactly once, transformed.
  const auto rows = raw_.rows("SELECT id, price, label FROM items ORDER BY id");
  std::vector<record> expected;
  for (std::int64_t id = 0; id < item_count; ++id) {
    if (!bad_ids.contains(id)) expected.push_back({{"id", id}, {"price", id * 10}, {"label", fmt::format("item-{}", id)}});
  }
  EXPECT_EQ(rows, expected);

  // The bad ones in the DLQ, with sqlite's reason.
  auto letters = dlq_.read(0, 100).value();
  ASSERT_EQ(letters.size(), bad_ids.size());
  std::set<std::string> payloads;
  for (const auto& [id, letter] : letters) {
    EXPECT_EQ(letter.reason.kind, pipeline::error_kind::permanent);
    EXPECT_EQ(letter.reason.native_code, SQLITE_CONSTRAINT_CHECK);
    EXPECT_EQ(letter.reason.backend, "sqlite");
    EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("CHECK constraint failed"));
    payloads.insert(letter.payload);
  }
  for (auto id : bad_ids) {
    EXPECT_THAT(payloads, ::testing::Contains(::testing::HasSubstr(fmt::format("id: {},", id))));
  }

  // The checkpoint at the end.
  EXPECT_EQ(checkpoints_.load("items")->pos, pipeline::position::from_integer(item_count));

  // A second run with the same stores resumes after the end: nothing more to read or write.
  const auto second = run_once();
  EXPECT_EQ(second.status, pipeline::run_status::completed);
  EXPECT_EQ(second.read, 0u);
  EXPECT_EQ(raw_.rows("SELECT id, price, label FROM items ORDER BY id"), expected);
  EXPECT_EQ(dlq_.read(0, 100)->size(), bad_ids.size());

  // Both runs are in the job log, completed, newest first.
  auto runs = log_.runs("items", 10).value();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, second.job_run_id);
  EXPECT_EQ(runs[1].id, first.job_run_id);
  for (const auto& r : runs) EXPECT_EQ(r.state, pipeline::run_state::completed);
  EXPECT_EQ(runs[1].written, item_count - bad_ids.size());
}

// Commits in the write-ahead log of the database at `path`: frames of the log's current
// generation (its salts) that end a transaction (a non-zero database size). Good while the log
// has not been checkpointed and restarted (under 1000 pages).
auto wal_commits(const std::string& path) -> int {
  std::ifstream wal{path + "-wal", std::ios::binary};
  const auto u32 = [](const std::array<unsigned char, 32>& b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
           std::uint32_t{b[at + 3]};
  };
  std::array<unsigned char, 32> header{};
  if (!wal.read(reinterpret_cast<char*>(header.data()), 32)) return 0;
  const auto page_size = u32(header, 8);
  const auto salt1 = u32(header, 16);
  const auto salt2 = u32(header, 20);
  int commits = 0;
  std::array<unsigned char, 32> frame{};
  while (wal.read(reinterpret_cast<char*>(frame.data()), 24)) {
    if (u32(frame, 8) != salt1 || u32(frame, 12) != salt2) break;
    if (u32(frame, 4) != 0) ++commits;
    wal.seekg(page_size, std::ios::cur);
  }
  return commits;
}

// One load of 300 records in batches of 16, where the transform refuses one record of each
// batch: the commits it made, and what it left in the table and the DLQ. The DLQ is on the
// sink's database object, or on a second one opened on the same file.
struct letters_load {
  int commits = 0;
  pipeline::run_report report;
  std::int64_t rows = 0;
  std::int64_t letters = 0;
};

auto load_with_a_letter_per_batch(bool dlq_on_the_sinks_database) -> letters_load {
  sqlite_test::temp_database_file file;
  sqlite_test::raw_connection raw{file.path()};
  raw.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, price INTEGER, label TEXT)");
  auto db = file.open();
  auto dlq_db = dlq_on_the_sinks_database ? db : file.open();
  auto sink = pipeline::sqlite::table_sink::open(db, {.table = "items",
                                                      .columns = {"id", "price", "label"},
                                                      .mode = pipeline::sqlite::write_mode::upsert,
                                                      .key_columns = {"id"},
                                                      .update_columns = {"price", "label"}})
                  .value();
  auto checkpoints = pipeline::sqlite::checkpoint_store::open(db).value();
  auto dlq = pipeline::sqlite::dead_letter_table::open(dlq_db).value();
  EXPECT_EQ(sink.shares_transactions_with(dlq), dlq_on_the_sinks_database);
  const auto refuse_fifth = [](const record& r) -> pipeline::result<record> {
    if (r.find("id")->get<std::int64_t>() % 16 == 5) return pipeline::invalid_input_error("the fifth of its batch");
    return labelled(r);
  };
  pipeline::vector_source<record> source{items(), 16};
  pipeline::runner_options options;
  options.name = "items";
  options.workers = 2;
  options.checkpoint_interval = std::chrono::hours{1};  // saved once, at the end
  letters_load load;
  const auto before = wal_commits(file.path());
  load.report = pipeline::run(source, refuse_fifth, sink, dlq, checkpoints, options);
  load.commits = wal_commits(file.path()) - before;
  load.rows = raw.scalar("SELECT COUNT(*) FROM items").get<std::int64_t>();
  load.letters = raw.scalar("SELECT COUNT(*) FROM pipeline_dead_letters").get<std::int64_t>();
  return load;
}

TEST(sqlite_runner_letters, a_batch_commits_its_dead_letters_with_its_rows_once_the_dlq_shares_the_database) {
  const auto shared = load_with_a_letter_per_batch(true);
  const auto apart = load_with_a_letter_per_batch(false);
  constexpr std::int64_t batches = (item_count + 15) / 16;  // each with one letter
  for (const auto* load : {&shared, &apart}) {
    ASSERT_EQ(load->report.status, pipeline::run_status::completed);
    EXPECT_EQ(load->report.dead_lettered, std::uint64_t{batches});
    EXPECT_EQ(load->rows, item_count - batches);
    EXPECT_EQ(load->letters, batches);
  }
  // Apart: each batch commits its rows, then its letters. Shared: one commit for both; the
  // rest (the lease, the checkpoint at the end) is the same in both.
  EXPECT_EQ(apart.commits - shared.commits, batches);
  EXPECT_GE(shared.commits, batches);
}

}  // namespace
